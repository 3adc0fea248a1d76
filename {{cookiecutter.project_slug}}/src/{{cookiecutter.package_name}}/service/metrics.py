"""Prometheus metrics of the service, correct under several gunicorn workers.

When ``PROMETHEUS_MULTIPROC_DIR`` is set (``run_gunicorn`` sets it before workers start),
each worker writes its samples to files there and ``/metrics`` adds up every worker's,
whichever worker answers the scrape. Facts about the model (version, age, readiness) are
computed at scrape time by the answering worker.

Every label value comes from a bounded set, whatever clients send: HTTP methods outside
the standard ones, statuses outside the HTTP ones, classes the model does not know and
features or skew kinds outside the schema are all counted as :data:`OTHER`. Recording a
metric never fails a request: a failure is logged (at most once a minute) and only that
sample is lost.
"""

from __future__ import annotations

import collections
import functools
import http
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Collection, Iterator
from typing import Any, TypeVar

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from . import MULTIPROCESS_ENV
from ..tasks import Predictions
from .served import ServedModel

logger = logging.getLogger(__name__)

NAMESPACE = __name__.partition(".")[0]
OTHER = "other"
"""The label value of everything outside a label's bounded set."""
HTTP_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
HTTP_STATUSES = frozenset(str(status.value) for status in http.HTTPStatus)
SKEW_KINDS = frozenset({"out_of_range", "unseen_category", "unexpected_missing"})
MAX_REASONS = 64
"""Distinct validation failure reasons counted by one worker; later ones count as other."""
FAILURE_LOG_INTERVAL = 60.0
_REASON = re.compile(r"[a-z][a-z0-9_]{0,63}")
_Observe = TypeVar("_Observe", bound=Callable[..., None])
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_SIZE_BUCKETS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0)
QUEUE_WAIT_BUCKETS = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
_FALLBACK_VALUE_BUCKETS = (-1000.0, -100.0, -10.0, -1.0, 0.0, 1.0, 10.0, 100.0, 1000.0)
_MEAN_MULTIPLES = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0)
_DIFFERENCE_FRACTIONS = (0.001, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0)


def _never_fails(observe: _Observe) -> _Observe:
    """Make a recording method log its failures instead of raising them."""

    @functools.wraps(observe)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            observe(*args, **kwargs)
        except Exception:
            _failures.report(observe.__name__)

    return guarded  # type: ignore[return-value]


class _FailureLog:
    """Log metric failures with their traceback, at most once per interval."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last: float | None = None
        self.suppressed = 0
        self.lock = threading.Lock()

    def report(self, what: str) -> None:
        now = time.monotonic()
        with self.lock:
            if self.last is not None and now - self.last < self.interval:
                self.suppressed += 1
                return
            suppressed, self.suppressed, self.last = self.suppressed, 0, now
        logger.error(
            "could not record metrics (%s); the request is answered anyway "
            "(%d more failures since the last message)",
            what,
            suppressed,
            exc_info=True,
        )


_failures = _FailureLog(FAILURE_LOG_INTERVAL)


class ServiceMetrics:
    """The service's metric objects, in a registry of their own.

    Parameters
    ----------
    model : ServedModel
        The served model, reported as ``<package>_model_info``, ``_model_age_seconds`` and
        ``_model_ready``. Classifiers count predictions per class; regressors observe the
        predicted values in a histogram.
    shadow : bool, default False
        Whether a candidate model scores beside the live one (:mod:`.shadow`): adds the
        ``shadow_*`` metrics comparing them.
    """

    def __init__(self, model: ServedModel, *, shadow: bool = False) -> None:
        self._model = _ModelCollector(model)
        schema = model.artifact.schema if model.artifact is not None else None
        self._features = frozenset(schema.feature_names if schema else ())
        self._classes = frozenset(map(str, schema.target.classes if schema else ()))
        self._reasons: set[str] = set()
        self._reasons_lock = threading.Lock()
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
        self.batch_size = self._histogram(
            "batch_size", "Requests scored together in one model call.", BATCH_SIZE_BUCKETS
        )
        self.batch_rows = self._histogram(
            "batch_rows", "Rows scored together in one model call.", BATCH_SIZE_BUCKETS
        )
        self.queue_wait = self._histogram(
            "batch_queue_wait_seconds",
            "Seconds a validated request waited before its batch was scored.",
            QUEUE_WAIT_BUCKETS,
        )
        self.skew = self._counter(
            "feature_skew",
            "Input values unlike the training data, by feature and kind "
            "(out_of_range, unseen_category, unexpected_missing).",
            ["feature", "kind"],
        )
        self.nonfinite = self._counter(
            "nonfinite_predictions",
            "Rows the model answered with NaN or infinity, refused with 500.",
            ["endpoint"],
        )
        self.shadow_rows: Counter | None = None
        self.shadow_failures: Counter | None = None
        self.shadow_skipped: Counter | None = None
        self.shadow_disagreements: Counter | None = None
        self.shadow_differences: Histogram | None = None
        if shadow:
            self._shadow_metrics(model)

    def _shadow_metrics(self, model: ServedModel) -> None:
        """The metrics comparing the candidate model with the live one."""
        self.shadow_rows = self._counter(
            "shadow_rows", "Rows scored by both the live and the candidate model.", []
        )
        self.shadow_failures = self._counter(
            "shadow_failures", "Rows the candidate model failed to score.", []
        )
        self.shadow_skipped = self._counter(
            "shadow_skipped",
            "Rows not given to the candidate model because it fell behind.",
            [],
        )
        if model.artifact is None or model.artifact.task.is_classification:
            self.shadow_disagreements = self._counter(
                "shadow_disagreements",
                "Rows the candidate model labels differently from the live one.",
                [],
            )
        else:
            mean = model.artifact.schema.target.mean
            self.shadow_differences = self._histogram(
                "shadow_absolute_difference",
                "Absolute difference between the candidate's and the live model's prediction.",
                difference_buckets(mean),
            )

    def _counter(self, name: str, documentation: str, labels: list[str]) -> Counter:
        return Counter(name, documentation, labels, namespace=NAMESPACE, registry=self.registry)

    def _histogram(self, name: str, documentation: str, buckets: tuple[float, ...]) -> Histogram:
        return Histogram(
            name, documentation, namespace=NAMESPACE, buckets=buckets, registry=self.registry
        )

    @_never_fails
    def observe_batch(self, requests: int, rows: int, waits: list[float]) -> None:
        """Record one model call of the micro-batcher: its requests, rows and queue waits."""
        self.batch_size.observe(requests)
        self.batch_rows.observe(rows)
        for seconds in waits:
            self.queue_wait.observe(seconds)

    @_never_fails
    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency.

        ``endpoint`` must come from a bounded set (the app's routes, or one value for
        unmatched paths); unknown methods and statuses are counted as :data:`OTHER`.
        """
        method = method if method in HTTP_METHODS else OTHER
        labels = (endpoint, method, _bounded(str(status), HTTP_STATUSES))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    @_never_fails
    def observe_scores(
        self,
        endpoint: str,
        predictions: Predictions,
        skew: dict[str, dict[str, int]] | None = None,
    ) -> None:
        """Count scored rows, the prediction distribution and training/serving skew.

        Parameters
        ----------
        endpoint : str
            ``predict`` or ``invocations``.
        predictions : Predictions
            What the model answered.
        skew : dict, optional
            Output of :meth:`~.Schema.skew` for the rows (see :meth:`observe_skew`).
        """
        labels = predictions.labels.tolist()
        self.predictions.labels(endpoint).inc(len(labels))
        if self.predicted_classes is not None:
            classes = self._classes or {str(label) for label in predictions.classes or ()}
            counts = collections.Counter(_bounded(str(label), classes) for label in labels)
            for label, count in counts.items():
                self.predicted_classes.labels(label).inc(count)
        if self.predicted_values is not None:
            for value in labels:
                self.predicted_values.observe(value)
        if skew:
            self.observe_skew(skew)

    @_never_fails
    def observe_skew(self, skew: dict[str, dict[str, int]]) -> None:
        """Count training/serving skew: the output of :meth:`~.Schema.skew` for scored rows.

        The service counts it once per model call (a batch of requests), not per request:
        the counts add up the same, at a fraction of the cost.
        """
        for feature, kinds in skew.items():
            for kind, count in kinds.items():
                labels = (_bounded(feature, self._features), _bounded(kind, SKEW_KINDS))
                self.skew.labels(*labels).inc(count)

    @_never_fails
    def observe_nonfinite(self, endpoint: str, rows: int) -> None:
        """Count rows the model answered with NaN or infinity (``predict`` or ``invocations``)."""
        self.nonfinite.labels(endpoint).inc(rows)

    @_never_fails
    def observe_shadow(self, live: Predictions, candidate: Predictions) -> None:
        """Record one batch scored by both models: rows, and how far they disagree."""
        if self.shadow_rows is None:
            return
        self.shadow_rows.inc(len(live.labels))
        if self.shadow_disagreements is not None:
            differ = np.asarray(live.labels) != np.asarray(candidate.labels)
            self.shadow_disagreements.inc(int(np.count_nonzero(differ)))
        if self.shadow_differences is not None:
            differences = np.abs(
                np.asarray(candidate.labels, dtype=float) - np.asarray(live.labels, dtype=float)
            )
            for difference in differences.tolist():
                self.shadow_differences.observe(difference)

    @_never_fails
    def observe_shadow_failure(self, rows: int) -> None:
        """Count rows the candidate model failed to score."""
        if self.shadow_failures is not None:
            self.shadow_failures.inc(rows)

    @_never_fails
    def observe_shadow_skipped(self, rows: int) -> None:
        """Count rows the candidate model skipped because it fell behind."""
        if self.shadow_skipped is not None:
            self.shadow_skipped.inc(rows)

    @_never_fails
    def observe_validation_failure(self, reason: str) -> None:
        """Count one prediction request refused because of its input.

        ``reason`` is the error code; past :data:`MAX_REASONS` distinct codes, or for one
        that is not snake_case, the request counts as :data:`OTHER`.
        """
        with self._reasons_lock:
            known = reason in self._reasons
            if not known and _REASON.fullmatch(reason) and len(self._reasons) < MAX_REASONS:
                self._reasons.add(reason)
                known = True
        self.validation_failures.labels(reason if known else OTHER).inc()

    def render(self) -> bytes:
        """The metrics in the Prometheus text format, from every worker in multiprocess mode."""
        directory = os.environ.get(MULTIPROCESS_ENV)
        if not directory:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        registry.register(self._model)
        return generate_latest(registry)


def _bounded(value: str, allowed: Collection[str]) -> str:
    return value if value in allowed else OTHER


def difference_buckets(mean: float | None) -> tuple[float, ...]:
    """Histogram buckets for differences between two models: fractions of the target's mean."""
    scale = abs(mean) if mean else 1.0
    return tuple(scale * fraction for fraction in _DIFFERENCE_FRACTIONS)


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
