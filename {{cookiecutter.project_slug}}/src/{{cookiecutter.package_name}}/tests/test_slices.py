"""Per-slice thresholds and the maximum gap between slices of sensitive columns: parsed from
``[quality.slices]``, recorded with the artifact and enforced by ``validate``; slices too
small to judge and metrics undefined on a slice are reported, never failed."""

import json
import shutil

import pytest
from click.testing import CliRunner

from ..artifact import METADATA_FILE, read_metadata
from ..cli import main
from ..config import QualityConfig, SliceThresholds, load_config
from ..errors import ConfigError
from ..quality import quality_gate
from ..report import model_card
from ..tasks import TASKS
from ..workflows import evaluate_artifact, train_and_save
from .test_config import VALID

METRICS = {"balanced_accuracy": 0.8, "roc_auc": 0.85}
BASELINE = {"balanced_accuracy": 0.5, "roc_auc": 0.5}


def group(value, rows, balanced_accuracy, roc_auc=0.8):
    return {
        "value": value,
        "rows": rows,
        "metrics": {"balanced_accuracy": balanced_accuracy, "roc_auc": roc_auc},
    }


SLICES = {
    "region": [group("north", 60, 0.82), group("south", 50, 0.64), group("east", 5, 0.1)],
    "plan": [group("basic", 80, 0.75, roc_auc=None), group("pro", 40, 0.70)],
}


def gate(slices=SLICES, **rules):
    quality = QualityConfig(slices=SliceThresholds(**rules))
    return quality_gate(METRICS, BASELINE, quality, "balanced_accuracy", 0.05, slices=slices)


def test_a_slice_below_its_minimum_fails_on_a_line_naming_column_value_metric_and_threshold():
    result = gate(minimum={"balanced_accuracy": 0.65})
    assert not result.passed
    assert result.failures == (
        "slice region = south: balanced_accuracy = 0.6400, required >= 0.65",
    )
    assert (
        "PASS slice region = north: balanced_accuracy = 0.8200, required >= 0.65" in result.checks
    )
    assert "PASS slice plan = pro: balanced_accuracy = 0.7000, required >= 0.65" in result.checks


def test_a_slice_above_its_maximum_fails():
    result = gate(maximum={"balanced_accuracy": 0.8})
    assert result.failures == (
        "slice region = north: balanced_accuracy = 0.8200, required <= 0.8",
    )


def test_a_tiny_slice_is_flagged_not_judged():
    result = gate(minimum={"balanced_accuracy": 0.6}, min_rows=30)
    assert result.passed, result.failures
    note = "slice region = east: 5 rows, too small to judge (min_rows 30)"
    assert result.notes == (note,)
    assert f"NOTE {note}" in result.checks
    assert not any("east: balanced_accuracy" in line for line in result.checks)


def test_a_metric_undefined_on_a_slice_is_reported_as_na_not_failed():
    result = gate(minimum={"roc_auc": 0.7})
    assert result.passed, result.failures
    assert "NOTE slice plan = basic: roc_auc = n/a (undefined on this slice), not judged" in (
        result.checks
    )


def test_the_gap_between_judged_slices_of_a_sensitive_column_is_bounded():
    # north 0.82 vs south 0.64; the 5-row east slice (0.1) is too small to count.
    breached = gate(sensitive_columns=("region",), max_gap={"balanced_accuracy": 0.1})
    assert breached.failures == (
        "slice gap region: balanced_accuracy = 0.1800 (north 0.8200 vs south 0.6400), "
        "required <= 0.1",
    )
    held = gate(sensitive_columns=("region",), max_gap={"balanced_accuracy": 0.2})
    assert held.passed and held.checks[-1].startswith("PASS slice gap region:")
    # Only sensitive columns are held to the gap; plan's slices are not judged at all.
    assert not any("plan" in line for line in breached.checks)


def test_a_gap_needs_two_judged_slices_and_is_otherwise_a_note():
    result = gate(sensitive_columns=("region",), max_gap={"balanced_accuracy": 0.1}, min_rows=55)
    assert result.passed
    assert result.notes[-1] == (
        "slice gap region: balanced_accuracy: fewer than two slices large enough with a value, "
        "not judged"
    )


def test_unknown_metrics_and_missing_sensitive_columns_fail_rather_than_pass_silently():
    result = gate(
        minimum={"balanced_acc": 0.5},
        sensitive_columns=("gender",),
        max_gap={"balanced_accuracy": 0.1},
    )
    assert result.failures == (
        "slices: balanced_acc is not reported, required >= 0.5",
        "slices of gender: sensitive column not in the evaluation data",
    )
    assert gate(sensitive_columns=("region",), max_gap={"gini": 0.1}).failures == (
        "slice gap region: gini is not reported, required gap <= 0.1",
    )


def test_without_slice_thresholds_the_gate_has_no_slice_lines():
    assert not any("slice" in line for line in gate().checks)


def test_slice_settings_are_parsed_and_checked(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        VALID + "[quality.slices]\nmin_rows = 10\nminimum = { r2 = 0.5 }\n"
        "sensitive_columns = ['region']\nmax_gap = { r2 = 0.2 }\n"
    )
    assert load_config(path).quality.slices == SliceThresholds(
        min_rows=10, minimum={"r2": 0.5}, sensitive_columns=("region",), max_gap={"r2": 0.2}
    )
    for body, message in [
        ("max_gap = { r2 = 0.2 }\n", "quality.slices.max_gap needs quality.slices.sensitive"),
        ("min_rows = 0\n", "quality.slices.min_rows must be at least 1"),
        ("minimum = { r2 = 'x' }\n", "quality.slices.minimum.r2 must be an integer or a number"),
        ("sensitive_columns = 'region'\n", "quality.slices.sensitive_columns must be a list"),
        ("gap = 1\n", "unknown key quality.slices.gap"),
    ]:
        path.write_text(VALID + "[quality.slices]\n" + body)
        with pytest.raises(ConfigError, match=message):
            load_config(path)


def test_the_bundled_config_judges_slices_of_a_sensitive_column(config):
    slices = config.quality.slices
    assert slices.active and slices.min_rows >= 20
    assert set(slices.sensitive_columns) <= set(config.data.slice_columns)
    assert set(slices.max_gap) and set(slices.minimum)


def with_slice_rules(artifact_dir, target, rules):
    """A copy of an artifact whose recorded quality settings judge slices by ``rules``."""
    copy = shutil.copytree(artifact_dir, target)
    raw = json.loads((copy / METADATA_FILE).read_text())
    raw["settings"]["quality"]["slices"] = rules
    (copy / METADATA_FILE).write_text(json.dumps(raw))
    return copy


def test_artifacts_without_slice_settings_still_load(artifact_dir, tmp_path):
    copy = shutil.copytree(artifact_dir, tmp_path / "old")
    raw = json.loads((copy / METADATA_FILE).read_text())
    del raw["settings"]["quality"]["slices"]
    (copy / METADATA_FILE).write_text(json.dumps(raw))
    assert read_metadata(copy).settings.quality.slices == SliceThresholds()


def test_slice_settings_travel_with_the_artifact(models, tmp_path):
    rules = SliceThresholds(min_rows=5, sensitive_columns=("region",), max_gap={"r2": 0.3})
    config = models.config("regression")
    config = config.with_overrides(quality__slices=rules)
    saved = read_metadata(train_and_save(config, tmp_path)).settings.quality
    assert saved.slices == rules


def invoke(*args):
    return CliRunner().invoke(main, ["-q", *(str(arg) for arg in args)])


@pytest.mark.usefixtures("restore_logging")
def test_validate_fails_on_a_slice_breach_and_names_it(artifact_dir, task_name, tmp_path):
    metric = TASKS[task_name].primary_metric
    copy = with_slice_rules(
        artifact_dir, tmp_path / "model", {"min_rows": 10, "minimum": {metric: 0.999}}
    )
    result = invoke("validate", "--model", copy)
    assert result.exit_code == 1, result.output
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL slice ")]
    assert failed and all(f": {metric} = " in line for line in failed)
    assert all(line.endswith("required >= 0.999") for line in failed)
    assert any(line.startswith("FAIL slice region = ") for line in failed)


@pytest.mark.usefixtures("restore_logging")
def test_validate_flags_slices_too_small_to_judge_without_failing(
    artifact_dir, task_name, tmp_path
):
    metric = TASKS[task_name].primary_metric
    copy = with_slice_rules(
        artifact_dir, tmp_path / "model", {"min_rows": 10_000, "minimum": {metric: 2}}
    )
    result = invoke("validate", "--model", copy)
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stdout.splitlines() if line.startswith("NOTE slice ")]
    assert notes and all("too small to judge (min_rows 10000)" in line for line in notes)
    assert any(line.startswith("NOTE slice contract = ") for line in notes)


@pytest.mark.usefixtures("restore_logging")
def test_validate_fails_when_a_sensitive_column_gap_is_too_wide(artifact_dir, task_name, tmp_path):
    metric = TASKS[task_name].primary_metric
    copy = with_slice_rules(
        artifact_dir,
        tmp_path / "model",
        {"min_rows": 10, "sensitive_columns": ["region"], "max_gap": {metric: 0.0001}},
    )
    result = invoke("validate", "--model", copy)
    assert result.exit_code == 1, result.output
    assert f"FAIL slice gap region: {metric} = " in result.stdout
    assert "required <= 0.0001" in result.stdout


def test_the_model_card_escapes_slice_values_in_gate_lines(artifact, holdout_frame, tmp_path):
    holdout_frame["region"] = holdout_frame["region"].replace("north", "*north*|<b>")
    path = tmp_path / "holdout.csv"
    holdout_frame.to_csv(path, index=False)
    rules = QualityConfig(slices=SliceThresholds(minimum={artifact.task.primary_metric: 2}))
    run = evaluate_artifact(artifact, path, thresholds=rules)
    assert any("*north*|<b>" in line for line in run.gate.failures)
    card = model_card(run.evaluation, artifact.metadata, artifact.task, run.gate)
    assert r"slice region = \*north\*\|\<b\>" in card
    assert "*north*|<b>" not in card
