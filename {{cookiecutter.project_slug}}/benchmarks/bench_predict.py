"""Benchmark batch prediction: streamed ``predict_csv`` against the naive whole-file way.

For N and 4N rows of synthetic data shaped like the bundled sample, each approach runs in
its own process and reports rows per second and peak resident memory (RSS). Streaming
should match the naive throughput while its peak memory stays flat as the file grows.
The model is trained on the bundled sample with the bundled config, so the benchmark
follows its ``model.task`` (classification or regression).

Usage::

    python benchmarks/bench_predict.py --rows 1000000   # 1M and 4M rows
    python benchmarks/bench_predict.py --rows 50000     # quick
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

PACKAGE = "{{ cookiecutter.package_name }}"
DATA_DIR = Path(__file__).parent / ".data"
GENERATE_BLOCK = 250_000


def module(name: str) -> ModuleType:
    """The package's module ``name`` (imported by name, so this file is plain Python)."""
    return importlib.import_module(f"{PACKAGE}.{name}")


def bundled_task() -> str:
    """``model.task`` of the bundled config: ``classification`` or ``regression``."""
    return str(module("config").load_config().model.task)


def generate(rows: int, task: str) -> Path:
    """Write (once) a CSV of ``rows`` synthetic customers without the target, in blocks."""
    sample_data = module("sample_data")
    path = DATA_DIR / f"customers-{task}-{rows}.csv"
    if path.exists():
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        for start in range(0, rows, GENERATE_BLOCK):
            block = sample_data.make_customers(
                min(GENERATE_BLOCK, rows - start), seed=start, task=task
            )
            block = block.drop(columns=[sample_data.TARGETS[task]])
            block.to_csv(handle, header=start == 0, index=False)
    partial.rename(path)
    return path


def child(approach: str, model: str, source: str, output: str) -> None:
    """Score ``source`` one way and print timing and peak RSS as JSON."""
    import pandas as pd

    predict = module("predict")
    artifact = module("artifact").load_artifact(model)
    started = time.perf_counter()
    if approach == "naive":
        frame = pd.read_csv(source)
        predict.predict_frame(artifact, frame).to_csv(output, index=False)
        rows = len(frame)
    else:
        rows = predict.predict_csv(artifact, source, output)
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": rows, "seconds": elapsed, "peak_rss_mb": peak_kib / 1024}))


def run(approach: str, model: Path, source: Path, workdir: Path) -> dict[str, float]:
    """Score ``source`` one way in a fresh process; its rows, seconds and peak RSS."""
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            approach,
            str(model),
            str(source),
            str(workdir / f"{approach}.csv"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def train_model(directory: Path) -> Path:
    """Train on the bundled sample with the bundled config; the new artifact's path."""
    config = module("config").load_config()
    return Path(module("workflows").train_and_save(config, directory))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="smaller size (N); 4N too")
    parser.add_argument("--child", nargs=4, metavar=("APPROACH", "MODEL", "INPUT", "OUTPUT"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    sizes = (args.rows, 4 * args.rows)
    task = bundled_task()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        model = train_model(workdir / "models")
        results: dict[tuple[str, int], dict[str, float]] = {}
        print(f"task {task}; model trained on the bundled sample\n")
        print(f"{'approach':<10}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'peak RSS MB':>13}")
        for rows in sizes:
            source = generate(rows, task)
            for approach in ("naive", "streaming"):
                result = run(approach, model, source, workdir)
                results[(approach, rows)] = result
                print(
                    f"{approach:<10}{rows:>12,}{result['seconds']:>10.2f}"
                    f"{rows / result['seconds']:>12,.0f}{result['peak_rss_mb']:>13.0f}"
                )
    small, large = sizes
    print()
    for rows in sizes:
        ratio = results[("naive", rows)]["seconds"] / results[("streaming", rows)]["seconds"]
        print(f"throughput streaming / naive at {rows:,} rows: {ratio:.2f}x (target >= 0.9x)")
    for approach in ("naive", "streaming"):
        peaks = [results[(approach, rows)]["peak_rss_mb"] for rows in sizes]
        growth = peaks[1] / peaks[0]
        print(f"peak RSS {large:,} / {small:,} rows, {approach}: {growth:.2f}x")


if __name__ == "__main__":
    main()
