"""Prometheus metrics of the service, correct under several gunicorn workers.

When ``PROMETHEUS_MULTIPROC_DIR`` is set (``run_gunicorn`` sets it before workers start),
each worker writes its samples to files there and ``/metrics`` adds up every worker's,
whichever worker answers the scrape. Facts about the model (version, age, readiness) are
computed at scrape time by the answering worker.
"""

from __future__ import annotations

import collections
import os
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from . import MULTIPROCESS_ENV
from ..tasks import Predictions
from .served import ServedModel

NAMESPACE = __name__.partition(".")[0]
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_FALLBACK_VALUE_BUCKETS = (-1000.0, -100.0, -10.0, -1.0, 0.0, 1.0, 10.0, 100.0, 1000.0)
_MEAN_MULTIPLES = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0)


class ServiceMetrics:
    """The service's metric objects, in a registry of their own.

    Parameters
    ----------
    model : ServedModel
        The served model, reported as ``<package>_model_info``, ``_model_age_seconds`` and
        ``_model_ready``. Classifiers count predictions per class; regressors observe the
        predicted values in a histogram.
    """

    def __init__(self, model: ServedModel) -> None:
        self._model = _ModelCollector(model)
        self.registry = CollectorRegistry()
        self.registry.register(self._model)
        labels = ["endpoint", "method", "status"]
        self.requests = self._counter("http_requests", "HTTP requests answered.", labels)
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, in seconds.",
            labels,
            namespace=NAMESPACE,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = self._counter("predictions", "Rows scored.", ["endpoint"])
        self.predicted_classes: Counter | None = None
        self.predicted_values: Histogram | None = None
        if model.artifact is None or model.artifact.task.is_classification:
            self.predicted_classes = self._counter(
                "predicted_class", "Rows predicted as each class.", ["class"]
            )
        else:
            self.predicted_values = Histogram(
                "prediction_value",
                "Distribution of the predicted values.",
                namespace=NAMESPACE,
                buckets=value_buckets(model.artifact.schema.target.mean),
                registry=self.registry,
            )
        self.validation_failures = self._counter(
            "validation_failures",
            "Prediction requests refused because of their input, by error code.",
            ["reason"],
        )
        self.skew = self._counter(
            "feature_skew",
            "Input values unlike the training data, by feature and kind "
            "(out_of_range, unseen_category, unexpected_missing).",
            ["feature", "kind"],
        )

    def _counter(self, name: str, documentation: str, labels: list[str]) -> Counter:
        return Counter(name, documentation, labels, namespace=NAMESPACE, registry=self.registry)

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        labels = (endpoint, method, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def observe_scores(
        self, endpoint: str, predictions: Predictions, skew: dict[str, dict[str, int]]
    ) -> None:
        """Count scored rows, the prediction distribution and training/serving skew.

        Parameters
        ----------
        endpoint : str
            ``predict`` or ``invocations``.
        predictions : Predictions
            What the model answered.
        skew : dict
            Output of :meth:`~.Schema.skew` for the rows.
        """
        labels = predictions.labels.tolist()
        self.predictions.labels(endpoint).inc(len(labels))
        if self.predicted_classes is not None:
            for label, count in collections.Counter(labels).items():
                self.predicted_classes.labels(str(label)).inc(count)
        if self.predicted_values is not None:
            for value in labels:
                self.predicted_values.observe(value)
        for feature, kinds in skew.items():
            for kind, count in kinds.items():
                self.skew.labels(feature, kind).inc(count)

    def observe_validation_failure(self, reason: str) -> None:
        """Count one prediction request refused because of its input."""
        self.validation_failures.labels(reason).inc()

    def render(self) -> bytes:
        """The metrics in the Prometheus text format, from every worker in multiprocess mode."""
        directory = os.environ.get(MULTIPROCESS_ENV)
        if not directory:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        registry.register(self._model)
        return generate_latest(registry)


def value_buckets(mean: float | None) -> tuple[float, ...]:
    """Histogram buckets for predicted values: multiples of the training target's mean."""
    if not mean:
        return _FALLBACK_VALUE_BUCKETS
    return tuple(sorted(mean * multiple for multiple in _MEAN_MULTIPLES))


class _ModelCollector:
    """Gauges describing the served model, computed when scraped."""

    def __init__(self, model: ServedModel) -> None:
        self.model = model
        self.created = model.artifact.metadata.created.timestamp() if model.artifact else None

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            f"{NAMESPACE}_model_ready",
            "1 when a model is loaded and passed its self-check, else 0.",
            value=float(self.model.ready),
        )
        if self.model.version is not None:
            info = GaugeMetricFamily(
                f"{NAMESPACE}_model_info",
                "The served model's version (always 1).",
                labels=["version"],
            )
            info.add_metric([self.model.version], 1.0)
            yield info
        if self.created is not None:
            yield GaugeMetricFamily(
                f"{NAMESPACE}_model_age_seconds",
                "Seconds since the served model was trained.",
                value=time.time() - self.created,
            )
