"""The command line: every command through CliRunner, every error path, start-up cost."""

import json
import logging
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.artifact import MODEL_FILE, list_artifacts
from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.config import default_config_path
from {{ cookiecutter.package_name }}.logging_config import FORMAT_ENV

HOLDOUT = default_config_path().parent / "sample" / "holdout.csv"
TARGET = "{{ 'churned' if cookiecutter.ml_task == 'classification' else 'lifetime_value' }}"


@pytest.fixture(autouse=True)
def in_tmp_dir(tmp_path, monkeypatch):
    """Run each test in an empty directory and restore logging afterwards."""
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield tmp_path
    root.handlers[:] = handlers
    root.setLevel(level)


def invoke(*args, env=None):
    return CliRunner().invoke(main, [str(arg) for arg in args], env=env)


def assert_one_line_error(result, fragment):
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: "), result.stderr
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_whole_lifecycle_on_the_sample(in_tmp_dir):
    trained = invoke("-q", "train")
    assert trained.exit_code == 0, trained.output
    artifact_dir = in_tmp_dir / trained.stdout.strip()
    assert list_artifacts(in_tmp_dir / "models") == [artifact_dir]

    evaluated = invoke("-q", "evaluate")
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads((in_tmp_dir / "reports" / artifact_dir.name / "metrics.json").read_text())
    assert metrics["n_rows"] == len(pd.read_csv(HOLDOUT))

    validated = invoke("-q", "validate", "--model", artifact_dir)
    assert validated.exit_code == 0, validated.output
    assert "Quality gate passed" in validated.stdout

    predicted = invoke("-q", "predict", "--input", HOLDOUT, "--output", "out/p.csv")
    assert predicted.exit_code == 0, predicted.output
    assert len(pd.read_csv(in_tmp_dir / "out" / "p.csv")) == len(pd.read_csv(HOLDOUT))

    described = invoke("info")
    assert described.exit_code == 0
    assert re.search(rf"^Version\s+{artifact_dir.name}$", described.stdout, re.M)
    raw = json.loads(invoke("info", "--json", "--model", artifact_dir).stdout)
    assert raw["model_version"] == artifact_dir.name


def test_train_on_any_csv_with_data_and_target_only(in_tmp_dir):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=120), "colour": rng.choice(["a", "b"], 120)})
{%- if cookiecutter.ml_task == "classification" %}
    frame["label"] = np.where(frame["x"] > 0, "yes", "no")
{%- else %}
    frame["label"] = 3 * frame["x"] + rng.normal(scale=0.1, size=120)
{%- endif %}
    frame.to_csv("own.csv", index=False)
    result = invoke("-q", "train", "--data", "own.csv", "--target", "label", "--output", "mine")
    assert result.exit_code == 0, result.output
    info = json.loads(invoke("info", "--json", "--model", result.stdout.strip()).stdout)
    assert [f["name"] for f in info["schema"]["features"]] == ["x", "colour"]
    assert info["schema"]["target"]["name"] == "label"


def test_validate_exits_1_with_the_reasons(in_tmp_dir):
    config = default_config_path().read_text(encoding="utf-8")
    config = config.replace('"sample/', f'"{default_config_path().parent.as_posix()}/sample/')
    strict = config + "\n" if "[quality]" not in config else config
    strict = strict.split("[quality]")[0] + "[quality]\nbaseline_margin = 5.0\n"
    (in_tmp_dir / "strict.toml").write_text(strict, encoding="utf-8")
    assert invoke("-q", "train", "--config", "strict.toml").exit_code == 0
    result = invoke("-q", "validate")
    assert result.exit_code == 1
    assert "FAIL" in result.stdout and "Quality gate FAILED" in result.stderr


@pytest.fixture
def trained_dir(in_tmp_dir):
    result = invoke("-q", "train")
    assert result.exit_code == 0, result.output
    return in_tmp_dir / result.stdout.strip()


def test_missing_files_and_bad_config(in_tmp_dir):
    assert_one_line_error(invoke("train", "--config", "absent.toml"), "config file not found")
    (in_tmp_dir / "bad.toml").write_text("[data]\ntrain = 1\ntarget = 'y'\n")
    assert_one_line_error(invoke("train", "--config", "bad.toml"), "data.train must be a string")
    assert_one_line_error(invoke("train", "--data", "absent.csv"), "data file not found")
    assert_one_line_error(invoke("evaluate"), "no model artifacts under models")
    (in_tmp_dir / "not-a-model").mkdir()
    assert_one_line_error(invoke("info", "--model", "not-a-model"), "is not a model artifact")


def test_bad_training_data_writes_no_artifact(in_tmp_dir, write_csv):
    frame = pd.read_csv(HOLDOUT)
    bad_number = frame.astype({"age": object})
    bad_number.loc[3, "age"] = "old"
    # With the bundled config the feature kinds are fixed, so "old" cannot pass as a number;
    # with --data alone they are inferred, so a forbidden column would become a feature.
    with_config = ["--config", default_config_path()]
    inferred = ["--target", TARGET]
    cases = [
        ("empty.csv", "", with_config),
        ("no_target.csv", frame.drop(columns=[TARGET]), with_config),
        ("all_missing.csv", frame.assign(**{TARGET: np.nan}), with_config),
        ("bad_number.csv", bad_number, with_config),
        ("forbidden.csv", frame.assign(email="x@example.com"), inferred),
{%- if cookiecutter.ml_task == "classification" %}
        ("one_class.csv", frame.assign(**{TARGET: 1}), with_config),
{%- endif %}
    ]
    for name, content, args in cases:
        result = invoke("train", "--data", write_csv(content, name), *args)
        assert result.exit_code == 1, (name, result.output)
        assert result.stderr.startswith("Error: ") and "Traceback" not in result.output, name
    assert not list_artifacts(in_tmp_dir / "models")


def test_tampered_artifact_and_bad_prediction_input(trained_dir, in_tmp_dir, write_csv):
    broken = pd.read_csv(HOLDOUT).astype({"age": object})
    broken.loc[0, "age"] = "old"
    result = invoke("predict", "--input", write_csv(broken), "--output", "p.csv")
    assert_one_line_error(result, "age: expected numbers")
    assert not (in_tmp_dir / "p.csv").exists()
    assert_one_line_error(
        invoke("predict", "--input", "absent.csv", "--output", "p.csv"), "input file not found"
    )
    with open(trained_dir / MODEL_FILE, "ab") as handle:
        handle.write(b"tampered")
    assert_one_line_error(
        invoke("predict", "--input", HOLDOUT, "--output", "p.csv"), "does not match the SHA-256"
    )


def test_debug_level_shows_the_traceback():
    result = invoke("--log-level", "debug", "train", "--config", "absent.toml")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "config file not found" in result.stderr


def test_json_logs_from_the_environment(in_tmp_dir):
    result = invoke("train", env={FORMAT_ENV: "json"})
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert {"timestamp", "level", "logger", "message"} <= set(records[0])
    trained = [r for r in records if r["message"].startswith("trained in")]
    assert trained and trained[0]["duration_s"] >= 0
    assert invoke("--log-level", "loud", "info").exit_code == 2


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\n"
        "from {{ cookiecutter.package_name }}.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'sklearn', 'pandas', 'numpy', 'matplotlib', 'skops', 'scipy'{% if cookiecutter.include_api == "yes" %}, 'flask'{% endif %}}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.slow
def test_console_script_end_to_end(in_tmp_dir):
    script = shutil.which("{{ cookiecutter.project_slug }}")
    assert script, "install the project (pip install -e .) to get the console script"

    def run(*args):
        result = subprocess.run(
            [script, "-q", *map(str, args)], capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    artifact_dir = in_tmp_dir / run("train").strip()
    assert (artifact_dir / MODEL_FILE).is_file()
    run("evaluate", "--model", artifact_dir, "--output", "report")
    assert json.loads((in_tmp_dir / "report" / "metrics.json").read_text())["gate"]["passed"]
    assert "Quality gate passed" in run("validate", "--model", artifact_dir)
    run("predict", "--model", artifact_dir, "--input", HOLDOUT, "--output", "scored.csv")
    scored = pd.read_csv(in_tmp_dir / "scored.csv")
    assert len(scored) == len(pd.read_csv(HOLDOUT))
    assert scored["prediction"].notna().all()
