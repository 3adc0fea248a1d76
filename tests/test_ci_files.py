"""Fast layer: the CI configurations and the docs' table of contents of every render.

CI files are validated against the schemas vendored in check-jsonschema (no network), and
every `make <target>` they call must exist in the generated Makefile.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from helpers import COMBINATIONS, PYTHON, combo_id, run_ok

ALL_PYTHONS = ["3.11", "3.12", "3.13", "3.14"]
DOC_PAGES_ALWAYS = [
    "getting-started",
    "configuration",
    "cli",
    "model-artifact",
    "operations",
    "extending",
    "spark",
    "production-readiness",
    "reference",
]
MAKE_CALL = re.compile(r"\bmake\s+([a-zA-Z_-]+)")
MAKE_TARGET = re.compile(r"^([a-zA-Z_-]+):", re.M)
TOCTREE = re.compile(r"```\{toctree\}\n(.*?)```", re.S)
WITH_CI = [c for c in COMBINATIONS if c["ci"] != "none"]
GITHUB = [c for c in COMBINATIONS if c["ci"] == "github"]
GITLAB = [c for c in COMBINATIONS if c["ci"] == "gitlab"]


def supported_pythons(oldest: str) -> list[str]:
    first = ALL_PYTHONS.index(oldest)
    return ALL_PYTHONS[first:]


def ci_files(path: Path) -> list[Path]:
    files = sorted((path / ".github").rglob("*.yml")) if (path / ".github").is_dir() else []
    if (path / ".gitlab-ci.yml").is_file():
        files.append(path / ".gitlab-ci.yml")
    return files


def check_schema(schema: str, files: list[Path]) -> None:
    assert files, f"nothing to validate against {schema}"
    run_ok([PYTHON, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)])


def test_ci_files_follow_the_ci_option(project):
    context, path = project
    assert (path / ".github" / "workflows" / "ci.yml").is_file() == (context["ci"] == "github")
    assert (path / ".github" / "dependabot.yml").is_file() == (context["ci"] == "github")
    assert (path / ".gitlab-ci.yml").is_file() == (context["ci"] == "gitlab")
    assert bool(ci_files(path)) == (context["ci"] != "none")


@pytest.mark.parametrize("project", GITHUB, ids=combo_id, indirect=True)
def test_github_files_match_their_schemas(project):
    _, path = project
    workflows = sorted((path / ".github" / "workflows").glob("*.yml"))
    assert [w.name for w in workflows] == ["ci.yml", "template-update.yml"]
    check_schema("vendor.github-workflows", workflows)
    check_schema("vendor.dependabot", [path / ".github" / "dependabot.yml"])


@pytest.mark.parametrize("project", GITLAB, ids=combo_id, indirect=True)
def test_gitlab_file_matches_its_schema(project):
    _, path = project
    check_schema("vendor.gitlab-ci", [path / ".gitlab-ci.yml"])


@pytest.mark.parametrize("project", WITH_CI, ids=combo_id, indirect=True)
def test_ci_calls_only_existing_make_targets(project):
    _, path = project
    targets = set(MAKE_TARGET.findall((path / "Makefile").read_text(encoding="utf-8")))
    missing = {}
    for ci_file in ci_files(path):
        document = yaml.safe_load(ci_file.read_text(encoding="utf-8"))
        called = set(MAKE_CALL.findall(yaml.safe_dump(document, width=10_000)))
        if called - targets:
            missing[ci_file.name] = sorted(called - targets)
    assert not missing, f"CI calls make targets the Makefile lacks: {missing}"


@pytest.mark.parametrize("project", WITH_CI, ids=combo_id, indirect=True)
def test_ci_runs_the_pipeline(project):
    _, path = project
    text = "\n".join(f.read_text(encoding="utf-8") for f in ci_files(path))
    pipeline = ("lint", "test", "docs", "build", "train", "evaluate", "validate")
    missing = [target for target in pipeline if not re.search(rf"\bmake {target}\b", text)]
    assert not missing, f"CI never runs make {missing}"


@pytest.mark.parametrize("project", GITHUB, ids=combo_id, indirect=True)
def test_github_matrix_covers_supported_pythons(project):
    context, path = project
    workflow = yaml.safe_load((path / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    assert set(workflow["jobs"]) == {"lint", "test", "readiness", "docs", "build", "ml"}
    matrix = workflow["jobs"]["test"]["strategy"]["matrix"]["python-version"]
    assert matrix == supported_pythons(context["python_version"])
    assert workflow["jobs"]["ml"]["needs"] == "test"
    assert workflow["permissions"] == {"contents": "read"}
    assert "concurrency" in workflow
    update = yaml.safe_load(
        (path / ".github/workflows/template-update.yml").read_text(encoding="utf-8")
    )
    steps = update["jobs"]["cruft-check"]["steps"]
    assert any("cruft check" in step.get("run", "") for step in steps)
    for step in steps[1:]:
        assert step["if"] == "hashFiles('.cruft.json') != ''", step


@pytest.mark.parametrize("project", GITLAB, ids=combo_id, indirect=True)
def test_gitlab_matrix_covers_supported_pythons(project):
    context, path = project
    pipeline = yaml.safe_load((path / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert pipeline["stages"] == ["lint", "test", "docs", "build", "ml"]
    matrix = pipeline["test"]["parallel"]["matrix"]
    assert matrix == [{"PYTHON_VERSION": supported_pythons(context["python_version"])}]
    assert pipeline["variables"]["PYTHON_VERSION"] == context["python_version"]
    assert pipeline["ml"]["needs"] == ["test"]
    assert {"reports/", "models/"} <= set(pipeline["ml"]["artifacts"]["paths"])


def test_docs_toctree_lists_exactly_the_pages(project):
    context, path = project
    docs = path / "docs"
    assert (docs / "http-api.md").is_file() == (context["include_api"] == "yes")
    pages = {page.stem for page in docs.glob("*.md")} - {"index"}
    expected = (
        set(DOC_PAGES_ALWAYS)
        | ({"http-api"} if context["include_api"] == "yes" else set())
        | ({"tracking"} if context["experiment_tracking"] == "mlflow" else set())
    )
    assert pages == expected
    index = (docs / "index.md").read_text(encoding="utf-8")
    (toctree,) = TOCTREE.findall(index)
    entries = [
        line.strip()
        for line in toctree.splitlines()
        if line.strip() and not line.strip().startswith(":")
    ]
    assert sorted(entries) == sorted(pages)
    assert len(entries) == len(set(entries))


def test_docs_reference_follows_include_api(project):
    context, path = project
    reference = (path / "docs" / "reference.md").read_text(encoding="utf-8")
    assert ("my_ml_project.service.app" in reference) == (context["include_api"] == "yes")
    cli = (path / "docs" / "cli.md").read_text(encoding="utf-8")
    # sphinx-click emits reStructuredText, so MyST must hand it to the rST parser.
    assert (
        "```{eval-rst}\n.. click:: my_ml_project.cli:main\n"
        "   :prog: my-ml-project\n   :nested: full\n```"
    ) in cli


def test_markdown_has_no_trailing_whitespace_and_one_final_newline(project):
    _, path = project
    problems = []
    for page in sorted(path.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        relative = page.relative_to(path)
        if not text.endswith("\n") or text.endswith("\n\n"):
            problems.append(f"{relative}: not exactly one final newline")
        for number, line in enumerate(text.splitlines(), 1):
            if line != line.rstrip():
                problems.append(f"{relative}:{number}: trailing whitespace")
    assert not problems, "\n".join(problems)
