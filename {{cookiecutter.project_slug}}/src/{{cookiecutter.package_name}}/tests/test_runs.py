"""Run observers: train and evaluate report their runs; a failing observer never fails them."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

from ..artifact import load_artifact, read_metadata
from ..config import load_config
from ..errors import ArtifactError
from ..metadata import ArtifactMetadata
from ..runs import RunObserver, observed_run
from ..tune import tune_and_write
from ..workflows import evaluate_artifact, train_and_save


class Recorder(RunObserver):
    """Keeps what it is told; ``fail_on`` names a method that raises instead."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.fail_on = fail_on
        self.calls: list[str] = []
        self.tags: dict = {}
        self.params: dict = {}
        self.metrics: dict = {}
        self.files: list = []
        self.ended: bool | None = None

    def _record(self, name: str) -> None:
        self.calls.append(name)
        if name == self.fail_on:
            raise ConnectionError("tracking server unreachable")

    def start(self, kind, tags):
        self._record("start")
        self.tags = {**tags, "kind": kind}
        return f"run-{kind}"

    def log_params(self, params):
        self._record("log_params")
        self.params.update(params)

    def log_metrics(self, metrics):
        self._record("log_metrics")
        self.metrics.update(metrics)

    def log_files(self, directory, folder=""):
        self._record("log_files")
        self.files += sorted(
            str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file()
        )

    def end(self, succeeded):
        self._record("end")
        self.ended = succeeded


def test_train_reports_params_metrics_and_files_and_records_the_run_id(models, tmp_path):
    recorder = Recorder()
    artifact_dir = train_and_save(models.config("binary"), tmp_path, recorder)
    metadata = read_metadata(artifact_dir)
    assert metadata.run_id == "run-train"
    assert recorder.tags == {"task": "classification", "kind": "train"}
    assert recorder.params["max_iter"] == 50
    assert recorder.params["data_sha256"] == metadata.training.sha256
    assert recorder.params["model_version"] == metadata.model_version
    assert metadata.metrics is not None
    assert recorder.metrics["roc_auc"] == metadata.metrics.holdout["roc_auc"]
    assert "baseline_roc_auc" in recorder.metrics
    assert {"model/metadata.json", "report/model_card.md", "report/roc_curve.png"} <= set(
        recorder.files
    )
    assert recorder.ended is True


def test_evaluate_reports_to_a_run_linked_to_the_training_run(models, tmp_path):
    artifact = load_artifact(train_and_save(models.config("regression"), tmp_path, Recorder()))
    recorder = Recorder()
    run = evaluate_artifact(artifact, output_dir=tmp_path / "report", observer=recorder)
    assert recorder.tags["training_run"] == "run-train"
    assert recorder.tags["kind"] == "evaluate"
    assert recorder.params["data_sha256"] == run.evaluation.data_sha256
    assert recorder.metrics["quality_gate_passed"] == float(run.gate.passed)
    assert recorder.metrics["r2"] == run.evaluation.metrics["r2"]
    assert "report/metrics.json" in [f"report/{name}" for name in recorder.files]


@pytest.mark.parametrize("fail_on", ["start", "log_params", "log_files", "end"])
def test_a_failing_observer_warns_once_and_the_model_is_saved(models, tmp_path, caplog, fail_on):
    recorder = Recorder(fail_on=fail_on)
    with caplog.at_level(logging.WARNING):
        artifact_dir = train_and_save(models.config("binary"), tmp_path, recorder)
    warnings = [r for r in caplog.records if "experiment tracking failed" in r.getMessage()]
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
    assert load_artifact(artifact_dir).metadata.run_id == (
        None if fail_on == "start" else "run-train"
    )
    assert recorder.calls.count(fail_on) == 1  # not called again after the failure
    if fail_on not in ("start", "end"):
        assert recorder.ended is False  # closed as failed: its record is incomplete


def test_metrics_that_are_missing_or_not_finite_are_not_reported():
    recorder = Recorder()
    with observed_run(recorder, "train") as run:
        run.log_metrics({"kept": 0.5, "missing": None, "nan": float("nan"), "inf": float("inf")})
    assert recorder.metrics == {"kept": 0.5}


def test_a_failing_block_ends_the_run_as_failed_and_propagates():
    recorder = Recorder()
    with pytest.raises(KeyError), observed_run(recorder, "train"):
        raise KeyError("boom")
    assert recorder.ended is False


def test_without_an_observer_nothing_is_tracked():
    with observed_run(None, "train") as run:
        assert not run.active and run.id is None


def test_metadata_written_before_run_ids_still_reads(binary):
    raw = json.loads(json.dumps(binary.metadata.to_dict()))
    raw.pop("run_id")
    assert ArtifactMetadata.from_dict(raw).run_id is None
    raw["run_id"] = 42
    with pytest.raises(ArtifactError, match="run_id must be a string"):
        ArtifactMetadata.from_dict(raw)


def test_tune_reports_the_search_to_a_run(tmp_path):
    rows = pd.DataFrame({"a": range(120), "b": [i % 7 for i in range(120)]})
    rows["y"] = (rows["a"] % 2 == 0).astype(int)
    rows.to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / "config.toml").write_text(
        '[data]\ntrain = "train.csv"\ntarget = "y"\n'
        '[model]\ntask = "classification"\n[model.params]\nmax_iter = 20\n'
        "[tune]\nn_iter = 2\ncv = 2\n",
        encoding="utf-8",
    )
    recorder = Recorder()
    result, table_path, tuned_path = tune_and_write(
        load_config(tmp_path / "config.toml"), tmp_path / "tune", observer=recorder
    )
    assert recorder.tags == {"task": "classification", "kind": "tune"}
    assert recorder.params["best_family"] == result.best_family
    assert recorder.params["scoring"] == result.scoring
    assert recorder.metrics == {f"cv_{family}": score for family, score in result.scores.items()}
    assert sorted(recorder.files) == sorted([table_path.name, tuned_path.name])
    assert recorder.ended is True
