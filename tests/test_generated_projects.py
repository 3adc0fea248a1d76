"""Slow layer: install generated projects and run their own lint, tests and docs.

One shared environment holds the third-party dependencies (see ``project_env``); each
combination below is rendered under its own name, git-initialised (pre-commit only sees
tracked files), installed editable, and then driven through its own Makefile.
"""

from __future__ import annotations

import pytest

from conftest import check_context, run_ok
from project_env import ensure_env, env_vars, install_project

pytestmark = pytest.mark.slow

# Covering set: both ml_task values with the service, every ci value, the oldest Python.
SLOW_COMBINATIONS = [
    {
        "project_name": "Churn Classifier",
        "ml_task": "classification",
        "include_api": "yes",
        "ci": "github",
        "python_version": "3.11",
        "license": "MIT",
    },
    {
        "project_name": "Price Regressor",
        "ml_task": "regression",
        "include_api": "yes",
        "ci": "gitlab",
        "python_version": "3.10",
        "license": "Apache-2.0",
    },
    {
        "project_name": "Batch Only",
        "ml_task": "classification",
        "include_api": "no",
        "ci": "none",
        "python_version": "3.12",
        "license": "Proprietary",
    },
]


@pytest.fixture(scope="session")
def shared_env(cookies_session):
    full = cookies_session.bake(extra_context=check_context({"include_api": "yes"}))
    assert full.exit_code == 0, full.exception
    ensure_env(full.project_path)
    return env_vars()


def git_init(project) -> None:
    for cmd in (
        ["git", "init", "--quiet", "--initial-branch=main"],
        ["git", "add", "--all"],
        ["git", "-c", "user.name=Test", "-c", "user.email=t@example.com", "commit", "-qm", "init"],
    ):
        run_ok(cmd, cwd=project)


@pytest.mark.parametrize(
    "context", SLOW_COMBINATIONS, ids=[c["project_name"] for c in SLOW_COMBINATIONS]
)
def test_generated_project_passes_its_own_checks(cookies_session, shared_env, context):
    result = cookies_session.bake(extra_context=check_context(context))
    assert result.exit_code == 0, result.exception
    project = result.project_path
    git_init(project)
    install_project(project)
    for target in ("lint", "test"):
        run_ok(["make", "--no-print-directory", target], cwd=project, env=shared_env)
