"""Benchmark the HTTP service: 1-row latency next to in-process prediction, and throughput.

Starts ``{{ cookiecutter.project_slug }} serve`` (gunicorn, default settings) on a free
loopback port with the newest artifact under ``models/``, or with a model trained into a
temporary directory when there is none. Then it measures:

- the latency of sequential 1-row ``POST /predict`` requests, p50 and p99, next to
  in-process ``predict_frame`` on the same row with one native thread, as in a worker
  (target: HTTP p50 at most in-process p50 + 1 ms);
- the throughput of concurrent clients, each on its own keep-alive connection.

The request row is the model's own example row (``Schema.example_row``), so the benchmark
works for any task and feature set.

Usage::

    python benchmarks/bench_http.py                          # 500 requests; 8 clients, 20 s
    python benchmarks/bench_http.py --duration 5 --concurrency 4 --workers 2
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from _service import HOST, find_or_train, module, serving
from typing import Any

WARMUP = 20
TARGET_OVERHEAD_MS = 1.0


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p99, in milliseconds."""
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def in_process_latency(model: Path, row: dict[str, Any], requests: int) -> list[float]:
    """Time ``predict_frame`` on one row, ``requests`` times, with one native thread."""
    import pandas as pd

    predict_frame = module("predict").predict_frame
    artifact = module("artifact").load_artifact(model)
    timings = []
    with module("threads").limited_threads(1):
        for index in range(WARMUP + requests):
            started = time.perf_counter()
            predict_frame(artifact, pd.DataFrame([row]))
            if index >= WARMUP:
                timings.append(time.perf_counter() - started)
    return timings


def post(connection: http.client.HTTPConnection, body: bytes) -> int:
    """One ``POST /predict``; http.client reconnects when the server closed the connection."""
    connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    return response.status


def http_latency(port: int, body: bytes, requests: int) -> list[float]:
    """Time sequential 1-row requests from one client."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    timings = []
    for index in range(WARMUP + requests):
        started = time.perf_counter()
        status = post(connection, body)
        if status != 200:
            sys.exit(f"POST /predict answered {status}")
        if index >= WARMUP:
            timings.append(time.perf_counter() - started)
    connection.close()
    return timings


def throughput(port: int, body: bytes, concurrency: int, duration: float) -> tuple[int, int]:
    """Requests answered 200 and failed, by ``concurrency`` clients in ``duration`` seconds."""
    deadline = time.monotonic() + duration
    counts = [[0, 0] for _ in range(concurrency)]

    def client(count: list[int]) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        while time.monotonic() < deadline:
            try:
                count[0 if post(connection, body) == 200 else 1] += 1
            except (OSError, http.client.HTTPException):
                count[1] += 1
                connection.close()
        connection.close()

    threads = [threading.Thread(target=client, args=(count,)) for count in counts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="artifact [default: newest under models/]")
    parser.add_argument("--requests", type=int, default=500, help="sequential requests timed")
    parser.add_argument("--duration", type=float, default=20.0, help="throughput seconds")
    parser.add_argument("--concurrency", type=int, default=8, help="throughput clients")
    parser.add_argument("--workers", type=int, help="gunicorn workers [default: CPUs]")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        model = find_or_train(args.model, scratch)
        metadata = module("artifact").read_metadata(model)
        row = metadata.schema.example_row()
        body = json.dumps({"instances": [row]}).encode()
        local = percentiles(in_process_latency(model, row, args.requests))
        serve_args = ["--workers", str(args.workers)] if args.workers else []
        with serving(model, serve_args, scratch / "serve.log") as port:
            remote = percentiles(http_latency(port, body, args.requests))
            answered, failed = throughput(port, body, args.concurrency, args.duration)

    workers = args.workers or os.cpu_count()
    print(f"model {model} ({metadata.task}); {workers} worker(s); ", end="")
    print(f"{args.requests} timed requests of 1 row\n")
    print(f"{'':<28}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'in-process predict_frame':<28}{local[0]:>10.2f}{local[1]:>10.2f}")
    print(f"{'HTTP POST /predict':<28}{remote[0]:>10.2f}{remote[1]:>10.2f}")
    overhead = remote[0] - local[0]
    verdict = "met" if overhead <= TARGET_OVERHEAD_MS else "MISSED"
    target = f"target <= {TARGET_OVERHEAD_MS}: {verdict}"
    print(f"{'HTTP overhead (p50)':<28}{overhead:>10.2f}   {target}")
    print(
        f"\nthroughput: {answered / args.duration:,.0f} requests/s "
        f"({answered:,} answered, {failed:,} failed) with {args.concurrency} keep-alive "
        f"clients for {args.duration:g} s"
    )


if __name__ == "__main__":
    main()
