"""One cached virtual environment for running generated projects.

Third-party dependencies (the union over all options, dev and docs groups included) are
installed once with uv into ``.cache/project-env``; each generated project is then installed
into it editable and without dependencies, which takes a second.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import TEMPLATE_DIR

ENV_DIR = TEMPLATE_DIR / ".cache" / "project-env"
ENV_PYTHON = ENV_DIR / "bin" / "python"


def uv(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "uv", *args], check=True)


def ensure_env(full_project: Path) -> None:
    """Create the environment and install every dependency ``full_project`` declares.

    ``full_project`` must be a render with every optional dependency switched on.
    """
    if not ENV_PYTHON.exists():
        uv("venv", "--quiet", "--python", sys.executable, str(ENV_DIR))
    uv(
        "pip",
        "install",
        "--quiet",
        # Bytecode written once here: every generated test starts Python subprocesses (the
        # CLI, gunicorn, pre-commit's tools), and without .pyc files each one compiles
        # pandas, scikit-learn and friends again (seconds each, PYTHONDONTWRITEBYTECODE or not).
        "--compile-bytecode",
        "--python",
        str(ENV_PYTHON),
        "-r",
        str(full_project / "pyproject.toml"),
        # The dev and docs tools: PEP 735 dependency groups (path:group).
        "--group",
        f"{full_project / 'pyproject.toml'}:dev",
        "--group",
        f"{full_project / 'pyproject.toml'}:docs",
        # pyspark and pyarrow: the generated Spark tests run in one render (see
        # test_generated_projects.py); pyspark is large, uv caches it after the first install.
        "--extra",
        "spark",
        "schemathesis>=4.0",
        # MLflow's scoring client (mlflow.pyfunc.scoring_server.client), without the server.
        "mlflow-skinny>=3.0",
    )


def install_project(project: Path) -> None:
    """Install a rendered project into the shared environment (editable, no dependencies)."""
    uv("pip", "install", "--quiet", "--python", str(ENV_PYTHON), "--no-deps", "-e", str(project))


def env_vars() -> dict[str, str]:
    """Environment variables that activate the shared environment for a subprocess."""
    env = dict(os.environ)
    env["VIRTUAL_ENV"] = str(ENV_DIR)
    env["PATH"] = f"{ENV_DIR / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    env["PYTHON"] = str(ENV_PYTHON)
    return env
