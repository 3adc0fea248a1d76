"""copier support: the same questions, checks and files as cookiecutter.

`copier.yml` restates cookiecutter.json's questions with copier's validators (copier re-asks
an invalid answer instead of stopping). The fast tests here keep the two in step: the same
questions, choices and defaults, the same refusals as the pre-generation hook, the same
derived names, and byte-identical files for every covering combination. The slow test
follows a template change with `copier update`, as test_cruft.py does with cruft.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import copier
import pytest
import yaml

from helpers import (
    COMBINATIONS,
    COOKIECUTTER_JSON,
    TEMPLATE_DIR,
    check_context,
    combo_id,
    run_ok,
)
from test_hooks import LONG_ANSWERS, REJECTED, TRICKY_TEXT

COPIER_YML = yaml.safe_load((TEMPLATE_DIR / "copier.yml").read_text(encoding="utf-8"))
QUESTIONS = {
    name: spec
    for name, spec in COPIER_YML.items()
    if not name.startswith("_") and spec.get("when") is not False
}
ANSWERS_FILE = ".copier-answers.yml"
IGNORED = shutil.ignore_patterns(".git", ".venv", ".cache", ".demo", "__pycache__")


@pytest.fixture(scope="session")
def template_copy(tmp_path_factory) -> Path:
    """The template's files without git: copier renders a plain directory as it is, where it
    would clone a git checkout (slower, and blind to uncommitted changes)."""
    copy = tmp_path_factory.mktemp("copier") / "template"
    shutil.copytree(TEMPLATE_DIR, copy, ignore=IGNORED)
    return copy


def copier_render(template: Path, destination: Path, answers: dict[str, str]) -> Path:
    """Render ``template`` with copier's API, non-interactively."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # copier warns about dirty or untagged templates
        copier.run_copy(str(template), str(destination), data=answers, defaults=True, quiet=True)
    return destination


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ANSWERS_FILE
    }


def test_copier_asks_the_cookiecutter_questions_in_the_same_order():
    asked = [key for key in COOKIECUTTER_JSON if not key.startswith("_")]
    assert list(QUESTIONS) == asked
    prompts = COOKIECUTTER_JSON["__prompts__"]
    for name, spec in QUESTIONS.items():
        value = COOKIECUTTER_JSON[name]
        if isinstance(value, list):
            assert list(spec["choices"].values()) == value, name
            assert spec["default"] == value[0], name
            assert spec["help"] == prompts[name]["__prompt__"], name
            assert list(spec["choices"]) == [prompts[name][choice] for choice in value], name
        else:
            assert spec["help"] == prompts[name], name
            assert "validator" in spec, f"{name} is free text: copier must check it"
            if "{{" not in value:
                assert spec["default"] == value, name


@pytest.mark.parametrize("context", COMBINATIONS, ids=combo_id)
def test_copier_renders_the_files_cookiecutter_renders(context, renders, template_copy, tmp_path):
    cookiecutter_project = renders.get(context)
    copied = copier_render(template_copy, tmp_path / cookiecutter_project.name, context)
    expected, actual = tree(cookiecutter_project), tree(copied)
    assert sorted(actual) == sorted(expected)
    differing = [name for name in expected if expected[name] != actual[name]]
    assert not differing, differing
    recorded = yaml.safe_load((copied / ANSWERS_FILE).read_text(encoding="utf-8"))
    assert {key: recorded[key] for key in context} == context


@pytest.mark.parametrize(
    "answers",
    [
        {"project_name": "My ML Project"},
        {"project_name": "Ünïcode Æsir Œuvre Straße"},
        {"project_name": "Łódź Crème Brûlée"},
        {"project_name": "Churn 2025"},
        # Slugs longer than 40 characters are cut at a word boundary (or inside one long word).
        {
            "project_name": "Customer Lifetime Value Models For Retail Banking",
            "package_name": "clv",
        },
        {"project_name": "Supercalifragilisticexpialidocious Forecasting", "package_name": "sfe"},
    ],
    ids=lambda answers: answers["project_name"],
)
def test_copier_derives_the_names_cookiecutter_derives(answers, cookies, template_copy, tmp_path):
    baked = cookies.bake(extra_context=check_context(answers))
    assert baked.exit_code == 0, baked.exception
    copied = copier_render(template_copy, tmp_path / "p", answers)
    recorded = yaml.safe_load((copied / ANSWERS_FILE).read_text(encoding="utf-8"))
    assert recorded["project_slug"] == baked.project_path.name
    assert (copied / "src" / recorded["package_name"] / "__init__.py").is_file()
    assert (baked.project_path / "src" / recorded["package_name"]).is_dir()


BAD_ANSWERS = [(answers, field) for answers, field, _ in REJECTED] + [
    ({field: value}, field) for field, (value, _) in LONG_ANSWERS.items()
]


@pytest.mark.parametrize(("answers", "field"), BAD_ANSWERS, ids=str)
def test_copier_refuses_what_the_hook_refuses(answers, field, template_copy, tmp_path):
    with pytest.raises(ValueError, match=f"question '{field}'"):
        copier_render(template_copy, tmp_path / "p", check_context(answers))
    assert not (tmp_path / "p" / "pyproject.toml").exists()


def test_copier_accepts_and_renders_tricky_free_text(template_copy, tmp_path, cookies):
    baked = cookies.bake(extra_context=check_context(TRICKY_TEXT))
    assert baked.exit_code == 0, baked.exception
    copied = copier_render(template_copy, tmp_path / baked.project_path.name, TRICKY_TEXT)
    for name in ("pyproject.toml", "LICENSE", "README.md", "docs/conf.py"):
        assert (copied / name).read_bytes() == (baked.project_path / name).read_bytes(), name


@pytest.mark.slow
def test_copier_update_brings_a_template_change(tmp_path, monkeypatch):
    # copier runs git itself: identity and config come from the environment.
    for key, value in {
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }.items():
        monkeypatch.setenv(key, value)
    env = dict(os.environ)
    template = tmp_path / "template"
    shutil.copytree(TEMPLATE_DIR, template, ignore=IGNORED)

    def commit(repo: Path, message: str, tag: str | None = None) -> None:
        run_ok(["git", "add", "--all"], cwd=repo, env=env)
        run_ok(["git", "commit", "--quiet", "--no-verify", "-m", message], cwd=repo, env=env)
        if tag:
            run_ok(["git", "tag", tag], cwd=repo, env=env)

    run_ok(["git", "init", "--quiet", "--initial-branch=main"], cwd=template, env=env)
    commit(template, "template v1", tag="v1.0.0")
    context = check_context({"project_name": "Copier Demo", "ci": "gitlab", "include_api": "no"})
    project = tmp_path / "copier-demo"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(str(template), str(project), data=context, defaults=True, quiet=True)
    answers = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    assert answers["_commit"] == "v1.0.0"
    run_ok(["git", "init", "--quiet", "--initial-branch=main"], cwd=project, env=env)
    commit(project, "generated")

    marker = "- Template change that `copier update` must bring into the project."
    changelog = template / "{{cookiecutter.project_slug}}" / "CHANGELOG.md"
    changelog.write_text(changelog.read_text(encoding="utf-8") + f"{marker}\n", encoding="utf-8")
    commit(template, "template v2", tag="v1.1.0")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_update(str(project), defaults=True, overwrite=True, quiet=True)
    assert marker in (project / "CHANGELOG.md").read_text(encoding="utf-8")
    answers = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    assert answers["_commit"] == "v1.1.0"
    assert answers["include_api"] == "no" and answers["ci"] == "gitlab"
    # Options switched off at creation stay off.
    assert not (project / "src" / "copier_demo" / "service").exists()
    assert not (project / ".github").exists()
    assert (project / ".gitlab-ci.yml").is_file()
