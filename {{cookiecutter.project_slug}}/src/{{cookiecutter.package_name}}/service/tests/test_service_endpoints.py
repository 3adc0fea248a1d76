"""Every endpoint, answered by the Flask test client, agrees with the in-process model."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import uuid

import pytest

from ... import DISTRIBUTION
from ...config import TASK_KINDS
from ...errors import ConfigError
from .. import routes, served
from ..app import MODEL_PATH_ENV, create_app

SERVICE = __name__.rsplit(".", 2)[0]
PACKAGE = SERVICE.partition(".")[0]
ACCESS_LOGGER = f"{SERVICE}.access"


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_ready_names_the_model_version(client, artifact):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "model_version": artifact.version}


@pytest.mark.parametrize(
    ("task", "task_name", "model_class"),
    [
        ("classification", "binary", "TabularClassifier"),
        ("regression", "regression", "TabularRegressor"),
    ],
)
def test_metadata_describes_the_model(client, artifact, task_name, model_class):
    body = client.get("/metadata").get_json()
    assert body["version"] == artifact.version
    assert body["trained_at"] == artifact.metadata.created_at
    assert body["name"] == DISTRIBUTION
    assert body["model_class"] == model_class
    assert body["task"] == task_name
    assert body["metrics"] == dataclasses.asdict(artifact.metadata.metrics)
    assert set(body["metrics"]["holdout"]) == set(body["metrics"]["baseline"])
    assert body["versions"] == artifact.metadata.versions
    assert [f["name"] for f in body["schema"]["features"]] == artifact.schema.feature_names


def test_metadata_turns_non_finite_metrics_into_null(artifact_dir, tmp_path):
    copy = shutil.copytree(artifact_dir, tmp_path / artifact_dir.name)
    metadata_path = copy / "metadata.json"
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    metadata["metrics"] = {
        "holdout": {"score": float("nan"), "loss": float("inf"), "size": 1.5},
        "baseline": {"score": float("-inf")},
    }
    metadata_path.write_text(json.dumps(metadata), encoding="utf-8")
    response = create_app(copy).test_client().get("/metadata")
    assert response.status_code == 200
    assert response.get_json()["metrics"] == {
        "holdout": {"score": None, "loss": None, "size": 1.5},
        "baseline": {"score": None},
    }


@pytest.mark.parametrize("task", TASK_KINDS)
def test_predict_batch_matches_the_in_process_model(client, instances, expected, artifact):
    response = client.post("/predict", json={"instances": instances})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["predictions"] == expected
    assert body["model_version"] == artifact.version


@pytest.mark.parametrize("task", ["classification"])
def test_predict_returns_class_probabilities(client, instances, expected_probabilities):
    body = client.post("/predict", json={"instances": instances}).get_json()
    assert len(body["probabilities"]) == len(expected_probabilities)
    for answer, local in zip(body["probabilities"], expected_probabilities):
        assert answer == pytest.approx(local)
        assert sum(answer.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("task", ["regression"])
def test_regression_predictions_have_no_probabilities(client, instances):
    body = client.post("/predict", json={"instances": instances}).get_json()
    assert set(body) == {"predictions", "model_version"}
    assert all(isinstance(value, float) for value in body["predictions"])


def test_predict_accepts_a_single_instance(client, instances, expected):
    body = client.post("/predict", json=instances[0]).get_json()
    assert body["predictions"] == expected[:1]


def test_null_is_a_missing_value(client, instances):
    instance = {name: None for name in instances[0]}
    response = client.post("/predict", json={"instances": [instance]})
    assert response.status_code == 200
    assert len(response.get_json()["predictions"]) == 1


def _invocation_bodies(rows, instances):
    """Each MLflow request format for the same rows: (json, data, content type)."""
    columns = list(rows.columns)
    split = {"columns": columns, "data": [[row[c] for c in columns] for row in instances]}
    indexed = {**split, "index": list(range(100, 100 + len(instances)))}
    by_column = {c: [row[c] for row in instances] for c in columns}
    return {
        "dataframe_split": ({"dataframe_split": split}, None, None),
        "dataframe_split_with_index": ({"dataframe_split": indexed}, None, None),
        "dataframe_records": ({"dataframe_records": instances}, None, None),
        "instances": ({"instances": instances}, None, None),
        "inputs_columns": ({"inputs": by_column}, None, None),
        "inputs_records": ({"inputs": instances}, None, None),
        "csv": (None, rows.to_csv(index=False), "text/csv"),
    }


@pytest.mark.parametrize(
    "form",
    [
        "dataframe_split",
        "dataframe_split_with_index",
        "dataframe_records",
        "instances",
        "inputs_columns",
        "inputs_records",
        "csv",
    ],
)
def test_invocations_formats_match_the_in_process_model(client, rows, instances, expected, form):
    body, data, content_type = _invocation_bodies(rows, instances)[form]
    response = client.post("/invocations", json=body, data=data, content_type=content_type)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"predictions": expected}


def test_invocations_accepts_a_json_content_type_with_parameters(client, instances, expected):
    response = client.post(
        "/invocations",
        data=json.dumps({"dataframe_records": instances}),
        content_type="application/json; charset=utf-8",
    )
    assert response.get_json() == {"predictions": expected}


def test_openapi_document_is_served(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")


def test_request_id_is_echoed(client):
    response = client.get("/health", headers={"X-Request-ID": "abc-123.x:y_z"})
    assert response.headers["X-Request-ID"] == "abc-123.x:y_z"


@pytest.mark.parametrize("supplied", [None, "", "has spaces", "x" * 129, "semi;colon", "<b>"])
def test_missing_or_malformed_request_id_is_replaced(client, supplied):
    headers = {} if supplied is None else {"X-Request-ID": supplied}
    response = client.get("/health", headers=headers)
    assert uuid.UUID(response.headers["X-Request-ID"])


def test_one_access_log_line_per_request_without_the_payload(
    client, instances, categorical, artifact, caplog
):
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    marker = "payload-marker-7f3a"
    instance = {**instances[0], categorical: marker}
    response = client.post("/predict", json=instance, headers={"X-Request-ID": "r-1"})
    assert response.status_code == 200
    (record,) = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert record.request_id == "r-1"
    assert (record.method, record.path, record.status) == ("POST", "/predict", 200)
    assert record.latency_ms > 0
    assert record.model_version == artifact.version
    assert marker not in caplog.text


def test_unexpected_error_is_json_500_logged_with_the_request_id(
    client, instances, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(routes, "score_features", broken)
    response = client.post("/predict", json=instances[0], headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    error = response.get_json()["error"]
    assert error["code"] == "internal_error"
    assert "req-500" in error["message"] and "boom" not in json.dumps(error)
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.request_id == "req-500"
    assert record.exc_info is not None


@pytest.fixture
def unavailable(tmp_path):
    """A client of an app whose model directory does not exist."""
    return create_app(tmp_path / "missing").test_client()


def test_failed_model_keeps_the_process_alive_but_not_ready(unavailable):
    assert unavailable.get("/health").status_code == 200
    response = unavailable.get("/ready")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"
    assert "not found" in response.get_json()["reason"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/metadata"), ("post", "/predict"), ("post", "/invocations")],
)
def test_failed_model_answers_503_json(unavailable, method, path):
    response = getattr(unavailable, method)(path, json={})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "model_unavailable"


def test_failed_model_still_serves_openapi_and_metrics(unavailable):
    assert unavailable.get("/openapi.json").status_code == 200
    metrics = unavailable.get("/metrics").get_data(as_text=True)
    assert f"{PACKAGE}_model_ready 0.0" in metrics


def test_model_failing_its_self_check_is_not_ready(artifact_dir, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("cannot predict")

    monkeypatch.setattr(served, "score_rows", broken)
    response = create_app(artifact_dir).test_client().get("/ready")
    assert response.status_code == 503
    assert response.get_json()["reason"] == "cannot predict"


def test_model_path_comes_from_the_environment(artifact_dir, monkeypatch):
    monkeypatch.setenv(MODEL_PATH_ENV, str(artifact_dir))
    assert create_app().test_client().get("/ready").status_code == 200


def test_without_a_model_path_ready_names_the_variable(monkeypatch):
    monkeypatch.delenv(MODEL_PATH_ENV, raising=False)
    response = create_app().test_client().get("/ready")
    assert response.status_code == 503
    assert MODEL_PATH_ENV in response.get_json()["reason"]


def test_limits_come_from_the_environment(artifact_dir, instances, monkeypatch):
    monkeypatch.setenv(f"{PACKAGE.upper()}_MAX_BATCH_ROWS", "2")
    client = create_app(artifact_dir).test_client()
    assert client.post("/predict", json={"instances": instances[:2]}).status_code == 200
    assert client.post("/predict", json={"instances": instances[:3]}).status_code == 413


def test_debug_is_off_unless_asked(app):
    assert app.debug is False


@pytest.mark.parametrize("value", [0, -1, "many", True, 1.5])
@pytest.mark.parametrize("key", ["MAX_BATCH_ROWS", "MAX_CONTENT_LENGTH"])
def test_invalid_limits_are_refused(artifact_dir, key, value):
    with pytest.raises(ConfigError, match=key):
        create_app(artifact_dir, {key: value})
