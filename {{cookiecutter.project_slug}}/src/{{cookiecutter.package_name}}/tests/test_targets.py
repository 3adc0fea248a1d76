"""Targets a classifier cannot learn, and holdout labels unlike the training classes."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ..cli import main
from ..errors import DataError
from ..schema import CLASSIFICATION, infer_schema
from ..workflows import evaluate_artifact


def table(labels, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=len(labels)), "y": labels})


@pytest.mark.parametrize(
    "labels",
    [
        np.round(np.random.default_rng(1).gamma(2.0, 10.0, 300), 1),  # prices with cents
        np.random.default_rng(2).integers(10_000, 90_000, 300),  # whole dollars, mostly unique
    ],
)
def test_a_continuous_target_is_refused_for_classification_with_the_fix(labels):
    with pytest.raises(DataError) as raised:
        infer_schema(table(labels), "y", task=CLASSIFICATION)
    message = str(raised.value)
    assert message.startswith("target column 'y' holds continuous numbers (")
    assert "--task regression" in message and 'model.task = "regression"' in message


@pytest.mark.parametrize(
    "labels",
    [
        np.tile(np.arange(30), 10),  # 30 integer codes, each with ten rows
        np.tile([0.5, 1.0, 1.5, 2.0], 20),  # a few fractional ratings
        np.tile([f"c{i}" for i in range(60)], 2),  # text labels are always classes
    ],
)
def test_class_codes_stay_classes(labels):
    schema = infer_schema(table(labels), "y", task=CLASSIFICATION)
    assert len(schema.target.classes) == len(set(labels))


def test_the_cli_refuses_a_continuous_target_in_one_line(tmp_path):
    path = tmp_path / "boston.csv"
    table(np.round(np.random.default_rng(3).normal(22.5, 9.0, 200), 1)).to_csv(path, index=False)
    result = CliRunner().invoke(
        main, ["train", "--data", str(path), "--target", "y", "--task", "classification"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: target column 'y' holds continuous numbers")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_holdout_rows_of_a_class_never_seen_in_training_are_scored_as_errors(
    models, write_csv, caplog
):
    artifact = models.artifact("binary")
    frame = models.frame("binary", "holdout")
    frame.loc[frame.index[:10], "churned"] = 7
    run = evaluate_artifact(artifact, write_csv(frame))
    evaluation = run.evaluation
    assert evaluation.unseen_class_rows == 10 and evaluation.n_rows == len(frame)
    assert "10 of 200 rows are labelled with class(es) the model never saw" in evaluation.notes[0]
    assert any("never saw" in record.getMessage() for record in caplog.records)
    known = evaluate_artifact(artifact, write_csv(frame.iloc[10:], "known.csv")).evaluation
    # Accuracy counts the ten rows as errors; probability metrics leave them out.
    assert evaluation.metrics["accuracy"] == pytest.approx(known.metrics["accuracy"] * 190 / 200)
    assert evaluation.metrics["roc_auc"] == pytest.approx(known.metrics["roc_auc"])
    assert evaluation.metrics["log_loss"] == pytest.approx(known.metrics["log_loss"])

    result = CliRunner().invoke(
        main,
        [
            "-q",
            "validate",
            "--model",
            str(models.artifact_dir("binary")),
            "--data",
            str(write_csv(frame)),
        ],
    )
    assert result.exit_code in (0, 1) and "Traceback" not in result.output
    assert "NOTE 10 of 200 rows" in result.stdout


def test_a_multiclass_holdout_missing_a_class_is_scored_over_the_classes_present(
    models, write_csv, tmp_path
):
    frame = models.frame("multiclass", "holdout")
    without_gold = frame[frame["segment"] != "gold"]
    run = evaluate_artifact(
        models.artifact("multiclass"), write_csv(without_gold), output_dir=tmp_path / "report"
    )
    evaluation = run.evaluation
    assert evaluation.absent_classes == ("gold",)
    assert evaluation.metrics["roc_auc"] is not None
    assert evaluation.metrics["average_precision"] is not None
    assert not any("not reported" in line for line in run.gate.checks)
    assert "averages over the classes present" in evaluation.notes[0]
    card = (tmp_path / "report" / "model_card.md").read_text(encoding="utf-8")
    assert "- Note: 1 of the model's 3 classes have no row in this data (gold)" in card
