"""Monitoring in the service: non-finite answers refused, prediction log and feedback,
a candidate model in the shadow of the live one, and rollback to an older version."""

import copy
import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ...artifact import load_artifact
from ...config import Config, DataConfig, ModelConfig
from ...errors import ConfigError
from ...monitoring import monitor
from ...sample_data import TARGETS, make_customers
from ...workflows import train_and_save
from .. import served as served_module
from .. import server
from ..app import create_app
from ..cli import serve
from ..routes import EXTENSION
from .test_service_metrics import scrape, value

ROWS = 12


def _train(task, directory, max_iter, drop=()):
    """Train a small model of ``task`` into ``directory`` (a models dir); its artifact dir."""
    data = directory.parent / f"data-{max_iter}-{len(drop)}"
    data.mkdir(exist_ok=True)
    train, holdout = data / "train.csv", data / "holdout.csv"
    make_customers(300, seed=1, task=task).drop(columns=list(drop)).to_csv(train, index=False)
    make_customers(100, seed=2, task=task).drop(columns=list(drop)).to_csv(holdout, index=False)
    config = Config(
        data=DataConfig(train=train, holdout=holdout, target=TARGETS[task]),
        model=ModelConfig(task=task, random_state=0, params={"max_iter": max_iter}),
    )
    return train_and_save(config, directory)


@pytest.fixture(scope="module")
def versions(task, tmp_path_factory):
    """Two versions in one models dir: N-1 (a weak model) then N."""
    models = tmp_path_factory.mktemp("versions") / "models"
    older = _train(task, models, max_iter=2)
    newer = _train(task, models, max_iter=40)
    assert older.name < newer.name
    return older, newer


def in_process(path, instances):
    artifact = load_artifact(path)
    features = artifact.schema.validate_features(pd.DataFrame(instances))
    return artifact.task.predict(artifact.model, features)


# -- non-finite predictions ---------------------------------------------------------------


def broken(artifact, rows=(1,)):
    """A copy of ``artifact`` whose learner answers infinity for ``rows`` of each call."""
    model = copy.deepcopy(artifact.model)
    method = "predict_proba" if artifact.task.is_classification else "predict"
    original = getattr(model.learner_, method)

    def answer(encoded):
        result = np.array(original(encoded), dtype=float)
        result[[row for row in rows if row < len(result)]] = np.inf
        return result

    setattr(model.learner_, method, answer)
    return dataclasses.replace(artifact, model=model)


def test_non_finite_predictions_are_refused_and_counted(
    artifact, artifact_dir, instances, monkeypatch
):
    monkeypatch.setattr(served_module, "load_artifact", lambda path: broken(artifact))
    client = create_app(artifact_dir).test_client()
    assert client.get("/ready").status_code == 200, "one row passes the self-check"
    response = client.post("/predict", json={"instances": instances[:3]})
    assert response.status_code == 500
    error = response.get_json()["error"]
    assert error["code"] == "non_finite_predictions"
    assert "non-finite predictions" in error["message"] and "1 row(s)" in error["message"]
    assert error["details"] == {"rows": [2]}
    assert client.post("/predict", json=instances[0]).status_code == 200
    refused = client.post("/invocations", json={"dataframe_records": instances[:2]})
    assert refused.status_code == 500
    samples = scrape(client)
    assert value(samples, "nonfinite_predictions_total", endpoint="predict") == 1
    assert value(samples, "nonfinite_predictions_total", endpoint="invocations") == 1
    assert value(samples, "validation_failures_total", reason="non_finite_predictions") == 0


# -- prediction log and feedback ----------------------------------------------------------


def test_without_a_prediction_log_nothing_is_written(
    make_client, instances, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    client = make_client()
    answer = client.post("/predict", json={"instances": instances[:2]}).get_json()
    assert "prediction_ids" not in answer
    refused = client.post("/feedback", json={"id": "x:0", "label": 1})
    assert refused.status_code == 404
    assert refused.get_json()["error"]["code"] == "feedback_disabled"
    assert list(tmp_path.iterdir()) == []


def label_of(schema, row):
    """A valid label for the model: one of its classes, or a number."""
    classes = schema.target.classes
    return classes[row % len(classes)] if classes else 100.0 + row


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_predictions_are_logged_and_feedback_joins_them(
    make_client, artifact, artifact_dir, instances, tmp_path
):
    client = make_client(config={"PREDICTION_LOG_DIR": str(tmp_path / "log")})
    headers = {"X-Request-ID": "order-17"}
    answer = client.post("/predict", json={"instances": instances[:ROWS]}, headers=headers)
    assert answer.status_code == 200
    ids = answer.get_json()["prediction_ids"]
    assert ids == [f"order-17:{row}" for row in range(ROWS)]
    invoked = client.post("/invocations", json={"instances": instances[:2]})
    assert invoked.status_code == 200 and "prediction_ids" not in invoked.get_json()
    [log] = (tmp_path / "log").glob("predictions-*.jsonl")
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == ROWS + 2
    assert [line["id"] for line in lines[:ROWS]] == ids
    assert {line["model_version"] for line in lines} == {artifact.version}
    assert [line["prediction"] for line in lines[:ROWS]] == answer.get_json()["predictions"]
    assert ("probabilities" in lines[0]) == artifact.task.is_classification

    labels = [{"id": ids[row], "label": label_of(artifact.schema, row)} for row in range(5)]
    recorded = client.post("/feedback", json=labels)
    assert recorded.status_code == 200, recorded.get_json()
    assert recorded.get_json() == {"recorded": 5}
    assert (
        client.post(
            "/feedback", json={"id": "elsewhere:0", **{"label": labels[0]["label"]}}
        ).status_code
        == 200
    )
    report = monitor(tmp_path / "log", artifact_dir)
    assert report.counts["predictions"] == ROWS + 2
    assert report.counts["labelled"] == 5
    assert report.counts["unmatched_feedback"] == 1
    assert report.online and report.online.keys() == report.offline.keys()


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_feedback_is_validated_against_the_model(make_client, schema, tmp_path):
    client = make_client(config={"PREDICTION_LOG_DIR": str(tmp_path)})
    wrong = "not a class" if schema.target.classes else "12"
    bad_label = client.post("/feedback", json=[{"id": "a:0", "label": wrong}])
    assert bad_label.status_code == 422
    assert set(bad_label.get_json()["error"]["details"]["fields"]) == {"[0].label"}
    bad_id = client.post("/feedback", json={"id": "", "label": label_of(schema, 0)})
    assert bad_id.status_code == 422
    assert set(bad_id.get_json()["error"]["details"]["fields"]) == {"id"}
    for body, status in (({"id": "a:0"}, 400), ([], 422), ({"label": 1, "id": "a", "x": 2}, 400)):
        response = client.post("/feedback", json=body)
        assert response.status_code == status, body
    assert client.post("/feedback", data="a:0,1", content_type="text/csv").status_code == 415
    assert client.post("/feedback", data="{", content_type="application/json").status_code == 400
    assert not list(tmp_path.glob("feedback-*.jsonl")), "nothing refused is recorded"


# -- a candidate model in the shadow of the live one --------------------------------------


def test_candidate_scores_in_the_shadow_and_disagreement_is_exported(
    versions, instances, artifact
):
    older, newer = versions
    app = create_app(older, {"CANDIDATE_PATH": str(newer)})
    client = app.test_client()
    ready = client.get("/ready").get_json()
    assert ready["model_version"] == older.name and ready["candidate_version"] == newer.name
    answer = client.post("/predict", json={"instances": instances}).get_json()
    live, candidate = in_process(older, instances), in_process(newer, instances)
    assert answer["predictions"] == live.labels.tolist(), "clients get the live model's answer"
    app.extensions[EXTENSION].shadow.drain()
    samples = scrape(client)
    assert value(samples, "shadow_rows_total") == len(instances)
    if artifact.task.is_classification:
        differ = int(np.count_nonzero(live.labels != candidate.labels))
        assert value(samples, "shadow_disagreements_total") == differ
    else:
        differences = np.abs(candidate.labels - live.labels)
        assert value(samples, "shadow_absolute_difference_count") == len(instances)
        assert value(samples, "shadow_absolute_difference_sum") == pytest.approx(differences.sum())
        assert differences.sum() > 0


def test_a_failing_candidate_never_fails_the_request(versions, instances):
    older, newer = versions
    app = create_app(older, {"CANDIDATE_PATH": str(newer)})
    shadow = app.extensions[EXTENSION].shadow

    def fail(features):
        raise RuntimeError("the candidate is broken")

    shadow.candidate = dataclasses.replace(
        shadow.candidate, model=type("Broken", (), {"predict": fail, "predict_proba": fail})()
    )
    client = app.test_client()
    assert client.post("/predict", json={"instances": instances[:3]}).status_code == 200
    shadow.drain()
    samples = scrape(client)
    assert value(samples, "shadow_failures_total") == 3
    assert value(samples, "shadow_rows_total") == 0


def test_a_candidate_with_another_data_contract_is_refused_at_start(
    versions, task, tmp_path, monkeypatch
):
    older, _ = versions
    other = _train(task, tmp_path / "models", max_iter=5, drop=("age",))
    with pytest.raises(ConfigError, match="another data contract .*missing age"):
        create_app(older, {"CANDIDATE_PATH": str(other)})
    started = []
    monkeypatch.setattr(server, "run_gunicorn", lambda *args, **kwargs: started.append(args))
    result = CliRunner().invoke(serve, ["--model", str(older), "--candidate", str(other)])
    assert isinstance(result.exception, ConfigError), result.output
    assert "another data contract" in str(result.exception)
    assert len(str(result.exception).splitlines()) == 1
    assert not started, "refused before any worker starts"


# -- rollback -----------------------------------------------------------------------------


def test_rollback_serves_the_older_version_again(versions, instances):
    older, newer = versions
    assert load_artifact(newer).version == newer.name
    current = create_app(newer).test_client()
    assert current.get("/ready").get_json()["model_version"] == newer.name
    before = current.post("/predict", json={"instances": instances}).get_json()
    assert before["predictions"] == in_process(newer, instances).labels.tolist()

    rolled_back = create_app(older).test_client()  # a restart on N-1 from the same models dir
    assert rolled_back.get("/ready").get_json()["model_version"] == older.name
    assert rolled_back.get("/metadata").get_json()["version"] == older.name
    after = rolled_back.post("/predict", json={"instances": instances}).get_json()
    expected = in_process(older, instances)
    assert after["model_version"] == older.name
    assert after["predictions"] == expected.labels.tolist()
    assert after != {**before, "model_version": older.name}, "N-1 answers differently from N"
