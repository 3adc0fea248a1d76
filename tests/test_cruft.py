"""Slow layer: the update story. A project created with cruft follows template changes.

The template is copied into a throw-away git repository, a project is created from it with
`cruft create`, the template then changes, and `cruft check` / `cruft update` must notice
and carry the change into the project. Everything is local: no network is needed.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from helpers import PYTHON, TEMPLATE_DIR, check_context, run, run_ok

pytestmark = pytest.mark.slow

IGNORED = shutil.ignore_patterns(
    ".git", ".venv", ".cache", ".demo", "__pycache__", ".pytest_cache", "*.py[cod]"
)
CONTEXT = check_context({"project_name": "Cruft Demo", "ci": "github", "include_api": "yes"})
SLUG = "cruft-demo"
MARKER = "- Template change that `cruft update` must bring into the project."


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """Isolate cookiecutter's user config and replay files and git's identity."""
    home = tmp_path / "home"
    home.mkdir()
    config = home / "cookiecutterrc.yaml"
    config.write_text(
        f"cookiecutters_dir: {json.dumps(str(home / 'cookiecutters'))}\n"
        f"replay_dir: {json.dumps(str(home / 'replay'))}\n",
        encoding="utf-8",
    )
    variables = dict(os.environ)
    variables.update(
        COOKIECUTTER_CONFIG=str(config),
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    return variables


def git_commit_all(repo: Path, message: str, env: dict[str, str]) -> None:
    run_ok(["git", "add", "--all"], cwd=repo, env=env)
    run_ok(["git", "commit", "--quiet", "--no-verify", "-m", message], cwd=repo, env=env)


def cruft(*args: str, cwd: Path, env: dict[str, str]):
    return run([PYTHON, "-m", "cruft", *args], cwd=cwd, env=env)


def test_cruft_create_check_and_update(tmp_path, env):
    template = tmp_path / "template"
    shutil.copytree(TEMPLATE_DIR, template, ignore=IGNORED)
    run_ok(["git", "init", "--quiet", "--initial-branch=main"], cwd=template, env=env)
    git_commit_all(template, "template v1", env)

    out = tmp_path / "out"
    out.mkdir()
    created = cruft(
        "create",
        "--no-input",
        "--output-dir",
        str(out),
        "--extra-context",
        json.dumps(CONTEXT),
        str(template),
        cwd=tmp_path,
        env=env,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    project = out / SLUG
    cruft_state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert cruft_state["template"] == str(template)
    assert cruft_state["context"]["cookiecutter"]["ci"] == "github"
    # The hooks never initialise git: the project is not a repository until we make it one.
    assert not (project / ".git").exists()
    run_ok(["git", "init", "--quiet", "--initial-branch=main"], cwd=project, env=env)
    git_commit_all(project, "generated", env)

    up_to_date = cruft("check", cwd=project, env=env)
    assert up_to_date.returncode == 0, up_to_date.stdout + up_to_date.stderr

    changelog = template / "{{cookiecutter.project_slug}}" / "CHANGELOG.md"
    changelog.write_text(changelog.read_text(encoding="utf-8") + f"{MARKER}\n", encoding="utf-8")
    git_commit_all(template, "template v2", env)

    outdated = cruft("check", cwd=project, env=env)
    assert outdated.returncode != 0, outdated.stdout + outdated.stderr

    updated = cruft("update", "--skip-apply-ask", cwd=project, env=env)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert MARKER in (project / "CHANGELOG.md").read_text(encoding="utf-8")
    # Options switched off at creation stay off: the hook re-ran on both renders.
    assert not (project / ".gitlab-ci.yml").exists()
    assert (project / ".github" / "workflows" / "ci.yml").is_file()

    after = cruft("check", cwd=project, env=env)
    assert after.returncode == 0, after.stdout + after.stderr
