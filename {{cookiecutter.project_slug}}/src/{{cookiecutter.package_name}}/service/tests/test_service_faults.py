"""Faults against the real ``serve`` command: workers that exit or die, clients that stall.

The load test runs for ``<PACKAGE>_LOAD_SECONDS`` seconds (the package name in capitals,
for example ``MY_PROJECT_LOAD_SECONDS=60``), :data:`DEFAULT_LOAD_SECONDS` by default so
that the suite stays quick; run it for a minute or more before a release.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .. import MULTIPROCESS_ENV
from ..metrics import HTTP_METHODS, OTHER
from .test_service_e2e import STOP_TIMEOUT, call, free_port, wait_until_ready

pytestmark = pytest.mark.slow

PACKAGE = __name__.partition(".")[0]
LOAD_SECONDS_ENV = f"{PACKAGE.upper()}_LOAD_SECONDS"
DEFAULT_LOAD_SECONDS = 15.0
CLIENTS = 16
WORKERS = 2
BOOT_TIMEOUT = 60
KILL_GRACE = 1.0
"""Seconds after a kill during which a request may still have been in flight on it."""
_BOOTED = re.compile(r"Booting worker with pid: (\d+)")


@dataclass
class Service:
    process: subprocess.Popen
    base: str
    log: Path

    def records(self):
        """The JSON log records written so far."""
        records = []
        for line in self.log.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue  # a line some library printed as plain text
        return records

    def workers(self):
        """PIDs of every worker gunicorn booted so far, in order."""
        return [
            int(pid)
            for record in self.records()
            for pid in _BOOTED.findall(record.get("message", ""))
        ]

    def wait_for_workers(self, count):
        deadline = time.monotonic() + BOOT_TIMEOUT
        while len(self.workers()) < count:
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, f"fewer than {count} workers booted"
            time.sleep(0.1)
        return self.workers()

    def scrape(self):
        """``/metrics`` as ``{(name, frozenset(labels)): value}``."""
        status, _, body = call(f"{self.base}/metrics")
        assert status == 200, body
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(body.decode())
            for sample in family.samples
        }


@contextmanager
def serving(artifact_dir, tmp_path, *options):
    """Run ``serve`` with :data:`WORKERS` workers; stop it with SIGTERM, which must succeed."""
    port = free_port()
    log = tmp_path / "serve.log"
    source = str(Path(sys.modules[PACKAGE].__file__).parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
    }
    env.pop(MULTIPROCESS_ENV, None)  # serve's own temporary directory, as in production
    command = [
        *(sys.executable, "-m", PACKAGE, "--log-format", "json", "serve"),
        *("--model", str(artifact_dir), "--port", str(port), "--workers", str(WORKERS)),
        *options,
    ]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    service = Service(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_until_ready(process, service.base, log)
        service.wait_for_workers(WORKERS)
        yield service
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=STOP_TIMEOUT) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # gunicorn may log what it did to a worker; the service itself logs no error.
    errors = [
        record
        for record in service.records()
        if record["logger"].startswith(PACKAGE) and record["level"] in {"error", "critical"}
    ]
    assert not errors


def predictions_total(samples):
    return samples.get((f"{PACKAGE}_predictions_total", frozenset({("endpoint", "predict")})), 0)


def answers_everything(service, instance, times=10):
    """``/health``, ``/predict`` and ``/metrics`` all answer 200, ``times`` times each."""
    body = json.dumps(instance).encode()
    for _ in range(times):
        assert call(f"{service.base}/health")[0] == 200
        assert call(f"{service.base}/predict", body)[0] == 200
        service.scrape()
    return times


def test_a_worker_exit_leaves_the_others_and_its_replacement_serving(
    artifact_dir, instances, tmp_path
):
    with serving(artifact_dir, tmp_path) as service:
        first, second = service.workers()
        predicted = answers_everything(service, instances[0])
        os.kill(first, signal.SIGTERM)  # as a timeout or max-requests recycling would
        service.wait_for_workers(WORKERS + 1)
        predicted += answers_everything(service, instances[0])
        os.kill(second, signal.SIGTERM)
        service.wait_for_workers(WORKERS + 2)
        # Only replacements are left now.
        predicted += answers_everything(service, instances[0])

        connection = http.client.HTTPConnection(service.base.removeprefix("http://"))
        connection.request("FOOBAR", "/health")
        assert connection.getresponse().status == 405
        connection.close()
        samples = service.scrape()
        # Counts of exited workers still count.
        assert predictions_total(samples) == predicted
        methods = {
            dict(labels)["method"]
            for name, labels in samples
            if name == f"{PACKAGE}_http_requests_total"
        }
        assert OTHER in methods
        assert methods <= HTTP_METHODS | {OTHER}


def test_a_client_that_stalls_mid_body_breaks_nothing(artifact_dir, instances, tmp_path):
    timeout = 2
    with serving(artifact_dir, tmp_path, "--timeout", str(timeout)) as service:
        host, port = service.base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as stalled:
            stalled.sendall(
                b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 1000\r\n\r\n{"instances": ['
            )
            time.sleep(timeout + 2)  # past the worker timeout
            answers_everything(service, instances[0], times=3)
        answers_everything(service, instances[0])


@dataclass(frozen=True)
class Outcome:
    path: str
    started: float
    ended: float
    status: int | None
    error: str | None


def load_seconds():
    return float(os.environ.get(LOAD_SECONDS_ENV, DEFAULT_LOAD_SECONDS))


def test_killed_workers_under_load_fail_only_requests_in_flight(artifact_dir, instances, tmp_path):
    duration = load_seconds()
    outcomes: list[Outcome] = []
    scrapes: list[tuple[int, float]] = []
    stop = threading.Event()
    body = json.dumps(instances[0]).encode()

    def client(number):
        sent = 0
        while not stop.is_set():
            path = "/health" if sent % 5 == number % 5 else "/predict"
            started = time.monotonic()
            try:
                status = call(base + path, body if path == "/predict" else None)[0]
                error = None
            except (OSError, http.client.HTTPException) as exc:
                status, error = None, type(exc).__name__
            outcomes.append(Outcome(path, started, time.monotonic(), status, error))
            sent += 1

    def scraper():
        while not stop.wait(0.5):
            status, _, text = call(base + "/metrics")
            counted = [
                sample.value
                for family in text_string_to_metric_families(text.decode())
                for sample in family.samples
                if sample.name == f"{PACKAGE}_predictions_total"
                and sample.labels == {"endpoint": "predict"}
            ]
            scrapes.append((status, sum(counted)))

    with serving(artifact_dir, tmp_path) as service:
        base = service.base
        first, second = service.workers()
        before = predictions_total(service.scrape())
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        threads.append(threading.Thread(target=scraper))
        start = time.monotonic()
        for thread in threads:
            thread.start()
        try:
            time.sleep(duration / 3)
            kills = [time.monotonic()]
            os.kill(first, signal.SIGTERM)
            service.wait_for_workers(WORKERS + 1)
            time.sleep(max(0.0, start + 2 * duration / 3 - time.monotonic()))
            kills.append(time.monotonic())
            os.kill(second, signal.SIGKILL)
            service.wait_for_workers(WORKERS + 2)
            replaced = time.monotonic()  # from here on, only replacements serve
            time.sleep(max(duration / 6, start + duration - time.monotonic()))
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        after = predictions_total(service.scrape())

    failed = [o for o in outcomes if o.error is not None]
    answered = [o for o in outcomes if o.error is None]
    assert len(outcomes) > CLIENTS * duration, "the load was too light to mean anything"
    assert len(failed) <= len(kills) * CLIENTS, failed
    for outcome in failed:
        assert any(
            outcome.started <= kill + KILL_GRACE and outcome.ended >= kill for kill in kills
        ), f"{outcome} was not in flight when a worker was killed at {kills}"
    assert {o.status for o in answered} == {200}
    for path in ("/health", "/predict"):
        assert any(o.path == path and o.started > kills[0] for o in answered)
        assert any(o.path == path and o.started > replaced for o in answered)

    assert scrapes and {status for status, _ in scrapes} == {200}
    counts = [count for _, count in scrapes]
    assert counts == sorted(counts), "a counter went down"
    # Every answered prediction was counted; a request lost in flight may have been too.
    predicted = sum(o.path == "/predict" for o in answered)
    lost = sum(o.path == "/predict" for o in failed)
    assert predicted <= after - before <= predicted + lost
