"""The runs command: recent runs in a table or as JSON, two runs side by side; train reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ...artifact import read_metadata
from .. import TRACKING_URI_ENV
from .. import store as run_store
from ..cli import runs


@pytest.fixture
def cli(tracking_uri):
    runner = CliRunner()
    return lambda *args: runner.invoke(runs, list(args))


def test_runs_lists_recent_runs_with_metrics_and_the_params_that_vary(cli, tracked):
    result = cli("--kind", "train", "--limit", "50")
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split()[:5] == ["run", "started", "kind", "status", "model"]
    assert "roc_auc" in header.split() and "max_iter" in header.split()
    assert "baseline_roc_auc" not in header
    for model in tracked:
        (row,) = [line for line in rows if line.startswith(model.run_id[:8])]
        assert model.artifact.version in row and "finished" in row


def test_runs_json_has_every_param_and_metric(cli, tracked):
    result = cli("--json", "--limit", "50")
    assert result.exit_code == 0, result.output
    by_id = {run["run_id"]: run for run in json.loads(result.output)}
    logged = by_id[tracked[1].run_id]
    assert logged["kind"] == "train"
    assert logged["params"]["max_iter"] == "30"
    assert logged["params"]["data_sha256"] == tracked[1].artifact.metadata.training.sha256
    assert set(logged["metrics"]) >= {"roc_auc", "accuracy", "baseline_roc_auc"}


def test_runs_compare_marks_what_differs(cli, tracked):
    first, second = tracked
    result = cli("compare", first.run_id, second.run_id[:10])
    assert result.exit_code == 0, result.output
    lines = {
        line.split()[1]: line.split()
        for line in result.output.splitlines()
        if line.startswith(("param", "metric"))
    }
    assert lines["max_iter"][2:] == ["20", "30", "*"]
    assert lines["task"][2:] == ["binary", "binary"]  # the same: no mark
    roc = lines["roc_auc"]
    assert float(roc[4]) == pytest.approx(float(roc[3]) - float(roc[2]), abs=2e-4)


def test_runs_compare_of_an_unknown_run_is_one_line_and_exit_1(cli, tracked):
    result = cli("compare", tracked[0].run_id, "0123456789abcdef")
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith("Error: no run '0123456789abcdef' in experiment")


def test_runs_without_any_run_says_so(cli, monkeypatch):
    monkeypatch.setattr(run_store, "EXPERIMENT", "an-experiment-never-tracked")
    result = cli()
    assert result.exit_code == 0, result.output
    assert "No tracked runs yet" in result.output


def test_runs_of_an_unreachable_store_is_one_line_and_exit_1(cli, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "bogus-scheme://nowhere")
    result = cli()
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot read the tracking store bogus-scheme://")
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.slow
def test_the_train_command_records_its_run_in_the_artifact(store, data_config, client, tmp_path):
    """End to end: the command line plugs the MLflow observer into train (a subprocess)."""
    data = data_config.data
    result = subprocess.run(
        [sys.executable, "-m", __package__.split(".")[0], "train", "--data", str(data.train)]
        + ["--target", data.target, "--output", str(tmp_path)],
        env={**os.environ, TRACKING_URI_ENV: store},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    metadata = read_metadata(result.stdout.strip().splitlines()[-1])
    assert metadata.run_id is not None
    assert client.get_run(metadata.run_id).data.params["model_version"] == metadata.model_version
    assert "experiment tracking failed" not in result.stderr
