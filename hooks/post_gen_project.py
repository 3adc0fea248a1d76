"""Remove the parts of the render that belong to options switched off.

Idempotent: cruft re-runs this hook on every update, and removing a path that is
already gone is a no-op. It never runs git or touches anything outside the render.
"""

from __future__ import annotations

import shutil
from pathlib import Path

PACKAGE = {{ cookiecutter.package_name | tojson }}
INCLUDE_API = {{ cookiecutter.include_api | tojson }} == "yes"
CI = {{ cookiecutter.ci | tojson }}
LICENSE = {{ cookiecutter.license | tojson }}

# path -> keep it?
OPTIONAL_PATHS = {
    f"src/{PACKAGE}/service": INCLUDE_API,
    "docs/http-api.md": INCLUDE_API,
    "benchmarks/bench_http.py": INCLUDE_API,
    "Dockerfile": INCLUDE_API,
    ".dockerignore": INCLUDE_API,
    ".github": CI == "github",
    ".gitlab-ci.yml": CI == "gitlab",
    "LICENSE": LICENSE != "Proprietary",
}


def remove(path: Path) -> None:
    """Delete a file or directory tree if it exists."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def main() -> None:
    root = Path.cwd()
    for relative, keep in OPTIONAL_PATHS.items():
        if not keep:
            remove(root / relative)


if __name__ == "__main__":
    main()
