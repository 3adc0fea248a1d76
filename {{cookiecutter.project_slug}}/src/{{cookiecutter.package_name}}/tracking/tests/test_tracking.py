"""train and evaluate log MLflow runs; a store that fails costs a warning, never the model."""

from __future__ import annotations

import logging

import pytest

from ...artifact import MODEL_FILE, load_artifact, read_metadata
from ...workflows import evaluate_artifact, train_and_save
from ..observer import MlflowObserver


def test_train_logs_params_metrics_and_files_and_the_artifact_records_the_run(
    tracked, client, logged_files
):
    model = tracked[0]
    run = client.get_run(model.run_id)
    metadata = model.artifact.metadata
    assert run.info.status == "FINISHED"
    assert run.data.tags["kind"] == "train"
    params = run.data.params
    assert params["max_iter"] == "20"
    assert params["data_sha256"] == metadata.training.sha256
    assert params["model_version"] == metadata.model_version
    assert params["train_rows"] == str(metadata.training.rows)
    assert metadata.metrics is not None
    assert run.data.metrics["roc_auc"] == pytest.approx(metadata.metrics.holdout["roc_auc"])
    assert "baseline_roc_auc" in run.data.metrics
    assert {
        "model/metadata.json",
        "report/metrics.json",
        "report/model_card.md",
        "report/roc_curve.png",
        "report/confusion_matrix.png",
    } <= logged_files(model.run_id)


def test_each_training_is_its_own_run(tracked):
    assert tracked[0].run_id != tracked[1].run_id


def test_evaluate_logs_metrics_and_report_to_a_run_linked_to_training(
    tracked, store, client, logged_files, tmp_path
):
    model = tracked[0]
    observer = MlflowObserver(store)
    result = evaluate_artifact(model.artifact, output_dir=tmp_path / "report", observer=observer)
    assert observer.run_id is not None
    run = client.get_run(observer.run_id)
    assert run.data.tags["kind"] == "evaluate"
    assert run.data.tags["training_run"] == model.run_id
    assert run.data.params["data_sha256"] == result.evaluation.data_sha256
    assert run.data.metrics["quality_gate_passed"] == float(result.gate.passed)
    assert run.data.metrics["accuracy"] == pytest.approx(result.evaluation.metrics["accuracy"])
    assert {"report/metrics.json", "report/model_card.md"} <= logged_files(observer.run_id)


@pytest.mark.parametrize(
    "uri",
    ["bogus-scheme://nowhere", "sqlite:////proc/no-such-dir/mlruns.db", "uninstalled"],
    ids=["unknown-scheme", "unwritable-store", "mlflow-missing"],
)
def test_a_failing_store_warns_once_and_keeps_the_model(
    uri, data_config, tmp_path, monkeypatch, caplog
):
    if uri == "uninstalled":
        monkeypatch.setitem(__import__("sys").modules, "mlflow.tracking", None)
        uri = "sqlite:///unused.db"
    with caplog.at_level(logging.WARNING):
        artifact_dir = train_and_save(data_config, tmp_path / "models", MlflowObserver(uri))
    warnings = [r for r in caplog.records if "experiment tracking failed" in r.getMessage()]
    assert len(warnings) == 1, caplog.text
    assert (artifact_dir / MODEL_FILE).is_file()
    assert read_metadata(artifact_dir).run_id is None
    assert load_artifact(artifact_dir).metadata.training.rows > 0


def test_a_store_failing_mid_run_keeps_the_run_id_and_the_model(
    store, data_config, tmp_path, monkeypatch, caplog
):
    def refuse(self, directory, folder=""):
        raise PermissionError(13, "Permission denied", str(directory))

    monkeypatch.setattr(MlflowObserver, "log_files", refuse)
    observer = MlflowObserver(store)
    with caplog.at_level(logging.WARNING):
        artifact_dir = train_and_save(data_config, tmp_path / "models", observer)
    assert caplog.text.count("experiment tracking failed") == 1
    assert "Permission denied" in caplog.text
    assert read_metadata(artifact_dir).run_id == observer.run_id
