"""The command line: every command through CliRunner, every error path, start-up cost."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from .. import DISTRIBUTION, __version__
from ..artifact import METADATA_FILE, MODEL_FILE, list_artifacts
from ..cli import main
from ..config import default_config_path, load_config
from ..logging_config import FORMAT_ENV

PACKAGE = __package__.partition(".")[0]
SOURCE_ROOT = Path(__file__).resolve().parents[2]
HOLDOUT = default_config_path().parent / "sample" / "holdout.csv"


pytestmark = pytest.mark.usefixtures("in_tmp_dir")


def invoke(*args, env=None):
    return CliRunner().invoke(main, [str(arg) for arg in args], env=env)


def assert_one_line_error(result, fragment):
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: "), result.stderr
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output


@pytest.fixture
def trained_dir(models, in_tmp_dir):
    """A copy of the binary task's artifact as the latest under ./models."""
    source = models.artifact_dir("binary")
    target = in_tmp_dir / "models" / source.name
    shutil.copytree(source, target)
    return target


def edit_metadata(directory, change):
    path = directory / METADATA_FILE
    metadata = json.loads(path.read_text(encoding="utf-8"))
    change(metadata)
    path.write_text(json.dumps(metadata), encoding="utf-8")


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_whole_lifecycle_on_the_bundled_config(in_tmp_dir):
    """The checked-in config and sample train, evaluate, validate and predict as shipped."""
    trained = invoke("-q", "train")
    assert trained.exit_code == 0, trained.output
    artifact_dir = in_tmp_dir / trained.stdout.strip()
    assert list_artifacts(in_tmp_dir / "models") == [artifact_dir]

    evaluated = invoke("-q", "evaluate")
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads((in_tmp_dir / "reports" / artifact_dir.name / "metrics.json").read_text())
    assert metrics["n_rows"] == len(pd.read_csv(HOLDOUT))
    assert metrics["gate"]["passed"] is True
    assert f"(baseline {metrics['baseline'][metrics['primary_metric']]:.4f})" in evaluated.stdout

    validated = invoke("-q", "validate", "--model", artifact_dir)
    assert validated.exit_code == 0, validated.output
    assert "Quality gate passed" in validated.stdout

    predicted = invoke("-q", "predict", "--input", HOLDOUT, "--output", "out/p.csv")
    assert predicted.exit_code == 0, predicted.output
    assert len(pd.read_csv(in_tmp_dir / "out" / "p.csv")) == len(pd.read_csv(HOLDOUT))

    described = invoke("info")
    assert described.exit_code == 0
    assert re.search(rf"^Version\s+{artifact_dir.name}$", described.stdout, re.M)
    assert re.search(rf"^Holdout {metrics['primary_metric']}\s+\d", described.stdout, re.M)
    raw = json.loads(invoke("info", "--json", "--model", artifact_dir).stdout)
    assert raw["model_version"] == artifact_dir.name
    assert raw["schema"]["task"] == load_config().model.task


@pytest.mark.parametrize(
    ("task", "labels", "expected"),
    [
        ("classification", lambda x: np.where(x > 0, "yes", "no"), "binary"),
        ("regression", lambda x: 3 * x, "regression"),
    ],
)
def test_train_on_any_csv_with_data_target_and_task_only(in_tmp_dir, task, labels, expected):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=120), "colour": rng.choice(["a", "b"], 120)})
    frame["label"] = labels(frame["x"])
    frame.to_csv("own.csv", index=False)
    result = invoke(
        "-q", "train", "--data", "own.csv", "--target", "label", "--task", task, "--output", "mine"
    )
    assert result.exit_code == 0, result.output
    info = json.loads(invoke("info", "--json", "--model", result.stdout.strip()).stdout)
    assert [f["name"] for f in info["schema"]["features"]] == ["x", "colour"]
    assert [f["kind"] for f in info["schema"]["features"]] == ["numeric", "categorical"]
    assert info["schema"]["target"]["name"] == "label"
    assert info["task"] == expected
    assert info["settings"]["holdout"] == "holdout.csv", "20% of the rows were held out"
    assert info["training"]["rows"] == 96 and info["metrics"] is not None


def test_info_describes_a_multiclass_model(models):
    result = invoke("info", "--model", models.artifact_dir("multiclass"))
    assert result.exit_code == 0, result.output
    assert re.search(r"^Model\s+TabularClassifier \(multiclass\)$", result.stdout, re.M)
    assert re.search(r"^Target\s+segment$", result.stdout, re.M)


def test_evaluate_other_data_into_a_chosen_directory(models):
    config = models.config("regression")
    result = invoke(
        "-q",
        "evaluate",
        "--model",
        models.artifact_dir("regression"),
        "--data",
        config.data.train,
        "--output",
        "report",
    )
    assert result.exit_code == 0, result.output
    written = json.loads(Path("report", "metrics.json").read_text(encoding="utf-8"))
    assert written["n_rows"] == 400 and written["task"] == "regression"
    assert result.stdout.strip().splitlines()[-1] == "report"


def test_validate_exits_1_with_the_reasons(trained_dir):
    edit_metadata(trained_dir, lambda m: m["settings"]["quality"].update(baseline_margin=5.0))
    result = invoke("-q", "validate")
    assert result.exit_code == 1
    assert "FAIL balanced_accuracy" in result.stdout and "PASS accuracy" in result.stdout
    assert "Quality gate FAILED (1 check(s))" in result.stderr


def test_missing_files_and_bad_config(in_tmp_dir):
    assert_one_line_error(invoke("train", "--config", "absent.toml"), "config file not found")
    (in_tmp_dir / "bad.toml").write_text("[data]\ntrain = 1\ntarget = 'y'\n")
    assert_one_line_error(invoke("train", "--config", "bad.toml"), "data.train must be a string")
    (in_tmp_dir / "task.toml").write_text(
        "[data]\ntrain = 'a.csv'\ntarget = 'y'\n[model]\ntask = 'x'\n"
    )
    assert_one_line_error(invoke("train", "--config", "task.toml"), "model.task must be one of")
    assert_one_line_error(
        invoke("train", "--data", "absent.csv", "--target", "y"), "data file not found"
    )
    assert invoke("train", "--data", "absent.csv").exit_code == 2, "--data needs --target"
    assert_one_line_error(invoke("evaluate"), "no model artifacts under models")
    (in_tmp_dir / "not-a-model").mkdir()
    assert_one_line_error(invoke("info", "--model", "not-a-model"), "is not a model artifact")
    assert invoke("train", "--task", "ranking").exit_code == 2


def test_malformed_metadata_is_one_line(trained_dir):
    edit_metadata(trained_dir, lambda m: m["training"].update(rows="many"))
    for command in ("info", "evaluate", "predict"):
        args = ["--input", HOLDOUT, "--output", "p.csv"] if command == "predict" else []
        assert_one_line_error(
            invoke(command, *args), "metadata.json: training.rows must be an integer, got 'many'"
        )


def test_bad_training_data_writes_no_artifact(models, in_tmp_dir, write_csv):
    frame = models.frame("binary", "holdout")
    bad_number = frame.astype({"age": object})
    bad_number.loc[3, "age"] = "old"
    # With a config the feature kinds are fixed, so "old" cannot pass as a number; with
    # --data alone they are inferred, so a forbidden column would become a feature.
    binary = ["--config", models.config_path("binary")]
    regression = ["--config", models.config_path("regression")]
    (in_tmp_dir / "inferred.toml").write_text(
        "[data]\ntrain = 'x.csv'\ntarget = 'churned'\nforbidden_features = ['email']\n"
    )
    inferred = ["--config", "inferred.toml"]
    cases = [
        ("empty.csv", "", binary, "is empty"),
        ("no_target.csv", frame.drop(columns=["churned"]), binary, "'churned' is missing"),
        ("all_missing.csv", frame.assign(churned=np.nan), binary, "all missing"),
        ("bad_number.csv", bad_number, binary, "age: expected numbers"),
        ("forbidden.csv", frame.assign(email=frame.index.astype(str)), inferred, "forbidden"),
        ("one_class.csv", frame.assign(churned=1), binary, "single class"),
        (
            "text.csv",
            frame.rename(columns={"churned": "lifetime_value"}).assign(lifetime_value="high"),
            regression,
            "must be numeric for regression",
        ),
    ]
    for name, content, args, message in cases:
        result = invoke("train", "--data", write_csv(content, name), *args)
        assert_one_line_error(result, message)
    assert not list_artifacts(in_tmp_dir / "models")


def test_tampered_artifact_and_bad_prediction_input(trained_dir, in_tmp_dir, write_csv, models):
    holdout = models.config("binary").data.holdout
    broken = pd.read_csv(holdout).astype({"age": object})
    broken.loc[0, "age"] = "old"
    result = invoke("predict", "--input", write_csv(broken), "--output", "p.csv")
    assert_one_line_error(result, "age: expected numbers")
    assert not (in_tmp_dir / "p.csv").exists()
    assert_one_line_error(
        invoke("predict", "--input", "absent.csv", "--output", "p.csv"), "input file not found"
    )
    assert (
        invoke("predict", "--input", holdout, "--output", "p.csv", "--chunksize", 0).exit_code == 2
    )
    with open(trained_dir / MODEL_FILE, "ab") as handle:
        handle.write(b"tampered")
    assert_one_line_error(
        invoke("predict", "--input", holdout, "--output", "p.csv"), "does not match the SHA-256"
    )


def test_predict_with_chunks_and_threads(trained_dir, models):
    holdout = models.config("binary").data.holdout
    result = invoke(
        "-q", "predict", "--input", holdout, "--output", "p.csv", "--chunksize", 64, "--threads", 1
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "200 rows -> p.csv"
    scored = pd.read_csv("p.csv")
    assert list(scored.columns) == ["prediction", "probability_0", "probability_1"]


def test_debug_level_shows_the_traceback():
    result = invoke("--log-level", "debug", "train", "--config", "absent.toml")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "config file not found" in result.stderr


def test_verbosity_flags_adjust_the_level(models):
    config = ["train", "--config", models.config_path("binary"), "--output", "m"]
    quiet = invoke("-qq", *config)
    assert quiet.exit_code == 0 and quiet.stderr == ""
    loud = invoke("-v", *config)
    assert loud.exit_code == 0 and "DEBUG" in loud.stderr


def test_json_logs_from_the_environment(models):
    result = invoke("train", "--config", models.config_path("binary"), env={FORMAT_ENV: "json"})
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert {"timestamp", "level", "logger", "message"} <= set(records[0])
    trained = [r for r in records if r["message"].startswith("trained in")]
    assert trained and trained[0]["duration_s"] >= 0
    assert any(r.get("threads") == 1 for r in records), "runtime.threads reaches the log"
    assert invoke("--log-level", "loud", "info").exit_code == 2
    assert invoke("info", env={FORMAT_ENV: "xml"}).exit_code == 2


def test_help_imports_only_click_and_the_standard_library():
    code = (
        "import sys\n"
        f"from {PACKAGE}.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "loaded = set(m.split('.')[0] for m in sys.modules if not m.startswith('_'))\n"
        f"print(sorted(loaded - set(sys.stdlib_module_names) - set(['click', '{PACKAGE}'])))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(SOURCE_ROOT)},
    )
    assert "train" in result.stdout and "predict" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.slow
def test_console_script_end_to_end(in_tmp_dir):
    """The installed command trains and scores (each run pays the imports: seconds each)."""
    script = shutil.which(DISTRIBUTION)
    assert script, "install the project (pip install -e .) to get the console script"

    def run(*args):
        result = subprocess.run(
            [script, "-q", *map(str, args)], capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    artifact_dir = in_tmp_dir / run("train").strip()
    assert (artifact_dir / MODEL_FILE).is_file()
    run("predict", "--model", artifact_dir, "--input", HOLDOUT, "--output", "scored.csv")
    scored = pd.read_csv(in_tmp_dir / "scored.csv")
    assert len(scored) == len(pd.read_csv(HOLDOUT))
    assert scored["prediction"].notna().all()
