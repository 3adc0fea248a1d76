"""The default quality gate (beat the dummy on a metric that sees every class) and the
holdout that training splits off when none is configured, end to end through the CLI."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ..artifact import load_artifact
from ..cli import main
from ..config import QualityConfig
from ..errors import DataError
from ..quality import quality_gate
from ..tasks import BINARY, REGRESSION_TASK
from ..train import split_holdout
from ..workflows import HOLDOUT_FILE, evaluate_artifact

pytestmark = pytest.mark.usefixtures("in_tmp_dir")


def invoke(*args):
    return CliRunner().invoke(main, ["-q", *(str(arg) for arg in args)])


def rare_class_table(useful, rows=3000, seed=0):
    """99:1 labels; with ``useful`` the rare class is exactly the rows with the largest x."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": rng.normal(size=rows), "noise": rng.normal(size=rows)})
    rare = frame["x"] >= frame["x"].quantile(0.99) if useful else rng.random(rows) < 0.01
    frame["label"] = np.where(rare, "rare", "common")
    return frame


def train_own_csv(frame, *extra):
    frame.to_csv("own.csv", index=False)
    trained = invoke("train", "--data", "own.csv", "--target", "label", *extra)
    assert trained.exit_code == 0, trained.output
    return trained.stdout.strip()


def test_the_default_gate_fails_a_model_that_never_predicts_the_rare_class():
    artifact_dir = train_own_csv(rare_class_table(useful=False), "--task", "classification")
    validated = invoke("validate")
    assert validated.exit_code == 1, validated.output
    run = evaluate_artifact(load_artifact(artifact_dir))
    metrics, baseline = run.evaluation.metrics, run.evaluation.baseline
    # Accuracy looks excellent and equals the dummy's; the rare class is never predicted.
    assert metrics["accuracy"] == baseline["accuracy"] > 0.98
    assert metrics["f1"] == 0.0
    assert metrics["balanced_accuracy"] == baseline["balanced_accuracy"] == 0.5
    assert run.gate.failures == (
        "balanced_accuracy = 0.5000 vs dummy baseline 0.5000, "
        "required >= 0.5500 (margin 0.05, the default)",
    )
    assert "FAIL balanced_accuracy" in validated.stdout


def test_the_default_gate_passes_a_model_that_finds_the_rare_class():
    train_own_csv(rare_class_table(useful=True), "--task", "classification")
    validated = invoke("validate")
    assert validated.exit_code == 0, validated.output
    assert validated.stdout.splitlines()[0].startswith("PASS balanced_accuracy")
    assert len(validated.stdout.splitlines()) == 2, "no absolute thresholds by default"


def noisy_regression_table(rows=400, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": rng.normal(size=rows), "group": rng.choice(["a", "b"], rows)})
    frame["label"] = 10 * frame["x"] + rng.normal(scale=12, size=rows)
    return frame


def test_own_csv_trains_keeps_a_holdout_and_evaluates_and_validates_without_flags(in_tmp_dir):
    """A modest model (R² well below the sample's 0.75 floor) passes: it beats the dummy."""
    artifact_dir = in_tmp_dir / train_own_csv(noisy_regression_table(), "--task", "regression")
    saved = pd.read_csv(artifact_dir / HOLDOUT_FILE)
    assert len(saved) == 80, "20% of 400 rows"
    metadata = json.loads((artifact_dir / "metadata.json").read_text())
    assert metadata["training"]["rows"] == 320
    assert metadata["settings"]["holdout"] == HOLDOUT_FILE
    assert metadata["settings"]["quality"] == {
        "minimum": {},
        "maximum": {},
        "baseline_margin": None,
        "slices": {
            "min_rows": 30,
            "minimum": {},
            "maximum": {},
            "sensitive_columns": [],
            "max_gap": {},
        },
    }, "the bundled sample's thresholds are not inherited"

    evaluated = invoke("evaluate")
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads((in_tmp_dir / "reports" / artifact_dir.name / "metrics.json").read_text())
    assert report["n_rows"] == 80
    assert 0.2 < report["metrics"]["r2"] < 0.75
    validated = invoke("validate")
    assert validated.exit_code == 0, validated.output
    assert validated.stdout.splitlines()[0].startswith("PASS r2 = ")

    # The holdout travels with the artifact: a moved artifact still validates.
    moved = shutil.move(str(artifact_dir), in_tmp_dir / "elsewhere")
    assert invoke("validate", "--model", moved).exit_code == 0


def test_absolute_thresholds_apply_when_the_users_config_sets_them(in_tmp_dir):
    noisy_regression_table().to_csv("own.csv", index=False)
    (in_tmp_dir / "config.toml").write_text(
        "[data]\ntrain = 'own.csv'\ntarget = 'label'\n[model]\ntask = 'regression'\n"
        "[quality]\nminimum = { r2 = 0.9 }\n"
    )
    assert invoke("train", "--config", "config.toml").exit_code == 0
    validated = invoke("validate")
    assert validated.exit_code == 1
    assert "FAIL r2 = " in validated.stdout and "required >= 0.9" in validated.stdout


def test_own_csv_needs_a_target_and_the_bundled_target_is_not_assumed():
    noisy_regression_table().to_csv("own.csv", index=False)
    result = invoke("train", "--data", "own.csv")
    assert result.exit_code == 2 and "--target" in result.output


def test_the_task_default_margin_applies_unless_the_config_sets_one():
    metrics, baseline = {"r2": 0.04}, {"r2": 0.0}
    default = quality_gate(
        metrics, baseline, QualityConfig(), "r2", REGRESSION_TASK.baseline_margin
    )
    assert not default.passed and "(margin 0.05, the default)" in default.failures[0]
    configured = quality_gate(metrics, baseline, QualityConfig(baseline_margin=0.0), "r2", 0.05)
    assert configured.passed and configured.checks[0].endswith("(margin 0)")
    assert BINARY.primary_metric == "balanced_accuracy" and BINARY.baseline_margin > 0


def test_split_holdout_is_stratified_seeded_and_keeps_every_class_in_training():
    frame = pd.DataFrame(
        {"x": range(103), "y": ["a"] * 80 + ["b"] * 20 + ["c"] + [None] * 2}, index=range(103)
    )
    train, holdout = split_holdout(frame, "y", 0.25, stratify=True, random_state=3)
    assert holdout["y"].value_counts().to_dict() == {"a": 20, "b": 5}
    assert "c" in set(train["y"]) and train["y"].isna().sum() == 2
    assert sorted(train.index.tolist() + holdout.index.tolist()) == list(range(103))
    assert list(holdout.index) == sorted(holdout.index), "file order is kept"
    again = split_holdout(frame, "y", 0.25, stratify=True, random_state=3)[1]
    assert again.index.equals(holdout.index)
    other = split_holdout(frame, "y", 0.25, stratify=True, random_state=4)[1]
    assert not other.index.equals(holdout.index)
    with pytest.raises(DataError, match="data.holdout_fraction = 0"):
        split_holdout(frame, "y", 0.25, stratify=False, random_state=3, min_rows=90)
