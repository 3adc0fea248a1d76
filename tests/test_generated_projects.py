"""Slow layer: install generated projects and run their own lint, tests and docs.

One shared environment holds the third-party dependencies (see ``project_env``); each
combination below is rendered under its own name, git-initialised (pre-commit only sees
tracked files), installed editable, and then driven through its own Makefile.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import tomllib
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from email.parser import Parser
from pathlib import Path

import pytest

from helpers import check_context, run, run_ok
from project_env import ENV_PYTHON, ensure_env, env_vars, install_project

pytestmark = pytest.mark.slow

# Covering set: both ml_task values with the service, every ci value, three of the four
# licenses. The shared environment runs Python 3.11, so python_version stays at 3.11 here
# (newer renders are checked statically by the fast layer, and one is locked, synced and
# tested on the newest interpreter found: test_locked_install_on_the_newest_python).
SLOW_COMBINATIONS = [
    {
        "project_name": "Churn Classifier",
        "ml_task": "classification",
        "include_api": "yes",
        "ci": "github",
        "python_version": "3.11",
        "license": "MIT",
        "experiment_tracking": "mlflow",
    },
    {
        "project_name": "Price Regressor",
        "ml_task": "regression",
        "include_api": "yes",
        "ci": "gitlab",
        "python_version": "3.11",
        "license": "Apache-2.0",
    },
    {
        "project_name": "Batch Only",
        "ml_task": "classification",
        "include_api": "no",
        "ci": "none",
        "python_version": "3.11",
        "license": "Proprietary",
    },
]
IDS = [combo["project_name"] for combo in SLOW_COMBINATIONS]
WITH_SERVICE = [combo for combo in SLOW_COMBINATIONS if combo["include_api"] == "yes"]
WITH_SERVICE_IDS = [combo["project_name"] for combo in WITH_SERVICE]


@pytest.fixture(scope="session")
def shared_env(cookies_session):
    full = cookies_session.bake(
        extra_context=check_context({"include_api": "yes", "experiment_tracking": "mlflow"})
    )
    assert full.exit_code == 0, full.exception
    ensure_env(full.project_path)
    return env_vars()


def git_init(project: Path) -> None:
    for cmd in (
        ["git", "init", "--quiet", "--initial-branch=main"],
        ["git", "add", "--all"],
        ["git", "-c", "user.name=Test", "-c", "user.email=t@example.com", "commit", "-qm", "init"],
    ):
        run_ok(cmd, cwd=project)


@pytest.fixture(scope="session", params=SLOW_COMBINATIONS, ids=IDS)
def installed(request, cookies_session, shared_env) -> tuple[dict[str, str], Path]:
    context = request.param
    result = cookies_session.bake(extra_context=check_context(context))
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    git_init(project)
    install_project(project)
    return context, project


def make(target: str, project: Path, env: dict[str, str]) -> None:
    run_ok(["make", "--no-print-directory", target], cwd=project, env=env)


# The project's own Makefile, one test per target so one failure hides no other. The
# generated slow tests start gunicorn, kill workers, hold slow connections and run the CLI in
# subprocesses: that code depends neither on the task nor on the service's presence, so only
# the classification render runs `make test` (with the coverage gate); the other two run
# `make test-fast` (everything but the slow tests). The regression service is still fuzzed
# and driven by MLflow's client below. This keeps the template's CI time in bounds on 2 cores.
TEST_TARGET = {"Price Regressor": "test-fast", "Batch Only": "test-fast"}
# The generated Spark tests start a JVM (10 s or more): `make test` leaves them out, as the
# generated CI does (it installs no spark extra), and they run once, for one render, below.
WITHOUT_SPARK = {"PYTEST_ADDOPTS": "-m 'not spark'"}


@pytest.mark.parametrize("target", ["lint", "test"])
def test_generated_project_passes_its_own_checks(installed, shared_env, target):
    context, project = installed
    if target == "test":
        target = TEST_TARGET.get(context["project_name"], "test")
    make(target, project, {**shared_env, **WITHOUT_SPARK})


@pytest.mark.parametrize("installed", SLOW_COMBINATIONS[:1], ids=IDS[:1], indirect=True)
def test_generated_spark_tests_pass_on_local_spark(installed, shared_env):
    """Local Spark on small Parquet directories, compared with local predict row by row."""
    _, project = installed
    result = run_ok(
        [str(ENV_PYTHON), "-m", "pytest", "-m", "spark", "-q", "-rs", "-p", "no:cacheprovider"],
        cwd=project,
        env=shared_env,
    )
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout


# The docs and the installed wheel differ with and without the service (and with each
# license branch), not with the task: two renders cover them.
SERVICE_AND_BATCH = [SLOW_COMBINATIONS[0], SLOW_COMBINATIONS[2]]
SERVICE_AND_BATCH_IDS = [combo["project_name"] for combo in SERVICE_AND_BATCH]


@pytest.mark.parametrize("installed", SERVICE_AND_BATCH, ids=SERVICE_AND_BATCH_IDS, indirect=True)
def test_generated_project_builds_its_docs(installed, shared_env):
    _, project = installed
    make("docs", project, shared_env)
    assert (project / "docs" / "_build" / "html" / "cli.html").is_file()


def readiness_scores(project: Path, env: dict[str, str], *args: str) -> dict:
    package = project.name.replace("-", "_")
    cmd = [str(ENV_PYTHON), "-m", package, "readiness", "--json", *args]
    return json.loads(run_ok(cmd, cwd=project, env=env).stdout)


def test_readiness_reaches_the_floor(installed, shared_env):
    """Every section reaches the render's floor (5 with the service, 3 without)."""
    _, project = installed
    floor = float(tomllib.loads((project / "readiness.toml").read_text())["floor"])
    scores = readiness_scores(project, shared_env)  # exit 0: at or above the floor
    assert all(value >= floor for value in scores["sections"].values()), (floor, scores)
    assert scores["score"] == min(scores["sections"].values())


@pytest.mark.parametrize("installed", SLOW_COMBINATIONS[:1], ids=IDS[:1], indirect=True)
def test_readiness_falls_without_a_cited_test(installed, shared_env, tmp_path):
    """Missing evidence scores 0, whatever the scorecard claims."""
    _, project = installed
    scores = readiness_scores(project, shared_env)
    # In a copy, so that tests running in the render at the same time are not disturbed.
    ignored = shutil.ignore_patterns(".git", "models", "reports", "_build", "dist", "*cache*")
    copy = Path(shutil.copytree(project, tmp_path / project.name, ignore=ignored))
    (copy / "src" / project.name.replace("-", "_") / "tests" / "test_train.py").unlink()
    lowered = readiness_scores(copy, shared_env, "--no-floor")
    assert lowered["sections"]["infrastructure"] < scores["sections"]["infrastructure"]


def test_generated_project_builds_its_distributions(installed, shared_env):
    _, project = installed
    make("build", project, shared_env)
    assert sorted(p.suffix for p in (project / "dist").iterdir()) == [".gz", ".whl"]


@pytest.mark.parametrize("installed", SERVICE_AND_BATCH, ids=SERVICE_AND_BATCH_IDS, indirect=True)
def test_wheel_ships_everything_the_cli_needs(installed, shared_env, tmp_path):
    """Build the wheel, install it (not editable) in a fresh venv, run the CLI from elsewhere."""
    context, project = installed
    dist = tmp_path / "dist"
    run_ok([str(ENV_PYTHON), "-m", "build", "--wheel", "--outdir", str(dist)], cwd=project)
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
    package = project.name.replace("-", "_")
    # Tests live next to the code in src/ but are not shipped.
    assert not [n for n in names if "/tests/" in n or n.startswith("tests/")]
    assert f"{package}/resources/sample/holdout.csv" in names
    assert (f"{package}/service/app.py" in names) == (context["include_api"] == "yes")
    if context["license"] == "Proprietary":
        assert metadata["License-Expression"] == "LicenseRef-Proprietary"
        assert "Private :: Do Not Upload" in metadata.get_all("Classifier")
        assert not any("/licenses/" in n for n in names)
    else:
        assert metadata["License-Expression"] == context["license"]
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert metadata["Requires-Python"] == f">={context['python_version']}"

    venv = tmp_path / "venv"
    run_ok([sys.executable, "-m", "uv", "venv", "--quiet", "--python", sys.executable, str(venv)])
    run_ok(
        [
            sys.executable,
            "-m",
            "uv",
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            str(wheel),
        ]
    )
    slug = project.name
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    cli = str(venv / "bin" / slug)
    trained = run_ok([cli, "-q", "train"], cwd=workdir)
    artifact = workdir / trained.stdout.strip()
    assert (artifact / "model.skops").is_file()
    run_ok([cli, "-q", "validate", "--model", str(artifact)], cwd=workdir)
    holdout = next(
        (venv / "lib").glob(f"python3*/site-packages/{package}/resources/sample/holdout.csv")
    )
    run_ok([cli, "-q", "predict", "--input", str(holdout), "--output", "out.csv"], cwd=workdir)
    assert len((workdir / "out.csv").read_text().splitlines()) == 201


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def trained_models() -> dict[Path, Path]:
    """Project directory to the model trained on its bundled sample (see ``trained``)."""
    return {}


@pytest.fixture
def trained(installed, shared_env, trained_models, tmp_path_factory) -> Path:
    """The installed project's model, trained once per session by its own CLI."""
    _, project = installed
    if project not in trained_models:
        package = project.name.replace("-", "_")
        result = run_ok(
            [str(ENV_PYTHON), "-m", package, "-q", "train"]
            + ["--output", str(tmp_path_factory.mktemp("models"))],
            cwd=project,
            env=shared_env,
        )
        trained_models[project] = Path(result.stdout.strip())
    return trained_models[project]


@contextmanager
def running_service(project: Path, env: dict[str, str], model: Path) -> Iterator[int]:
    """Run ``serve`` (gunicorn, two workers) on a free port until it is ready; yield the port."""
    package = project.name.replace("-", "_")
    port = free_port()
    server = subprocess.Popen(
        [
            str(ENV_PYTHON),
            "-m",
            package,
            "serve",
            "--model",
            str(model),
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "service never became ready"
            time.sleep(0.3)
        yield port
    finally:
        server.terminate()
        assert server.wait(timeout=60) == 0


@pytest.mark.parametrize("installed", WITH_SERVICE, ids=WITH_SERVICE_IDS, indirect=True)
def test_running_service_survives_fuzzing(installed, shared_env, trained, tmp_path):
    """Schemathesis sends hundreds of generated requests from /openapi.json: no 5xx allowed."""
    _, project = installed
    with running_service(project, shared_env, trained) as port:
        fuzz = run(
            [
                str(ENV_PYTHON),
                "-m",
                "schemathesis.cli",
                "run",
                f"http://127.0.0.1:{port}/openapi.json",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "150",
                "--suppress-health-check",
                "all",
            ],
            cwd=tmp_path,
            env=shared_env,
        )
        assert fuzz.returncode == 0, fuzz.stdout[-8000:] + fuzz.stderr[-3000:]


# Runs in the project environment, where MLflow's client is installed: sends the feature
# columns of a CSV file as a DataFrame, missing values included, and prints the predictions.
MLFLOW_CLIENT = textwrap.dedent("""
    import json, sys
    import pandas as pd
    from mlflow.pyfunc.scoring_server.client import ScoringServerClient

    port, rows, features = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
    frame = pd.read_csv(rows)[features]
    assert frame.isna().any().any(), "the rows should have missing values"
    answer = ScoringServerClient("127.0.0.1", port).invoke(frame)
    print(json.dumps(answer["predictions"]))
    """)


@pytest.mark.parametrize("installed", WITH_SERVICE, ids=WITH_SERVICE_IDS, indirect=True)
def test_mlflow_client_gets_the_batch_predictions(installed, shared_env, trained, tmp_path):
    """MLflow's own ScoringServerClient (JSON with NaN for missing values) against gunicorn."""
    _, project = installed
    package = project.name.replace("-", "_")
    features = [
        feature["name"]
        for feature in json.loads((trained / "metadata.json").read_text())["schema"]["features"]
    ]
    rows = project / "src" / package / "resources" / "sample" / "holdout.csv"
    batch = tmp_path / "batch.csv"
    run_ok(
        [str(ENV_PYTHON), "-m", package, "-q", "predict", "--model", str(trained)]
        + ["--input", str(rows), "--output", str(batch)],
        cwd=project,
        env=shared_env,
    )
    with running_service(project, shared_env, trained) as port:
        client = run_ok(
            [str(ENV_PYTHON), "-c", MLFLOW_CLIENT, str(port), str(rows), json.dumps(features)],
            cwd=tmp_path,
            env=shared_env,
        )
    served = json.loads(client.stdout)
    # The batch file holds each prediction's text; JSON values print the same way.
    with batch.open(newline="") as handle:
        expected = [row["prediction"] for row in csv.DictReader(handle)]
    assert [str(value) for value in served] == expected


def newest_pyenv_python() -> Path | None:
    """The newest CPython above 3.11 installed under ``pyenv root``/versions, if any."""
    try:
        root = run(["pyenv", "root"]).stdout.strip()
    except OSError:
        return None
    for minor in ("3.14", "3.13", "3.12"):
        found = [
            python
            for python in Path(root or "/nonexistent", "versions").glob(
                f"{minor}.*/bin/python{minor}"
            )
            if python.is_file()
        ]
        if found:
            # The newest patch release: 3.13.10 after 3.13.9.
            return max(
                found, key=lambda p: [int(n) for n in p.parts[-3].split(".") if n.isdigit()]
            )
    return None


# The project's fast tests run on the newest Python: configuration (tomllib), the CLI's whole
# lifecycle (train, save, load, evaluate, predict) and the HTTP endpoints. Its whole fast
# suite (about 1,000 tests) already runs on 3.11 above and would take minutes here.
NEWEST_PYTHON_TESTS = [
    "tests/test_config.py",
    "tests/test_cli.py",
    "service/tests/test_service_endpoints.py",
]


def test_locked_install_on_the_newest_python(cookies_session):
    """`uv lock` and `uv sync --locked` on the newest Python found, then some project tests.

    The rest of the slow layer runs on the shared 3.11 environment; this render declares the
    newest Python as its floor, so its lock, its dependency floors and its code are exercised
    there. The docs group is left out (`uv sync` installs only the dev group by default).
    """
    python = newest_pyenv_python()
    if python is None:
        pytest.skip("no CPython 3.12 or newer under `pyenv root`/versions")
    minor = python.name.removeprefix("python")
    context = check_context(
        {
            "project_name": "Locked Newest",
            "ml_task": "classification",
            "include_api": "yes",
            "ci": "github",
            "python_version": minor,
            "license": "BSD-3-Clause",
        }
    )
    result = cookies_session.bake(extra_context=context)
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    # Not the shared environment: uv makes the project's own .venv. Hard links from uv's cache
    # are the fastest install.
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHON"}}
    env.update(UV_PYTHON_DOWNLOADS="never", UV_LINK_MODE="hardlink", UV_NO_PROGRESS="1")
    uv = [sys.executable, "-m", "uv"]
    run_ok([*uv, "lock", "--quiet", "--python", str(python)], cwd=project, env=env)
    assert (project / "uv.lock").is_file()
    run_ok([*uv, "sync", "--locked", "--quiet", "--python", str(python)], cwd=project, env=env)
    venv_python = project / ".venv" / "bin" / "python"
    version = run_ok([str(venv_python), "-c", "import sys; print(sys.version_info[:2])"])
    assert version.stdout.strip() == str(tuple(int(n) for n in minor.split(".")))
    package = project / "src" / project.name.replace("-", "_")
    tests = [str(package / path) for path in NEWEST_PYTHON_TESTS]
    pytest_args = ["-m", "not slow", "-q", "-x", "-p", "no:cacheprovider"]
    run_ok([str(venv_python), "-m", "pytest", *pytest_args, *tests], cwd=project, env=env)
