"""Remove the parts of the render that belong to options switched off.

Idempotent: cruft re-runs this hook on every update, and removing a path that is
already gone is a no-op. It never runs git or touches anything outside the render.
The answers are read as data (one JSON document), so this file is valid Python
before and after rendering.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

# ``tojson`` escapes every quote and control character inside a value, so a raw
# triple-quoted string holds any answer.
ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
PACKAGE = ANSWERS["package_name"]
INCLUDE_API = ANSWERS["include_api"] == "yes"
TRACKING = ANSWERS.get("experiment_tracking", "none") == "mlflow"
CI = ANSWERS["ci"]
LICENSE = ANSWERS["license"]

# path -> keep it?  (The service's tests live inside src/<package>/service.)
OPTIONAL_PATHS = {
    f"src/{PACKAGE}/service": INCLUDE_API,
    "docs/http-api.md": INCLUDE_API,
    f"src/{PACKAGE}/tracking": TRACKING,
    "docs/tracking.md": TRACKING,
    "benchmarks/bench_http.py": INCLUDE_API,
    "benchmarks/bench_slow_clients.py": INCLUDE_API,
    "benchmarks/_service.py": INCLUDE_API,
    "Dockerfile": INCLUDE_API,
    ".dockerignore": INCLUDE_API,
    ".github": CI == "github",
    ".gitlab-ci.yml": CI == "gitlab",
    "LICENSE": LICENSE != "Proprietary",
}
NEXT_STEPS = """
Created {slug}. Next steps:

    cd {slug}
    make install   # uv sync: .venv with the dev and docs tools; writes uv.lock (commit it)
    make train     # train on the bundled sample, save an artifact under models/
    make test      # the test suite with its coverage gate
    make help      # every other target
"""


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
    print(NEXT_STEPS.format(slug=root.name))


if __name__ == "__main__":
    main()
