"""`make demo`: render the default project, then train, evaluate, validate, predict and serve it.

Uses the same cached environment as the slow tests, so a second run takes seconds.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cookiecutter.main import cookiecutter

from helpers import TEMPLATE_DIR
from project_env import ENV_PYTHON, ensure_env, env_vars, install_project


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def sh(command: list[str], cwd: Path) -> str:
    print("$", " ".join(command), flush=True)
    result = subprocess.run(command, cwd=cwd, env=env_vars(), capture_output=True, text=True)
    print(result.stdout, end="")
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        raise SystemExit(f"demo failed at: {' '.join(command)}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_and_query(project: Path, package: str) -> None:
    port = free_port()
    command = [str(ENV_PYTHON), "-m", package, "serve", "--port", str(port), "--workers", "2"]
    print("$", " ".join(command[1:]), flush=True)
    server = subprocess.Popen(command, cwd=project, env=env_vars())
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/ready", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("the service did not become ready")
        holdout = project / "src" / package / "resources" / "sample" / "holdout.csv"
        header, first = holdout.read_text(encoding="utf-8").splitlines()[:2]
        record = {}
        for name, value in zip(header.split(","), first.split(",")):
            if name in {"churned", "lifetime_value"}:
                continue
            try:
                record[name] = float(value) if value else None
            except ValueError:
                record[name] = value
        request = urllib.request.Request(
            f"{base}/predict",
            data=json.dumps({"instances": [record]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        print(f"POST {base}/predict {json.dumps({'instances': [record]})}")
        with urllib.request.urlopen(request, timeout=10) as response:
            print(response.status, response.read().decode())
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    output = Path(sys.argv[1] if len(sys.argv) > 1 else ".demo").resolve()
    shutil.rmtree(output, ignore_errors=True)
    step(f"rendering the default project into {output}")
    project = Path(cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=str(output)))
    package = project.name.replace("-", "_")
    step("installing it into the shared environment (.cache/project-env)")
    ensure_env(project)
    install_project(project)
    for target in ("train", "evaluate", "validate", "predict"):
        step(f"make {target}")
        sh(["make", "--no-print-directory", target, f"PYTHON={ENV_PYTHON}"], project)
    if (project / "src" / package / "service").is_dir():
        step("serving the model with gunicorn and querying it")
        serve_and_query(project, package)
    step(f"done: the project is in {project}")


if __name__ == "__main__":
    main()
