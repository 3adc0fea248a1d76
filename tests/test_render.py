"""Fast layer: render a covering set of option combinations and check the output statically.

The tables below are the template's specification of which files each option produces.
"""

from __future__ import annotations

import json
import py_compile
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import COMBINATIONS, PYTHON, combo_id, run, run_ok

PACKAGE = "my_ml_project"

ALWAYS_PRESENT = [
    ".flake8",
    ".gitignore",
    ".pre-commit-config.yaml",
    "CHANGELOG.md",
    "Makefile",
    "README.md",
    "pyproject.toml",
    "benchmarks/bench_predict.py",
    "docs/conf.py",
    "docs/index.md",
    "docs/cli.md",
    *(
        f"src/{PACKAGE}/{module}.py"
        for module in [
            "__init__",
            "__main__",
            "artifact",
            "cli",
            "config",
            "data",
            "errors",
            "evaluate",
            "features",
            "logging_config",
            "model",
            "predict",
            "quality",
            "sample_data",
            "schema",
            "train",
            "workflows",
        ]
    ),
    f"src/{PACKAGE}/py.typed",
    f"src/{PACKAGE}/resources/config.toml",
    f"src/{PACKAGE}/resources/sample/train.csv",
    f"src/{PACKAGE}/resources/sample/holdout.csv",
    "tests/conftest.py",
    "tests/test_estimator_api.py",
]

# (option, value) -> files present exactly when the option has that value.
OPTIONAL_FILES = {
    ("include_api", "yes"): [
        f"src/{PACKAGE}/service/__init__.py",
        f"src/{PACKAGE}/service/app.py",
        "tests/service",
        "docs/http-api.md",
        "benchmarks/bench_http.py",
        "Dockerfile",
        ".dockerignore",
    ],
    ("ci", "github"): [".github/workflows/ci.yml", ".github/dependabot.yml"],
    ("ci", "gitlab"): [".gitlab-ci.yml"],
}
# Files that exist unless the option has this value.
ABSENT_WHEN = {
    ("license", "Proprietary"): ["LICENSE"],
}
# Words that must not appear anywhere in a render without the service.
SERVICE_WORDS = re.compile(r"flask|gunicorn|prometheus|\bserve\b|dockerfile", re.IGNORECASE)

UNRENDERED = re.compile(r"\{\{|\}\}|\{%|%\}")
GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def generated_files(project: Path) -> list[Path]:
    return sorted(p for p in project.rglob("*") if p.is_file())


@pytest.fixture(params=COMBINATIONS, ids=combo_id)
def project(request, renders) -> tuple[dict[str, str], Path]:
    return request.param, renders.get(request.param)


def test_every_option_value_is_covered():
    from conftest import CHOICES

    for key, values in CHOICES.items():
        seen = {combo[key] for combo in COMBINATIONS}
        assert seen == set(values), f"{key}: {set(values) - seen} never rendered"


def test_files_present_and_absent_per_option(project):
    context, path = project
    for relative in ALWAYS_PRESENT:
        assert (path / relative).is_file(), relative
    for (key, value), files in OPTIONAL_FILES.items():
        for relative in files:
            expected = context[key] == value
            assert (path / relative).exists() == expected, f"{relative} with {key}={context[key]}"
    for (key, value), files in ABSENT_WHEN.items():
        for relative in files:
            expected = context[key] != value
            assert (path / relative).exists() == expected, f"{relative} with {key}={context[key]}"


def test_no_trace_of_the_service_without_it(project):
    context, path = project
    if context["include_api"] == "yes":
        return
    for item in generated_files(path):
        text = item.read_text(encoding="utf-8")
        match = SERVICE_WORDS.search(text)
        assert (
            not match
        ), f"{item.relative_to(path)}: {text[max(0, match.start() - 60):match.end() + 40]!r}"


def test_sample_data_fits_the_task(project):
    context, path = project
    sample = path / "src" / PACKAGE / "resources" / "sample"
    header = (sample / "train.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    target = "churned" if context["ml_task"] == "classification" else "lifetime_value"
    assert header[-1] == target
    for name in ("train.csv", "holdout.csv"):
        assert (sample / name).stat().st_size < 100_000


def test_no_empty_files_or_directories(project):
    _, path = project
    allowed_empty = {"py.typed"}
    for item in path.rglob("*"):
        if item.is_dir():
            assert any(item.iterdir()), f"empty directory {item.relative_to(path)}"
        elif item.name not in allowed_empty:
            assert item.stat().st_size > 0, f"empty file {item.relative_to(path)}"


def test_nothing_left_unrendered(project):
    _, path = project
    for item in path.rglob("*"):
        relative = str(item.relative_to(path))
        assert not UNRENDERED.search(relative), relative
        if item.is_file():
            text = item.read_text(encoding="utf-8")
            if relative.startswith(".github/"):
                text = GITHUB_EXPRESSION.sub("", text)  # ${{ ... }} is Actions syntax
            match = UNRENDERED.search(text)
            assert not match, f"{relative}: {text[max(0, match.start() - 60):match.end() + 60]!r}"


def test_structured_files_parse(project):
    _, path = project
    for item in generated_files(path):
        text = item.read_text(encoding="utf-8")
        if item.suffix == ".toml":
            tomllib.loads(text)
        elif item.suffix in {".yml", ".yaml"}:
            yaml.safe_load(text)
        elif item.suffix == ".json":
            json.loads(text)


def test_python_compiles(project, tmp_path):
    _, path = project
    for item in path.rglob("*.py"):
        py_compile.compile(str(item), cfile=str(tmp_path / "x.pyc"), doraise=True)


def test_pyproject_follows_options(project):
    context, path = project
    meta = tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["name"] == "my-ml-project"
    assert meta["requires-python"] == f">={context['python_version']}"
    assert meta["scripts"] == {"my-ml-project": f"{PACKAGE}.cli:main"}
    versions = [c.rsplit(" ", 1)[-1] for c in meta["classifiers"] if "Python :: 3." in c]
    assert versions[0] == context["python_version"] and versions[-1] == "3.13"
    deps = " ".join(meta["dependencies"])
    assert ("flask" in deps) == (context["include_api"] == "yes")
    assert ("gunicorn" in deps) == (context["include_api"] == "yes")
    if context["license"] == "Proprietary":
        assert meta["license"] == "LicenseRef-Proprietary"
        assert "Private :: Do Not Upload" in meta["classifiers"]
    else:
        assert meta["license"] == context["license"]
        assert meta["license-files"] == ["LICENSE"]
    assert not any(c.startswith("License ::") for c in meta["classifiers"])


def test_makefile_default_target_is_help(project):
    _, path = project
    result = run_ok(["make", "--no-print-directory"], cwd=path)
    for target in ["install", "lint", "format", "test", "clean"]:
        assert re.search(rf"^\s*(\x1b\[36m)?{target}\b", result.stdout, re.M), target


def test_black_and_flake8_pass_on_every_render(renders):
    # One process per render, run from its root so each picks up its own black/flake8 config.
    # The longest package name the hook accepts must not push any line over the limit.
    longest = {"project_name": "Customer Lifetime Value Models", "include_api": "yes"}
    assert len("customer_lifetime_value_models") == 30
    for context in [*COMBINATIONS, longest]:
        path = renders.get(context)
        black = run([PYTHON, "-m", "black", "--check", "."], cwd=path)
        assert black.returncode == 0, f"{combo_id(context)}\n{black.stderr}"
        run_ok([PYTHON, "-m", "flake8", "."], cwd=path)


def test_dockerfile_passes_hadolint(renders):
    for context in COMBINATIONS:
        if context["include_api"] == "yes":
            path = renders.get(context)
            hadolint = Path(PYTHON).parent / "hadolint"
            run_ok([str(hadolint), "Dockerfile"], cwd=path)
