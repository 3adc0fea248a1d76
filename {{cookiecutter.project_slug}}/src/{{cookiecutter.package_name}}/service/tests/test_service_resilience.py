"""Metrics stay bounded and never break a request; the metrics directory outlives workers."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ...tasks import Predictions
from .. import MULTIPROCESS_ENV, metrics
from ..metrics import HTTP_METHODS, HTTP_STATUSES, MAX_REASONS, OTHER, SKEW_KINDS

PACKAGE = __name__.partition(".")[0]
PREFIX = f"{PACKAGE}_"
HOSTILE_METHODS = ["FOOBAR", "PROPFIND", "X" * 20, "GET2", "BREW", "M-SEARCH", "PURGE"]
HOSTILE_PATHS = ["/", "/predict/../../etc/passwd", "/%00", "/" + "a" * 500, "/health/x"]


def series(client, name):
    """The label sets of every sample of metric ``name`` in ``/metrics``."""
    response = client.get("/metrics")
    assert response.status_code == 200
    return [
        sample.labels
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
        if sample.name == PREFIX + name
    ]


@pytest.fixture
def fresh(make_client):
    return make_client()


@pytest.fixture
def service(fresh):
    return fresh.application.extensions[PACKAGE]


def test_hostile_methods_and_paths_add_a_bounded_number_of_series(fresh):
    for method in HOSTILE_METHODS:
        for path in HOSTILE_PATHS + ["/health", "/predict"]:
            assert fresh.open(path, method=method).status_code in {404, 405}
    for path in HOSTILE_PATHS:
        assert fresh.get(path).status_code == 404
    labels = [
        (label["endpoint"], label["method"], label["status"])
        for label in series(fresh, "http_requests_total")
    ]
    assert sorted(labels) == [
        ("unmatched", "GET", "404"),
        ("unmatched", OTHER, "404"),
        ("unmatched", OTHER, "405"),
    ]


def test_statuses_outside_http_are_other(service, fresh):
    service.metrics.observe_request("/health", "GET", 799, 0.1)
    service.metrics.observe_request("/health", "get", 200, 0.1)
    statuses = {
        (label["method"], label["status"]) for label in series(fresh, "http_requests_total")
    }
    assert statuses == {("GET", OTHER), (OTHER, "200")}
    assert {"200", "404", "503"} <= HTTP_STATUSES


@pytest.mark.parametrize("task", ["classification"])
def test_predicted_classes_outside_the_models_are_other(service, fresh, artifact):
    known = artifact.schema.target.classes[0]
    labels = np.array([known, "invented", "another invented"], dtype=object)
    service.metrics.observe_scores("predict", Predictions(labels=labels), {})
    counts = {
        label["class"]: value
        for label, value in zip(
            series(fresh, "predicted_class_total"), _values(fresh, "predicted_class_total")
        )
    }
    assert counts == {str(known): 1.0, OTHER: 2.0}


@pytest.mark.parametrize("task", ["classification"])
def test_classes_come_from_the_predictions_when_the_schema_has_none(make_client, artifact):
    client = make_client()
    service = client.application.extensions[PACKAGE]
    service.metrics._classes = frozenset()
    predictions = Predictions(labels=np.array(["a", "z"]), classes=("a", "b"))
    service.metrics.observe_scores("predict", predictions, {})
    assert {label["class"] for label in series(client, "predicted_class_total")} == {"a", OTHER}


def test_skew_features_and_kinds_outside_the_schema_are_other(service, fresh, schema):
    feature = schema.feature_names[0]
    skew = {
        feature: {"out_of_range": 1, "made_up_kind": 2},
        "not_a_feature": {"unseen_category": 4},
    }
    labels = np.array([0.0])
    service.metrics.observe_scores("predict", Predictions(labels=labels), skew)
    found = {
        (label["feature"], label["kind"]): value
        for label, value in zip(
            series(fresh, "feature_skew_total"), _values(fresh, "feature_skew_total")
        )
    }
    assert found == {
        (feature, "out_of_range"): 1.0,
        (feature, OTHER): 2.0,
        (OTHER, "unseen_category"): 4.0,
    }
    assert "unexpected_missing" in SKEW_KINDS


def test_validation_failure_reasons_are_bounded(service, fresh):
    service.metrics.observe_validation_failure("invalid_json")
    service.metrics.observe_validation_failure("Not Snake Case")
    for number in range(MAX_REASONS + 5):
        service.metrics.observe_validation_failure(f"reason_{number}")
    reasons = [label["reason"] for label in series(fresh, "validation_failures_total")]
    assert len(reasons) == MAX_REASONS + 1
    assert "invalid_json" in reasons
    assert OTHER in reasons
    assert "Not Snake Case" not in reasons


def test_every_standard_method_is_its_own_label():
    assert {"GET", "POST", "HEAD", "OPTIONS"} <= HTTP_METHODS
    assert OTHER not in HTTP_METHODS


class _Broken:
    """A metric whose every sample fails, as when its file cannot be written."""

    def labels(self, *values):
        raise FileNotFoundError("metrics directory is gone")


def test_a_failing_metric_spares_health_and_predictions(
    service, fresh, instances, monkeypatch, caplog
):
    monkeypatch.setattr(metrics, "_failures", metrics._FailureLog(interval=60.0))
    monkeypatch.setattr(service.metrics, "requests", _Broken())
    monkeypatch.setattr(service.metrics, "predictions", _Broken())
    assert fresh.get("/health").status_code == 200
    assert fresh.post("/predict", json={"instances": instances}).status_code == 200
    assert fresh.post("/predict", json={"instances": []}).status_code == 422
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    # Logged once with its traceback, then quiet until the interval has passed.
    assert len(errors) == 1
    assert "could not record metrics" in errors[0].getMessage()
    assert errors[0].exc_info is not None


def test_failure_log_counts_what_it_kept_quiet(monkeypatch, caplog):
    log = metrics._FailureLog(interval=60.0)
    clock = iter([1000.0, 1001.0, 1002.0, 1061.0])
    monkeypatch.setattr(metrics.time, "monotonic", lambda: next(clock))
    for _ in range(4):
        try:
            raise OSError("disk full")
        except OSError:
            log.report("observe_request")
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "(0 more failures" in messages[0]
    assert "(2 more failures" in messages[1]


def test_a_missing_metrics_directory_fails_only_metrics(
    make_client, instances, monkeypatch, tmp_path
):
    monkeypatch.setenv(MULTIPROCESS_ENV, str(tmp_path / "deleted"))
    client = make_client()
    assert client.get("/metrics").status_code == 500
    assert client.get("/health").status_code == 200
    assert client.get("/ready").status_code == 200
    assert client.post("/predict", json={"instances": instances}).status_code == 200


def _values(client, name):
    response = client.get("/metrics")
    return [
        sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
        if sample.name == PREFIX + name
    ]


def test_a_forked_worker_leaving_never_removes_the_metrics_directory():
    # gunicorn workers are forks of the master and leave through SystemExit, unwinding
    # the master's stack: the directory must survive them and go with the master.
    code = f"""
import os, sys
os.environ.pop({MULTIPROCESS_ENV!r}, None)
from {PACKAGE}.service import server
with server._metrics_directory() as directory:
    worker = os.fork()
    if worker == 0:
        sys.exit(0)
    os.waitpid(worker, 0)
    print(os.path.isdir(directory), os.environ[{MULTIPROCESS_ENV!r}] == directory)
print(os.path.isdir(directory), {MULTIPROCESS_ENV!r} in os.environ)
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.split("\n") == ["True True", "False False", ""]


def test_the_owner_removes_the_metrics_directory_even_on_error(monkeypatch):
    monkeypatch.delenv(MULTIPROCESS_ENV, raising=False)
    from .. import server

    with pytest.raises(RuntimeError), server._metrics_directory() as directory:
        assert Path(directory).is_dir()
        raise RuntimeError("gunicorn failed to start")
    assert not Path(directory).exists()
    assert MULTIPROCESS_ENV not in os.environ


def test_marking_a_worker_dead_never_fails_the_master(monkeypatch, caplog):
    from types import SimpleNamespace

    from .. import server

    monkeypatch.delenv(MULTIPROCESS_ENV, raising=False)
    server._child_exit(None, SimpleNamespace(pid=4242))
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "4242" in record.getMessage()
