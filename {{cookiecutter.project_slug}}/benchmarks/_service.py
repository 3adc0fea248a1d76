"""What the HTTP benchmarks share: a model to serve and a ``serve`` process around a block.

Imported by ``bench_http.py`` and ``bench_slow_clients.py`` (run as scripts, so this
directory is on ``sys.path``).
"""

from __future__ import annotations

import importlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

PACKAGE = "{{ cookiecutter.package_name }}"
HOST = "127.0.0.1"
MODELS_DIR = Path("models")
START_TIMEOUT = 120


def module(name: str) -> ModuleType:
    """The package's module ``name`` (imported by name, so this file is plain Python)."""
    return importlib.import_module(f"{PACKAGE}.{name}")


def find_or_train(model: Path | None, scratch: Path) -> Path:
    """The given artifact, else the newest under models/, else one trained into ``scratch``."""
    if model is not None:
        return model
    artifact, errors = module("artifact"), module("errors")
    try:
        return Path(artifact.latest_artifact(MODELS_DIR))
    except errors.ArtifactError:
        print(f"no artifact under {MODELS_DIR}/: training one on the bundled sample")
        config = module("config").load_config()
        return Path(module("workflows").train_and_save(config, scratch / "models"))


def free_port() -> int:
    """A loopback port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(model: Path, serve_args: list[str], log: Path) -> Iterator[int]:
    """Run ``serve`` in a child process until the block ends; yield its port."""
    port = free_port()
    command = [sys.executable, "-m", PACKAGE, "serve", "--model", str(model)]
    command += ["--host", HOST, "--port", str(port), *serve_args]
    with open(log, "wb") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(server, port, log)
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_ready(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Poll ``GET /ready`` until it answers 200; exit when the server dies or times out."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass  # not listening yet
        time.sleep(0.2)
    sys.exit(f"serve was not ready after {START_TIMEOUT} s; see {log}")
