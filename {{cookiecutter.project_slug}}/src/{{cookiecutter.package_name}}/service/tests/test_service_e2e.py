"""End to end: the real ``serve`` command, gunicorn with two workers, real HTTP requests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .. import MULTIPROCESS_ENV

pytestmark = pytest.mark.slow

PACKAGE = __name__.partition(".")[0]
START_TIMEOUT = 120
STOP_TIMEOUT = 60
SINGLE_REQUESTS = 40
PREDICTIONS = PACKAGE + '_predictions_total{endpoint="predict"}'


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(url, body=None, content_type="application/json", headers=None):
    """Send one request; return status, headers and body, for errors too."""
    request = urllib.request.Request(url, data=body, headers=dict(headers or {}))
    if body is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def wait_until_ready(process, base, log):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if call(f"{base}/ready")[0] == 200:
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.2)
    pytest.fail(f"serve was not ready after {START_TIMEOUT} s:\n{log.read_text()}")


def scrape_predictions(base):
    status, _, body = call(f"{base}/metrics")
    assert status == 200
    (line,) = [line for line in body.decode().splitlines() if line.startswith(PREDICTIONS)]
    return float(line.split()[-1])


def test_serve_answers_over_http_and_stops_cleanly(
    artifact_dir, instances, rows, expected, tmp_path
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    source = str(Path(sys.modules[PACKAGE].__file__).parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
    }
    env.pop(MULTIPROCESS_ENV, None)
    command = [
        sys.executable,
        "-m",
        PACKAGE,
        "--log-format",
        "json",
        "serve",
        "--model",
        str(artifact_dir),
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until_ready(process, base, log)

        body = json.dumps({"instances": instances}).encode()
        status, headers, answer = call(f"{base}/predict", body, headers={"X-Request-ID": "e2e-1"})
        assert status == 200
        assert headers["X-Request-ID"] == "e2e-1"
        assert json.loads(answer)["predictions"] == expected

        csv = rows.to_csv(index=False).encode()
        status, _, answer = call(f"{base}/invocations", csv, "text/csv")
        assert (status, json.loads(answer)) == (200, {"predictions": expected})

        status, _, answer = call(f"{base}/predict", b"{not json")
        assert status == 400
        assert json.loads(answer)["error"]["code"] == "invalid_json"

        for instance in instances[:1] * SINGLE_REQUESTS:
            assert call(f"{base}/predict", json.dumps(instance).encode())[0] == 200

        # Whichever worker answers, /metrics adds up both workers' counts.
        served = len(instances) + SINGLE_REQUESTS
        assert [scrape_predictions(base) for _ in range(6)] == [served] * 6

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=STOP_TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert sum("Booting worker" in r["message"] for r in records) == 2
    (access,) = [r for r in records if r.get("request_id") == "e2e-1"]
    assert access["logger"] == f"{PACKAGE}.service.access"
    assert (access["status"], access["path"]) == (200, "/predict")
