"""Staleness: the current model against another artifact, or against itself retrained on
recent rows; exit 1 when it is worse by more than the tolerance, with a JSON report."""

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from click.testing import CliRunner

from ..artifact import load_artifact
from ..cli import main
from ..errors import ArtifactError, DataError
from ..staleness import against_artifact, against_retrained
from ..workflows import train_and_save

pytestmark = pytest.mark.usefixtures("in_tmp_dir")


@pytest.fixture(scope="session")
def shuffled_models(models, tmp_path_factory):
    """Per task, a model trained on shuffled labels (no skill), made once per session."""
    root = tmp_path_factory.mktemp("shuffled")
    made = {}

    def make(name):
        if name not in made:
            config = models.config(name)
            frame = models.frame(name, "train")
            target = config.data.target
            frame[target] = np.random.default_rng(0).permutation(frame[target].to_numpy())
            path = root / f"{name}.csv"
            frame.to_csv(path, index=False)
            made[name] = train_and_save(config.with_overrides(data__train=path), root / name)
        return made[name]

    return make


@pytest.fixture
def degraded_dir(shuffled_models, task_name):
    return shuffled_models(task_name)


@pytest.fixture
def recent(models, task_name):
    """Recent labelled rows: the task's holdout file."""
    return models.config(task_name).data.holdout


def invoke(*args):
    return CliRunner().invoke(main, ["-q", *(str(arg) for arg in args)])


def test_a_current_model_worse_than_the_compared_one_is_stale(artifact_dir, degraded_dir, recent):
    result = invoke(
        "staleness", "--model", degraded_dir, "--data", recent, "--against", artifact_dir
    )
    assert result.exit_code == 1, result.output
    assert "STALE: the current model's " in result.stderr
    report = json.loads(open("reports/staleness.json").read())
    assert report["mode"] == "against" and report["stale"] is True
    assert report["delta"] > 0.02 and report["tolerance"] == 0.02
    assert report["current"]["version"] == degraded_dir.name
    assert report["comparison"]["version"] == artifact_dir.name
    assert report["scored_rows"] == 200 and report["age_days"] >= 0


def test_a_current_model_better_than_an_older_degraded_one_is_not_stale(
    artifact_dir, degraded_dir, recent
):
    result = invoke(
        "staleness", "--model", artifact_dir, "--data", recent, "--against", degraded_dir
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("  current: ") and lines[1].startswith(" compared: ")
    assert lines[2].startswith("    delta: -")
    assert lines[-1].startswith("not stale: the current model is within 0.02 of the compared")
    assert json.loads(open("reports/staleness.json").read())["stale"] is False


def test_the_tolerance_decides(artifact, degraded_dir, recent):
    degraded = load_artifact(degraded_dir)
    result = against_artifact(degraded, artifact, recent, tolerance=0.0)
    assert result.stale
    assert not against_artifact(degraded, artifact, recent, tolerance=result.delta).stale
    assert against_artifact(artifact, artifact, recent, tolerance=0.0).delta == 0


def test_retraining_on_recent_rows_exposes_a_model_without_skill(degraded_dir, recent):
    result = invoke(
        "staleness", "--model", degraded_dir, "--data", recent, "--retrain", "--output", "s.json"
    )
    assert result.exit_code == 1, result.output
    report = json.loads(open("s.json").read())
    assert report["mode"] == "retrain" and report["stale"] is True
    assert report["comparison"]["role"] == "retrained"
    # 200 recent rows: 30% (60) scored, the rest retrained on.
    assert report["scored_rows"] + report["retrain_rows"] == 200
    assert 55 <= report["scored_rows"] <= 65


def test_the_age_of_the_current_model_comes_from_its_metadata(binary, models):
    later = binary.metadata.created + timedelta(days=3)
    result = against_retrained(binary, models.config("binary").data.holdout, now=later)
    assert result.age_days == pytest.approx(3)
    assert datetime.fromisoformat(result.current.created_at) == binary.metadata.created


def test_models_of_different_targets_are_not_compared(binary, models):
    regression = models.artifact("regression")
    with pytest.raises(ArtifactError, match="cannot compare .* predicts 'lifetime_value'"):
        against_artifact(binary, regression, models.config("binary").data.holdout)
    result = invoke(
        "staleness",
        "--model",
        binary.path,
        "--data",
        models.config("binary").data.holdout,
        "--against",
        regression.path,
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot compare ")
    assert len(result.stderr.splitlines()) == 1


def test_recent_data_missing_a_column_is_one_error_line(binary, binary_frames, write_csv):
    path = write_csv(binary_frames[1].drop(columns=["region", "plan"]))
    for mode in (["--retrain"], ["--against", binary.path]):
        result = invoke("staleness", "--model", binary.path, "--data", path, *mode)
        assert result.exit_code == 1
        assert result.stderr == (
            f"Error: {path} lacks column(s) the current model {binary.version} needs: "
            "plan, region\n"
        )


def test_exactly_one_comparison_is_required(binary, models):
    data = models.config("binary").data.holdout
    assert invoke("staleness", "--model", binary.path, "--data", data).exit_code == 2
    both = invoke(
        "staleness", "--model", binary.path, "--data", data, "--retrain", "--against", binary.path
    )
    assert both.exit_code == 2 and "exactly one of --against" in both.output


def test_a_metric_undefined_on_the_recent_rows_is_an_error(models, write_csv):
    regression = models.artifact("regression")
    frame = models.frame("regression", "holdout")
    frame["lifetime_value"] = 100.0
    with pytest.raises(DataError, match="r2 is undefined on .* labels need more variety"):
        against_artifact(regression, regression, write_csv(frame))


def test_retraining_needs_a_fraction_to_hold_out_and_enough_rows(binary, binary_frames, write_csv):
    with pytest.raises(DataError, match="holdout fraction must be between 0 and 1, got 1"):
        against_retrained(binary, write_csv(binary_frames[1]), holdout_fraction=1)
    with pytest.raises(DataError, match="too few labelled rows to retrain on 20 or more"):
        against_retrained(binary, write_csv(binary_frames[1].head(25)))


def test_a_creation_time_without_zone_is_read_as_utc(binary, binary_frames, write_csv):
    metadata = dataclasses.replace(binary.metadata, created_at="2026-01-01T00:00:00")
    naive = dataclasses.replace(binary, metadata=metadata)
    now = datetime(2026, 1, 2, 12, tzinfo=timezone.utc)
    result = against_artifact(naive, binary, write_csv(binary_frames[1]), now=now)
    assert result.age_days == pytest.approx(1.5)
