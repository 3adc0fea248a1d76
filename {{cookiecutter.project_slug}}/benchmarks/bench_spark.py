"""Benchmark ``predict --engine spark``: equal to local predict, faster with cores, flat memory.

On ROWS rows of synthetic data (shaped like the bundled sample) split over 4 Parquet files:

1. Spark's predictions equal local ``predict``'s (row by row, on a ``row_id`` column);
2. wall time of the whole command (JVM start included) with ``local[1]`` and ``local[2]``;
3. peak resident memory (RSS) of the Spark JVM and of its Python workers, at ROWS and 4x
   ROWS rows: it should stay flat, as each worker holds one Arrow batch at a time.

Each run is a fresh ``predict --engine spark`` process; memory is sampled from ``/proc``
(Linux) every 0.2 s over the process tree. Needs the spark extra.

Usage::

    python benchmarks/bench_spark.py                  # 2M and 8M rows (minutes)
    python benchmarks/bench_spark.py --rows 100000    # quick
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType

PACKAGE = "{{ cookiecutter.package_name }}"
FILES = 4


def module(name: str) -> ModuleType:
    """The package's module ``name`` (imported by name, so this file is plain Python)."""
    return importlib.import_module(f"{PACKAGE}.{name}")


def train(directory: Path) -> Path:
    """A model trained on the bundled sample with the bundled config."""
    config = module("config").load_config()
    return Path(module("workflows").train_and_save(config, directory / "models"))


def write_input(rows: int, directory: Path, task: str) -> Path:
    """``rows`` synthetic rows with a ``row_id`` as :data:`FILES` Parquet files."""
    directory.mkdir(parents=True)
    per_file = -(-rows // FILES)
    for number in range(FILES):
        count = min(per_file, rows - number * per_file)
        frame = module("sample_data").make_customers(count, seed=100 + number, task=task)
        frame.insert(0, "row_id", range(number * per_file, number * per_file + count))
        frame.to_parquet(directory / f"part-{number}.parquet", index=False)
    return directory


def tree_rss(root: int) -> dict[str, int]:
    """Resident memory (bytes) of ``root``'s descendants: the JVM and the Python workers."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/comm") as comm:
                names[int(entry)] = comm.read().strip()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    totals = {"jvm": 0, "python_workers": 0}
    stack = list(children.get(root, []))
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as status:
                rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
        except (OSError, StopIteration):
            continue
        kind = "jvm" if names.get(pid) == "java" else "python_workers"
        totals[kind] += rss * 1024
    return totals


def run(model: Path, source: Path, output: Path, master: str) -> tuple[float, dict[str, int]]:
    """Time one ``predict --engine spark`` process and the peak RSS of its children."""
    shutil.rmtree(output, ignore_errors=True)
    command = [sys.executable, "-m", PACKAGE, "-q", "predict", "--engine", "spark"]
    command += ["--master", master, "--model", str(model)]
    command += ["--input", str(source), "--output", str(output)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    peak = {"jvm": 0, "python_workers": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            for kind, value in tree_rss(process.pid).items():
                peak[kind] = max(peak[kind], value)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = process.wait()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    if code:
        raise SystemExit(f"predict --engine spark exited with {code}")
    return elapsed, peak


def equal_to_local(model: Path, source: Path, output: Path) -> bool:
    """Whether Spark's predictions equal local predict's on every row."""
    import pandas as pd

    local = output.with_name("local.parquet")
    module("predict").predict_csv(module("artifact").load_artifact(model), source, local)
    ids = pd.read_parquet(source, columns=["row_id"])["row_id"]
    expected = pd.read_parquet(local).set_index(ids.to_numpy()).sort_index()
    spark = pd.read_parquet(output).set_index("row_id").sort_index()[expected.columns]
    return bool((spark.to_numpy() == expected.to_numpy()).all())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows (then 4x as many)")
    args = parser.parse_args()
    task = str(module("config").load_config().model.task)
    mib = 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = train(root)
        small = write_input(args.rows, root / "small", task)
        output = root / "out"
        timings = {
            master: run(model, small, output, master) for master in ("local[1]", "local[2]")
        }
        print(f"{args.rows:,} rows over {FILES} Parquet files ({task}):")
        print(f"  equal to local predict: {equal_to_local(model, small, output)}")
        for master, (elapsed, _) in timings.items():
            print(
                f"  {master}: {elapsed:6.1f} s ({args.rows / elapsed:,.0f} rows/s, JVM start in)"
            )
        speedup = timings["local[1]"][0] / timings["local[2]"][0]
        print(f"  local[2] vs local[1]: {speedup:.2f}x")
        large = write_input(4 * args.rows, root / "large", task)
        _, peak_large = run(model, large, output, "local[2]")
        peak_small = timings["local[2]"][1]
        for rows, peak in ((args.rows, peak_small), (4 * args.rows, peak_large)):
            print(
                f"  peak RSS at {rows:>11,} rows, local[2]: JVM {peak['jvm'] / mib:,.0f} MiB, "
                f"Python workers {peak['python_workers'] / mib:,.0f} MiB"
            )


if __name__ == "__main__":
    main()
