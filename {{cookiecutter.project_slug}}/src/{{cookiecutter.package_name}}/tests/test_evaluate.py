"""The evaluation report: metrics against a baseline, slices, plots and a model card."""

import dataclasses
import json

import numpy as np
import pytest

from ..config import QualityConfig
from ..data import file_sha256
from ..errors import DataError
from ..evaluate import evaluate
from ..importance import IMPORTANCE_FILE
from ..report import METRICS_FILE, MODEL_CARD_FILE, model_card
from ..report_html import HTML_FILE
from ..workflows import evaluate_artifact

METRIC_NAMES = {
    "binary": {"accuracy", "balanced_accuracy", "f1", "average_precision", "roc_auc", "log_loss"},
    "multiclass": {
        "accuracy",
        "balanced_accuracy",
        "f1",
        "average_precision",
        "roc_auc",
        "log_loss",
    },
    "regression": {"rmse", "mae", "r2"},
}


def test_report_files_hold_the_numbers_and_the_card_states_them(
    artifact, holdout_frame, task_name, task_config, tmp_path
):
    output = tmp_path / "report"
    run = evaluate_artifact(artifact, output_dir=output)
    plots = [plot.filename for plot in artifact.task.plots]
    assert sorted(p.name for p in output.iterdir()) == sorted(
        [METRICS_FILE, MODEL_CARD_FILE, HTML_FILE, IMPORTANCE_FILE, *plots]
    )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no staging left"

    written = json.loads((output / METRICS_FILE).read_text(encoding="utf-8"))
    assert set(written["metrics"]) == METRIC_NAMES[task_name]
    assert written["metrics"] == run.evaluation.metrics
    assert (
        written["task"] == task_name and written["primary_metric"] == artifact.task.primary_metric
    )
    assert written["n_rows"] == len(holdout_frame)
    assert written["data_sha256"] == file_sha256(task_config.data.holdout)
    assert written["gate"] == {"passed": True, "checks": list(run.gate.checks)}
    features, target = artifact.schema.split_training(holdout_frame)
    expected = artifact.task.metrics(target, artifact.task.predict(artifact.model, features))
    assert written["metrics"] == pytest.approx(expected)
    assert written["metrics"] == pytest.approx(artifact.metadata.metrics.holdout)
    for name in plots:
        assert (output / name).read_bytes().startswith(b"\x89PNG"), name

    card = (output / MODEL_CARD_FILE).read_text(encoding="utf-8")
    for heading in ["## Intended use", "## Holdout metrics", "## Slices", "## Versions"]:
        assert heading in card
    assert "## Quality gate\n\n**PASSED**" in card
    assert artifact.task.description in card
    assert artifact.metadata.training.sha256 in card
    name, value = next(iter(run.evaluation.metrics.items()))
    assert f"| {name} | {value:.4f} | {run.evaluation.baseline[name]:.4f} |" in card


def test_model_card_without_gate_or_slices(artifact, holdout_frame):
    evaluation = evaluate(artifact.model, artifact.schema, artifact.task, holdout_frame)
    card = model_card(evaluation, artifact.metadata, artifact.task, gate=None)
    assert "## Slices" not in card and "## Quality gate" not in card
    assert "SHA-256 `unknown`" in card and "\n\n\n" not in card


def test_slices_cover_every_value_of_each_slice_column(binary, binary_frames):
    holdout_frame = binary_frames[1]
    evaluation = evaluate_artifact(binary).evaluation
    assert set(evaluation.slices) == {"contract", "region"}
    contract = evaluation.slices["contract"]
    assert {group["value"] for group in contract} == set(holdout_frame["contract"].unique())
    assert sum(group["rows"] for group in contract) == len(holdout_frame)
    assert set(contract[0]["metrics"]) == METRIC_NAMES["binary"]


def test_numeric_slices_use_quartiles_and_missing_values_get_a_group(artifact, holdout_frame):
    evaluation = evaluate(
        artifact.model, artifact.schema, artifact.task, holdout_frame, ["tenure_months", "plan"]
    )
    groups = evaluation.slices["tenure_months"]
    assert len(groups) == 4
    assert sum(group["rows"] for group in groups) == len(holdout_frame)
    plan = {group["value"]: group["rows"] for group in evaluation.slices["plan"]}
    assert plan["(missing)"] == holdout_frame["plan"].isna().sum() > 0


def test_the_model_beats_the_baseline_it_is_compared_with(artifact, holdout_frame):
    evaluation = evaluate(artifact.model, artifact.schema, artifact.task, holdout_frame)
    primary = artifact.task.primary_metric
    assert evaluation.metrics[primary] > evaluation.baseline[primary]
    baseline = artifact.task.baseline(artifact.schema.target)
    predicted = baseline.predict(holdout_frame.head(3))
    target = artifact.schema.target
    if artifact.task.is_classification:
        counts = dict(zip(target.classes, target.class_counts))
        assert set(predicted) == {max(counts, key=counts.get)}
        assert evaluation.baseline["roc_auc"] == 0.5
    else:
        assert predicted.tolist() == [pytest.approx(target.mean)] * 3


def test_gate_thresholds_can_be_overridden(binary):
    run = evaluate_artifact(binary, thresholds=QualityConfig(minimum={"accuracy": 0.99}))
    assert not run.gate.passed and run.gate.failures[0].startswith("accuracy = ")


def test_evaluation_errors(artifact, holdout_frame, write_csv, tmp_path):
    schema, task = artifact.schema, artifact.task
    with pytest.raises(DataError, match="slice column.*nope"):
        evaluate(artifact.model, schema, task, holdout_frame, ["nope"])
    unlabelled = holdout_frame.assign(**{schema.target.name: np.nan})
    with pytest.raises(DataError, match="no labelled rows"):
        evaluate(artifact.model, schema, task, unlabelled)
    with pytest.raises(DataError, match="target column"):
        evaluate_artifact(artifact, write_csv(holdout_frame.drop(columns=[schema.target.name])))
    with pytest.raises(DataError, match="data file not found"):
        evaluate_artifact(artifact, tmp_path / "absent.csv")


def test_without_a_recorded_holdout_evaluation_needs_data(binary, caplog):
    settings = binary.metadata.settings
    metadata = dataclasses.replace(
        binary.metadata, settings=dataclasses.replace(settings, holdout=None)
    )
    no_holdout = dataclasses.replace(binary, metadata=metadata)
    with pytest.raises(DataError, match="no evaluation data"):
        evaluate_artifact(no_holdout)
    with_missing_slice = dataclasses.replace(
        binary,
        metadata=dataclasses.replace(
            binary.metadata,
            settings=dataclasses.replace(settings, slice_columns=("contract", "gone")),
        ),
    )
    run = evaluate_artifact(with_missing_slice)
    assert set(run.evaluation.slices) == {"contract"}
    assert "slice column 'gone' is not in the data" in caplog.text
