"""Benchmark the service under slow clients: do other clients still get answers?

Starts ``{{ cookiecutter.project_slug }} serve`` (gunicorn, default settings unless
``--serve-arg`` says otherwise) on a free loopback port with the newest artifact under
``models/``, or with a model trained into a temporary directory when there is none. Then,
for ``--duration`` seconds, it keeps ``--slow`` connections open that send a request's
headers one byte a second and never finish them ("slowloris"; a connection the server
closes is opened again, as an attacker would), while one normal client sends
``GET /health`` and a 1-row ``POST /predict`` on a new connection every half second. It
prints how many normal requests were answered 200, how long they took, and what happened
to the slow connections.

Usage::

    python benchmarks/bench_slow_clients.py                        # 50 slow clients, 30 s
    python benchmarks/bench_slow_clients.py --slow 200 --duration 60
    python benchmarks/bench_slow_clients.py --serve-arg=--threads=8   # other serve settings
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from _service import HOST, find_or_train, module, serving

CLIENT_TIMEOUT = 10.0
CLIENT_INTERVAL = 0.5
SLOW_HEAD = b"POST /predict HTTP/1.1\r\nHost: bench\r\nX-Slow: "


@dataclass
class SlowClients:
    """``count`` connections that send their headers one byte a second, until stopped."""

    port: int
    count: int
    opened: int = 0
    closed_by_server: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        sockets: list[socket.socket | None] = [None] * self.count
        while not self.stop.is_set():
            for index, sock in enumerate(sockets):
                if sock is None:
                    sockets[index] = sock = self._open()
                    if sock is None:
                        continue
                try:
                    sock.send(b"a")
                except OSError:
                    self.closed_by_server += 1
                    sock.close()
                    sockets[index] = None
            self.stop.wait(1.0)
        for sock in sockets:
            if sock is not None:
                sock.close()

    def _open(self) -> socket.socket | None:
        try:
            sock = socket.create_connection((HOST, self.port), timeout=CLIENT_TIMEOUT)
            sock.send(SLOW_HEAD[:1])
        except OSError:
            return None
        self.opened += 1
        return sock


@dataclass
class Probe:
    """One normal client: status and seconds of every request, per path."""

    port: int
    body: bytes
    results: dict[str, list[tuple[int, float]]] = field(
        default_factory=lambda: {"/health": [], "/predict": []}
    )

    def run(self, duration: float) -> None:
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            started = time.monotonic()
            self.results["/health"].append(self._call("GET", "/health", None))
            self.results["/predict"].append(self._call("POST", "/predict", self.body))
            time.sleep(max(0.0, CLIENT_INTERVAL - (time.monotonic() - started)))

    def _call(self, method: str, path: str, body: bytes | None) -> tuple[int, float]:
        started = time.perf_counter()
        connection = http.client.HTTPConnection(HOST, self.port, timeout=CLIENT_TIMEOUT)
        try:
            connection.request(method, path, body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
        finally:
            connection.close()
        return status, time.perf_counter() - started


def summary(results: list[tuple[int, float]]) -> str:
    """Answered/total and latency of the answered requests, in milliseconds."""
    answered = sorted(seconds * 1000 for status, seconds in results if status == 200)
    if not answered:
        return f"{0:>5}/{len(results):<5}{'-':>10}{'-':>10}"
    p50 = statistics.median(answered)
    return f"{len(answered):>5}/{len(results):<5}{p50:>10.1f}{answered[-1]:>10.1f}"


def measure(port: int, body: bytes, slow: int, duration: float) -> tuple[Probe, SlowClients]:
    """Run the normal client for ``duration`` seconds next to ``slow`` slow connections."""
    attackers = SlowClients(port, slow)
    thread = threading.Thread(target=attackers.run, daemon=True)
    if slow:
        thread.start()
        time.sleep(3.0)  # every slow connection has been accepted and sent a few bytes
    probe = Probe(port, body)
    probe.run(duration)
    attackers.stop.set()
    if slow:
        thread.join()
    return probe, attackers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="artifact [default: newest under models/]")
    parser.add_argument("--slow", type=int, default=50, help="slow connections")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured")
    parser.add_argument(
        "--serve-arg",
        action="append",
        default=[],
        help="extra argument for serve, such as --serve-arg=--workers=2 (repeatable)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        model = find_or_train(args.model, scratch)
        row = module("artifact").read_metadata(model).schema.example_row()
        body = json.dumps({"instances": [row]}).encode()
        with serving(model, args.serve_arg, scratch / "serve.log") as port:
            quiet, _ = measure(port, body, 0, min(args.duration, 5.0))
            loaded, attackers = measure(port, body, args.slow, args.duration)

    settings = " ".join(args.serve_arg) or "defaults"
    print(f"serve ({settings}); one normal client every {CLIENT_INTERVAL:g} s, ", end="")
    print(f"timeout {CLIENT_TIMEOUT:g} s\n")
    print(f"{'':<34}{'answered':>11}{'p50 ms':>10}{'max ms':>10}")
    for label, probe in (("alone", quiet), (f"next to {args.slow} slow clients", loaded)):
        for path, results in probe.results.items():
            print(f"{label + ' ' + path:<34}{summary(results):>31}")
    print(
        f"\nslow connections: {attackers.opened} opened, "
        f"{attackers.closed_by_server} closed by the server in {args.duration:g} s"
    )


if __name__ == "__main__":
    main()
