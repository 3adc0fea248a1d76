"""Shared helpers for the template's tests: the option table, renders and subprocesses.

Test modules import from here; ``conftest.py`` holds only fixtures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
PROJECT_TEMPLATE = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
HOOKS_DIR = TEMPLATE_DIR / "hooks"
COOKIECUTTER_JSON = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))
OPTION_KEYS = {key for key in COOKIECUTTER_JSON if not key.startswith("_")}
CHOICES = {
    key: value
    for key, value in COOKIECUTTER_JSON.items()
    if isinstance(value, list) and key in OPTION_KEYS
}
PYTHON = sys.executable
COMMAND_TIMEOUT = 1200  # seconds: a hung subprocess fails its test instead of the whole run


def check_context(context: dict[str, str]) -> dict[str, str]:
    """Fail loudly when a test passes a key that cookiecutter.json does not define."""
    unknown = set(context) - OPTION_KEYS
    assert not unknown, f"keys not in cookiecutter.json: {sorted(unknown)}"
    for key, value in context.items():
        if key in CHOICES:
            assert value in CHOICES[key], f"{key}={value!r} is not one of {CHOICES[key]}"
    return context


def covering_combinations() -> list[dict[str, str]]:
    """Every triple of ml_task x include_api x ci, cycling the other choices across them.

    Each value of every option appears at least once; 12 renders instead of 192.
    """
    combos = []
    index = 0
    for ml_task in CHOICES["ml_task"]:
        for include_api in CHOICES["include_api"]:
            for ci in CHOICES["ci"]:
                combos.append(
                    {
                        "ml_task": ml_task,
                        "include_api": include_api,
                        "ci": ci,
                        "python_version": CHOICES["python_version"][
                            index % len(CHOICES["python_version"])
                        ],
                        "license": CHOICES["license"][index % len(CHOICES["license"])],
                        "experiment_tracking": CHOICES["experiment_tracking"][
                            index % len(CHOICES["experiment_tracking"])
                        ],
                    }
                )
                index += 1
    return combos


def combo_id(context: dict[str, str]) -> str:
    return "-".join(f"{key}={value}" for key, value in context.items())


COMBINATIONS = covering_combinations()
WITH_API = [combo for combo in COMBINATIONS if combo["include_api"] == "yes"]
WITHOUT_API = [combo for combo in COMBINATIONS if combo["include_api"] == "no"]
# The longest package name the pre-generation hook accepts (30 characters): no generated line
# may go over the length limit because of it.
LONGEST_NAME = {"project_name": "Customer Lifetime Value Models", "include_api": "yes"}


class Renders:
    """Render each context once per session (rendering is cheap, but not free)."""

    def __init__(self, cookies_session) -> None:
        self._cookies = cookies_session
        self._cache: dict[str, Path] = {}

    def get(self, context: dict[str, str]) -> Path:
        key = json.dumps(check_context(context), sort_keys=True)
        if key not in self._cache:
            result = self._cookies.bake(extra_context=context)
            assert result.exception is None, result.exception
            assert result.exit_code == 0
            self._cache[key] = Path(result.project_path)
        return self._cache[key]


def run(cmd: list[str], cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, returning its result; output is captured as text."""
    kwargs.setdefault("timeout", COMMAND_TIMEOUT)
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, **kwargs)


def run_ok(cmd: list[str], cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run a command and fail the test with its output if it exits non-zero."""
    result = run(cmd, cwd=cwd, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
    )
    return result


def template_python_files() -> list[Path]:
    """Every ``.py`` file of the template as it is on disk (project template and hooks)."""
    return sorted([*PROJECT_TEMPLATE.rglob("*.py"), *HOOKS_DIR.glob("*.py")])
