"""Fast layer: render a covering set of option combinations and check the output statically.

The tables below are the template's specification of which files each option produces.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from helpers import (
    CHOICES,
    COMBINATIONS,
    HOOKS_DIR,
    LONGEST_NAME,
    PYTHON,
    WITH_API,
    WITHOUT_API,
    combo_id,
    run,
    run_ok,
)

PACKAGE = "my_ml_project"
SRC = f"src/{PACKAGE}"

CORE_MODULES = [
    "__init__",
    "__main__",
    "artifact",
    "cli",
    "columns",
    "config",
    "data",
    "errors",
    "evaluate",
    "features",
    "files",
    "logging_config",
    "metadata",
    "model",
    "options",
    "plots",
    "predict",
    "quality",
    "report",
    "sample_data",
    "schema",
    "scoring",
    "tasks",
    "threads",
    "train",
    "workflows",
]
ALWAYS_PRESENT = [
    ".flake8",
    ".gitignore",
    ".pre-commit-config.yaml",
    "CHANGELOG.md",
    "Makefile",
    "README.md",
    "pyproject.toml",
    "benchmarks/bench_cli_startup.py",
    "benchmarks/bench_predict.py",
    "docs/conf.py",
    "docs/index.md",
    "docs/cli.md",
    *(f"{SRC}/{module}.py" for module in CORE_MODULES),
    f"{SRC}/py.typed",
    *(
        f"{SRC}/commands/{module}.py"
        for module in ("__init__", "training", "scoring", "operations")
    ),
    f"{SRC}/resources/config.toml",
    f"{SRC}/resources/sample/train.csv",
    f"{SRC}/resources/sample/holdout.csv",
    # Tests live next to the code they test.
    f"{SRC}/tests/__init__.py",
    f"{SRC}/tests/conftest.py",
]
# Never in a render: tests moved into the package.
NEVER_PRESENT = ["tests"]

# (option, value) -> files present exactly when the option has that value.
OPTIONAL_FILES = {
    ("include_api", "yes"): [
        f"{SRC}/service/__init__.py",
        f"{SRC}/service/app.py",
        f"{SRC}/service/cli.py",
        f"{SRC}/service/served.py",
        f"{SRC}/service/tests/__init__.py",
        f"{SRC}/service/tests/conftest.py",
        "docs/http-api.md",
        "benchmarks/bench_http.py",
        "benchmarks/bench_slow_clients.py",
        "benchmarks/_service.py",
        "Dockerfile",
        ".dockerignore",
    ],
    ("experiment_tracking", "mlflow"): [
        f"{SRC}/tracking/__init__.py",
        f"{SRC}/tracking/cli.py",
        f"{SRC}/tracking/observer.py",
        f"{SRC}/tracking/store.py",
        f"{SRC}/tracking/tests/conftest.py",
        "docs/tracking.md",
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

# Jinja left in a path, and Jinja left in a file: an expression that names a variable or a
# statement tag (code may hold "}}", as in nested dict literals, so that alone proves nothing).
UNRENDERED_PATH = re.compile(r"\{\{|\}\}|\{%|%\}")
UNRENDERED = re.compile(r"\{\{-?\s*[A-Za-z_]|\{%|%\}")
GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
# Only these differ between the classification and the regression render of src/.
TASK_SPECIFIC = f"{SRC}/resources/"


def generated_files(project: Path) -> list[Path]:
    return sorted(p for p in project.rglob("*") if p.is_file())


def test_every_option_value_is_covered():
    for key, values in CHOICES.items():
        seen = {combo[key] for combo in COMBINATIONS}
        assert seen == set(values), f"{key}: {set(values) - seen} never rendered"


def test_files_present_and_absent_per_option(project):
    context, path = project
    missing = [relative for relative in ALWAYS_PRESENT if not (path / relative).is_file()]
    unexpected = [relative for relative in NEVER_PRESENT if (path / relative).exists()]
    for (key, value), files in OPTIONAL_FILES.items():
        expected = context[key] == value
        for relative in files:
            if (path / relative).exists() != expected:
                (unexpected if (path / relative).exists() else missing).append(relative)
    for (key, value), files in ABSENT_WHEN.items():
        expected = context[key] != value
        for relative in files:
            if (path / relative).exists() != expected:
                (unexpected if (path / relative).exists() else missing).append(relative)
    assert not missing and not unexpected, f"missing: {missing}, unexpected: {unexpected}"


def test_tests_live_next_to_the_code(project):
    context, path = project
    core_tests = sorted((path / SRC / "tests").glob("test_*.py"))
    service_tests = sorted((path / SRC / "service" / "tests").glob("test_*.py"))
    assert core_tests, "no test modules in the package"
    assert bool(service_tests) == (context["include_api"] == "yes")


@pytest.mark.parametrize("project", WITHOUT_API, ids=combo_id, indirect=True)
def test_no_trace_of_the_service_without_it(project):
    _, path = project
    traces = []
    for item in generated_files(path):
        text = item.read_text(encoding="utf-8")
        for match in SERVICE_WORDS.finditer(text):
            context = text[max(0, match.start() - 60) : match.end() + 40]
            traces.append(f"{item.relative_to(path)}: {context!r}")
    assert not traces, "\n".join(traces)


@pytest.mark.parametrize(
    "project",
    [combo for combo in COMBINATIONS if combo["experiment_tracking"] == "none"],
    ids=combo_id,
    indirect=True,
)
def test_no_trace_of_mlflow_without_tracking(project):
    """The service speaks MLflow's scoring protocol (``/invocations``): not tracking."""
    _, path = project
    traces = []
    for item in generated_files(path):
        relative = str(item.relative_to(path))
        if relative.startswith((f"{SRC}/service/", "docs/http-api.md")):
            continue
        text = item.read_text(encoding="utf-8")
        for match in re.finditer(r"mlflow|mlruns|sqlalchemy", text, re.IGNORECASE):
            traces.append(f"{relative}: {text[max(0, match.start() - 60) : match.end() + 40]!r}")
    assert not traces, "\n".join(traces)
    assert not (path / SRC / "tracking").exists()


@pytest.mark.parametrize("include_api", CHOICES["include_api"])
def test_ml_task_renders_share_one_src_tree(renders, include_api):
    """Only the bundled config and sample data differ between the two ml_task renders."""
    trees = []
    for ml_task in CHOICES["ml_task"]:
        root = renders.get({"ml_task": ml_task, "include_api": include_api}) / "src"
        trees.append(
            {
                str(item.relative_to(root.parent)): item.read_bytes()
                for item in generated_files(root)
                if not str(item.relative_to(root.parent)).startswith(TASK_SPECIFIC)
            }
        )
    first, second = trees
    assert sorted(first) == sorted(second), set(first) ^ set(second)
    differing = [name for name in first if first[name] != second[name]]
    assert not differing, "\n".join(differing)


def test_sample_data_fits_the_task(project):
    context, path = project
    sample = path / SRC / "resources" / "sample"
    header = (sample / "train.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    target = "churned" if context["ml_task"] == "classification" else "lifetime_value"
    assert header[-1] == target
    for name in ("train.csv", "holdout.csv"):
        assert (sample / name).stat().st_size < 100_000


def test_no_empty_files_or_directories(project):
    _, path = project
    allowed_empty = {"py.typed"}
    empty = [
        str(item.relative_to(path))
        for item in path.rglob("*")
        if (item.is_dir() and not any(item.iterdir()))
        or (item.is_file() and item.name not in allowed_empty and item.stat().st_size == 0)
    ]
    assert not empty, "\n".join(empty)


def test_nothing_left_unrendered(project):
    _, path = project
    leftovers = []
    for item in path.rglob("*"):
        relative = str(item.relative_to(path))
        if UNRENDERED_PATH.search(relative):
            leftovers.append(relative)
        if item.is_file():
            text = item.read_text(encoding="utf-8")
            if relative.startswith(".github/"):
                text = GITHUB_EXPRESSION.sub("", text)  # ${{ ... }} is Actions syntax
            match = UNRENDERED.search(text)
            if match:
                leftovers.append(
                    f"{relative}: {text[max(0, match.start() - 60):match.end() + 60]!r}"
                )
    assert not leftovers, "\n".join(leftovers)


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


def test_python_compiles(project):
    _, path = project
    broken = []
    for item in sorted(path.rglob("*.py")):
        try:
            compile(item.read_text(encoding="utf-8"), str(item), "exec", dont_inherit=True)
        except SyntaxError as error:
            broken.append(f"{item.relative_to(path)}:{error.lineno}: {error.msg}")
    assert not broken, "\n".join(broken)


def test_pyproject_follows_options(project):
    context, path = project
    meta = tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["name"] == "my-ml-project"
    assert meta["requires-python"] == f">={context['python_version']}"
    assert meta["scripts"] == {"my-ml-project": f"{PACKAGE}.cli:main"}
    versions = [c.rsplit(" ", 1)[-1] for c in meta["classifiers"] if "Python :: 3." in c]
    assert versions[0] == context["python_version"] and versions[-1] == "3.14"
    deps = " ".join(meta["dependencies"])
    assert ("flask" in deps) == (context["include_api"] == "yes")
    assert ("gunicorn" in deps) == (context["include_api"] == "yes")
    assert ("mlflow-skinny" in deps) == (context["experiment_tracking"] == "mlflow")
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
    listed = [
        target
        for target in ["install", "lint", "format", "test", "clean"]
        if re.search(rf"^\s*(\x1b\[36m)?{target}\b", result.stdout, re.M)
    ]
    assert listed == ["install", "lint", "format", "test", "clean"], result.stdout


# Every covering render, plus the longest package name the hook accepts as its own parameter.
LINTED = [
    *(pytest.param(context, id=combo_id(context)) for context in COMBINATIONS),
    pytest.param(LONGEST_NAME, id="longest-package-name"),
]


def hook_constant(hook: str, name: str):
    """Read a literal module-level constant of a hook (hooks parse before rendering)."""
    tree = ast.parse((HOOKS_DIR / hook).read_text(encoding="utf-8"))
    (value,) = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and [getattr(target, "id", None) for target in node.targets] == [name]
    ]
    return ast.literal_eval(value)


def test_longest_name_is_the_longest_the_hook_accepts():
    package = LONGEST_NAME["project_name"].lower().replace(" ", "_")
    assert len(package) == hook_constant("pre_gen_project.py", "MAX_PACKAGE_LENGTH")


# Run from the render's root so each picks up its own black and flake8 configuration.
@pytest.mark.parametrize("project", LINTED, indirect=True)
def test_black_passes_on_every_render(project):
    _, path = project
    black = run([PYTHON, "-m", "black", "--check", "--diff", "."], cwd=path)
    assert black.returncode == 0, black.stderr + black.stdout[-6000:]


@pytest.mark.parametrize("project", LINTED, indirect=True)
def test_flake8_passes_on_every_render(project):
    _, path = project
    run_ok([PYTHON, "-m", "flake8", "."], cwd=path)


@pytest.mark.parametrize("project", WITH_API, ids=combo_id, indirect=True)
def test_dockerfile_passes_hadolint(project):
    _, path = project
    hadolint = Path(PYTHON).parent / "hadolint"
    run_ok([str(hadolint), "Dockerfile"], cwd=path)
