"""``/metrics`` counts requests, predictions, refusals and skew, and describes the model."""

from __future__ import annotations

import collections
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .. import MULTIPROCESS_ENV
from ..metrics import ServiceMetrics, value_buckets

PREFIX = f"{__name__.partition('.')[0]}_"


def scrape(client):
    """Every sample of ``/metrics`` as ``{(name, frozenset(labels)): value}``."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {
        (sample.name.removeprefix(PREFIX), frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples, name):
    return sum(v for (sample_name, _), v in samples.items() if sample_name == name)


@pytest.fixture
def fresh(make_client):
    """A client of a new app, so counts start at zero."""
    return make_client()


def test_requests_and_latency_by_endpoint_method_and_status(fresh):
    fresh.get("/health")
    fresh.get("/health")
    fresh.get("/no/such/page")
    samples = scrape(fresh)
    ok = {"endpoint": "/health", "method": "GET", "status": "200"}
    assert value(samples, "http_requests_total", **ok) == 2
    assert value(samples, "http_request_duration_seconds_count", **ok) == 2
    assert value(samples, "http_request_duration_seconds_sum", **ok) > 0
    missing = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    assert value(samples, "http_requests_total", **missing) == 1


def predict_twice(client, instances):
    """Score ``instances`` through both prediction endpoints and scrape the metrics."""
    assert client.post("/predict", json={"instances": instances}).status_code == 200
    response = client.post("/invocations", json={"dataframe_records": instances})
    assert response.status_code == 200
    samples = scrape(client)
    assert value(samples, "predictions_total", endpoint="predict") == len(instances)
    assert value(samples, "predictions_total", endpoint="invocations") == len(instances)
    return samples


@pytest.mark.parametrize("task", ["classification"])
def test_classifier_predictions_are_counted_by_class(fresh, instances, expected):
    samples = predict_twice(fresh, instances)
    counts = collections.Counter(expected)
    assert len(counts) > 1, "the rows should get more than one class"
    for label, count in counts.items():
        assert value(samples, "predicted_class_total", **{"class": str(label)}) == 2 * count
    assert total(samples, "predicted_class_total") == 2 * len(expected)
    assert total(samples, "prediction_value_count") == 0


@pytest.mark.parametrize("task", ["regression"])
def test_regressor_predictions_are_observed_as_values(fresh, instances, expected):
    samples = predict_twice(fresh, instances)
    assert value(samples, "prediction_value_count") == 2 * len(expected)
    assert value(samples, "prediction_value_sum") == pytest.approx(2 * sum(expected))
    assert total(samples, "predicted_class_total") == 0


def test_validation_failures_by_reason(fresh, instances):
    fresh.post("/predict", json={"instances": []})
    fresh.post("/predict", json={"instances": [{"surprise": 1}]})
    fresh.post("/invocations", data="x", content_type="text/plain")
    fresh.get("/predict")
    samples = scrape(fresh)
    assert value(samples, "validation_failures_total", reason="empty_batch") == 1
    assert value(samples, "validation_failures_total", reason="invalid_features") == 1
    assert value(samples, "validation_failures_total", reason="unsupported_media_type") == 1
    assert total(samples, "validation_failures_total") == 3


def test_unavailable_model_is_not_a_validation_failure(make_client, tmp_path):
    client = make_client(model_path=tmp_path / "missing")
    assert client.post("/predict", json={}).status_code == 503
    assert total(scrape(client), "validation_failures_total") == 0


def test_skew_by_feature_and_kind(fresh, instances, schema):
    never_missing = next(s for s in schema.features if not s.nullable)
    others = [s for s in schema.features if s is not never_missing]
    numeric = next(s for s in others if s.kind == "numeric" and s.maximum is not None)
    categorical = next(s for s in others if s.kind == "categorical")
    instance = {
        **instances[0],
        numeric.name: numeric.maximum + 1000,
        categorical.name: "never-seen-in-training",
        never_missing.name: None,
    }
    response = fresh.post("/predict", json={"instances": [instance, instance]})
    assert response.status_code == 200
    samples = scrape(fresh)
    skew = "feature_skew_total"
    assert value(samples, skew, feature=numeric.name, kind="out_of_range") == 2
    assert value(samples, skew, feature=categorical.name, kind="unseen_category") == 2
    assert value(samples, skew, feature=never_missing.name, kind="unexpected_missing") == 2


def test_a_metrics_failure_is_logged_and_spares_the_response(
    fresh, instances, monkeypatch, caplog
):
    def broken(*args):
        raise RuntimeError("metrics are down")

    monkeypatch.setattr(ServiceMetrics, "observe_scores", broken)
    response = fresh.post("/predict", json=instances[0], headers={"X-Request-ID": "m-1"})
    assert response.status_code == 200
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.request_id == "m-1"
    assert "prediction metrics" in record.getMessage()


def test_model_gauges(client, artifact):
    samples = scrape(client)
    assert value(samples, "model_ready") == 1
    assert value(samples, "model_info", version=artifact.version) == 1
    assert value(samples, "model_age_seconds") > 0


def test_multiprocess_mode_reads_the_shared_directory(make_client, monkeypatch, tmp_path):
    monkeypatch.setenv(MULTIPROCESS_ENV, str(tmp_path))
    client = make_client()
    client.get("/health")
    samples = scrape(client)
    assert value(samples, "model_ready") == 1
    # Samples come from the workers' files (none in this single-process test).
    assert total(samples, "http_requests_total") == 0


@pytest.mark.parametrize(
    ("mean", "buckets"),
    [
        (100.0, (0.0, 25.0, 50.0, 75.0, 100.0, 125.0, 150.0, 200.0, 300.0, 500.0)),
        (-2.0, (-10.0, -6.0, -4.0, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0)),
        (None, (-1000.0, -100.0, -10.0, -1.0, 0.0, 1.0, 10.0, 100.0, 1000.0)),
        (0.0, (-1000.0, -100.0, -10.0, -1.0, 0.0, 1.0, 10.0, 100.0, 1000.0)),
    ],
)
def test_prediction_buckets_follow_the_training_mean(mean, buckets):
    assert value_buckets(mean) == buckets


@pytest.mark.parametrize("task", ["regression"])
def test_regressor_buckets_come_from_its_training_target(fresh, artifact):
    samples = scrape(fresh)
    bounds = sorted(
        float(dict(labels)["le"]) for name, labels in samples if name == "prediction_value_bucket"
    )
    assert bounds == [*value_buckets(artifact.schema.target.mean), float("inf")]
