"""Benchmark the HTTP service: 1-row latency next to in-process prediction, and throughput.

Starts ``{{ cookiecutter.project_slug }} serve`` (gunicorn, default settings: micro-batching
on) on a free loopback port with the newest artifact under ``models/``, or with a model
trained into a temporary directory when there is none. Then it measures, in one run:

- in-process ``predict_frame`` on 1 and on 32 rows, with one native thread as in a worker;
- the latency of sequential 1-row ``POST /predict`` requests, p50 and p99
  (target: HTTP p50 at most in-process 1-row p50 + 1.5 ms);
- the throughput of 1-row ``POST /predict`` from concurrent clients (32 by default), each
  on its own keep-alive connection, with its p99 next to the configured maximum wait;
  the target is 3x the 1-row limit of a server making one model call per request
  (workers / in-process 1-row predict time), or 70% of the HTTP ceiling (``GET /health``
  at the same concurrency) when that is lower; no request may fail.

The request row is the model's own example row (``Schema.example_row``), so the benchmark
works for any task and feature set. The clients run on the same machine as the server, so
they are kept cheap (:class:`KeepAliveClient`): every CPU cycle they spend is taken from
the server being measured.

Usage::

    python benchmarks/bench_http.py                          # 500 requests; 32 clients, 20 s
    python benchmarks/bench_http.py --duration 5 --workers 2
    python benchmarks/bench_http.py --batch-max-rows 0       # micro-batching off, to compare
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from _service import HOST, find_or_train, module, serving
from typing import Any

WARMUP = 20
TIMEOUT = 30.0
TARGET_OVERHEAD_MS = 1.5
TARGET_SPEEDUP = 3.0
TARGET_CEILING_SHARE = 0.7


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p99, in milliseconds."""
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def in_process_latency(model: Path, row: dict[str, Any], rows: int, requests: int) -> list[float]:
    """Time ``predict_frame`` on ``rows`` copies of one row, with one native thread."""
    import pandas as pd

    predict_frame = module("predict").predict_frame
    artifact = module("artifact").load_artifact(model)
    frame = pd.DataFrame([row] * rows)
    timings = []
    with module("threads").limited_threads(1):
        for index in range(WARMUP + requests):
            started = time.perf_counter()
            predict_frame(artifact, frame)
            if index >= WARMUP:
                timings.append(time.perf_counter() - started)
    return timings


class KeepAliveClient:
    """One keep-alive HTTP/1.1 connection sending one prepared request, again and again.

    It sends pre-encoded bytes and reads only the status line and ``Content-Length``, as
    ``wrk`` does: about a third of the CPU ``http.client`` spends per request (0.07 ms
    instead of 0.2 ms measured here), CPU a client on the same machine would take from the
    server it measures. After a failure, or when the server closes the connection, the
    next request reconnects.
    """

    _LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
    _CLOSE = re.compile(rb"\r\nconnection:[ \t]*close", re.IGNORECASE)

    def __init__(self, port: int, path: str, body: bytes | None = None) -> None:
        method = "GET" if body is None else "POST"
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.request = head.encode() + b"\r\n" + (body or b"")
        self.port = port
        self.sock: socket.socket | None = None

    def send(self) -> int:
        """Send the request, read the whole answer and return its status code.

        Raises
        ------
        OSError
            When the exchange fails (the connection is closed).
        """
        if self.sock is None:
            self.sock = socket.create_connection((HOST, self.port), timeout=TIMEOUT)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock.sendall(self.request)
            data = b""
            while (end := data.find(b"\r\n\r\n")) < 0:
                data += self._receive(64 * 1024)
            head = data[:end]
            length = self._LENGTH.search(head)
            if length is None:
                raise ConnectionError("an answer without Content-Length")
            missing = end + 4 + int(length.group(1)) - len(data)
            while missing > 0:
                missing -= len(self._receive(missing))
            if self._CLOSE.search(head):
                self.close()
            return int(head[9:12])
        except OSError:
            self.close()
            raise

    def _receive(self, size: int) -> bytes:
        assert self.sock is not None
        chunk = self.sock.recv(size)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        """Close the connection, if open."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def http_latency(port: int, body: bytes, requests: int) -> list[float]:
    """Time sequential 1-row requests from one client."""
    client = KeepAliveClient(port, "/predict", body)
    timings = []
    for index in range(WARMUP + requests):
        started = time.perf_counter()
        status = client.send()
        if status != 200:
            sys.exit(f"POST /predict answered {status}")
        if index >= WARMUP:
            timings.append(time.perf_counter() - started)
    client.close()
    return timings


def throughput(
    port: int, body: bytes | None, concurrency: int, duration: float, path: str = "/predict"
) -> tuple[int, int, list[float]]:
    """Requests answered 200, failed, and the latencies of all, by concurrent clients.

    ``body`` None sends ``GET path``, else ``POST path`` with the JSON body.
    """
    deadline = time.monotonic() + duration
    counts = [[0, 0] for _ in range(concurrency)]
    latencies: list[list[float]] = [[] for _ in range(concurrency)]

    def run(count: list[int], timings: list[float]) -> None:
        client = KeepAliveClient(port, path, body)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                count[0 if client.send() == 200 else 1] += 1
            except OSError:
                count[1] += 1
            timings.append(time.perf_counter() - started)
        client.close()

    threads = [threading.Thread(target=run, args=pair) for pair in zip(counts, latencies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [seconds for timings in latencies for seconds in timings]
    return sum(c[0] for c in counts), sum(c[1] for c in counts), every


def batching_totals(port: int) -> tuple[float, float, float]:
    """Model calls, requests and seconds of queue wait so far, from ``GET /metrics``."""
    from prometheus_client.parser import text_string_to_metric_families

    namespace = module("service.metrics").NAMESPACE
    with urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=TIMEOUT) as answer:
        text = answer.read().decode()
    totals = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return (
        totals.get(f"{namespace}_batch_size_count", 0.0),
        totals.get(f"{namespace}_batch_size_sum", 0.0),
        totals.get(f"{namespace}_batch_queue_wait_seconds_sum", 0.0),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="artifact [default: newest under models/]")
    parser.add_argument("--requests", type=int, default=500, help="sequential requests timed")
    parser.add_argument("--duration", type=float, default=20.0, help="throughput seconds")
    parser.add_argument("--concurrency", type=int, default=32, help="throughput clients")
    parser.add_argument("--workers", type=int, help="gunicorn workers [default: CPUs]")
    parser.add_argument("--threads", type=int, help="threads per worker [default: serve's]")
    parser.add_argument("--batch-max-rows", type=int, help="[default: serve's]; 0: off")
    parser.add_argument("--batch-max-wait-ms", type=float, help="[default: serve's]")
    args = parser.parse_args()

    serve_args = []
    for option in ("workers", "threads", "batch_max_rows", "batch_max_wait_ms"):
        value = getattr(args, option)
        if value is not None:
            serve_args += [f"--{option.replace('_', '-')}", str(value)]
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        model = find_or_train(args.model, scratch)
        metadata = module("artifact").read_metadata(model)
        row = metadata.schema.example_row()
        body = json.dumps({"instances": [row]}).encode()
        one_row = percentiles(in_process_latency(model, row, 1, args.requests))
        rows_32 = percentiles(in_process_latency(model, row, 32, args.requests))
        with serving(model, serve_args, scratch / "serve.log") as port:
            remote = percentiles(http_latency(port, body, args.requests))
            health, _, _ = throughput(port, None, args.concurrency, args.duration, "/health")
            before = batching_totals(port)
            answered, failed, timings = throughput(port, body, args.concurrency, args.duration)
            calls, batched, waited = (b - a for a, b in zip(before, batching_totals(port)))

    workers = args.workers or os.cpu_count() or 1
    print(f"model {model} ({metadata.task}); {workers} worker(s); serve {' '.join(serve_args)}")
    print(f"{args.requests} timed requests\n")
    print(f"{'':<34}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'in-process predict_frame, 1 row':<34}{one_row[0]:>10.2f}{one_row[1]:>10.2f}")
    print(f"{'in-process predict_frame, 32 rows':<34}{rows_32[0]:>10.2f}{rows_32[1]:>10.2f}")
    print(f"{'HTTP POST /predict, sequential':<34}{remote[0]:>10.2f}{remote[1]:>10.2f}")
    overhead = remote[0] - one_row[0]
    verdict = "met" if overhead <= TARGET_OVERHEAD_MS else "MISSED"
    print(
        f"{'HTTP overhead (p50)':<34}{overhead:>10.2f}   target <= {TARGET_OVERHEAD_MS}: {verdict}"
    )

    rate, ceiling = answered / args.duration, health / args.duration
    limit = workers / (one_row[0] / 1000)
    goal = min(TARGET_SPEEDUP * limit, TARGET_CEILING_SHARE * ceiling)
    verdict = "met" if rate >= goal and not failed else "MISSED"
    load = percentiles(timings)
    max_wait = (
        args.batch_max_wait_ms
        if args.batch_max_wait_ms is not None
        else module("service").MICROBATCH_MAX_WAIT_MS
    )
    print(f"\n{args.concurrency} keep-alive clients, {args.duration:g} s each run:")
    print(f"  GET /health (the HTTP ceiling)   {ceiling:>9,.0f} requests/s")
    print(f"  1-row limit (workers / 1-row)    {limit:>9,.0f} requests/s")
    print(
        f"  POST /predict, 1 row             {rate:>9,.0f} requests/s ({answered:,} answered, "
        f"{failed:,} failed) = {rate / limit:.1f}x the limit, "
        f"{100 * rate / ceiling:.0f}% of the ceiling"
    )
    print(
        f"  target >= min({TARGET_SPEEDUP:g}x limit, {100 * TARGET_CEILING_SHARE:.0f}% ceiling) = "
        f"{goal:,.0f}, no failures: {verdict}"
    )
    print(
        f"  latency under load: p50 {load[0]:.2f} ms, p99 {load[1]:.2f} ms "
        f"(configured max wait {max_wait:g} ms)"
    )
    if calls:
        print(
            f"  model calls: {calls:,.0f}, {batched / calls:.1f} requests each on average, "
            f"mean queue wait {1000 * waited / batched:.2f} ms"
        )


if __name__ == "__main__":
    main()
