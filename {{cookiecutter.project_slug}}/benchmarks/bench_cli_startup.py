"""Benchmark CLI start-up: ``--help`` and ``--version`` must not pay for heavy imports.

Runs each command in a fresh interpreter several times and prints the median wall time
(target: at most 0.15 s for ``--help``). The import rule itself is proven by a test
(``src/{{ cookiecutter.package_name }}/tests/test_cli.py``); this script measures what
users feel.

Usage::

    python benchmarks/bench_cli_startup.py --runs 20
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

PACKAGE = "{{ cookiecutter.package_name }}"
COMMANDS = (["--help"], ["--version"], ["train", "--help"])


def time_command(arguments: list[str], runs: int) -> list[float]:
    """Wall-clock seconds of ``runs`` fresh ``python -m <package> <arguments>`` processes."""
    command = [sys.executable, "-m", PACKAGE, *arguments]
    subprocess.run(command, check=True, capture_output=True)  # warm the file cache
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per command")
    args = parser.parse_args()
    print(f"{'command':<16}{'median s':>10}{'min s':>8}{'max s':>8}")
    for arguments in COMMANDS:
        timings = time_command(arguments, args.runs)
        print(
            f"{' '.join(arguments):<16}{statistics.median(timings):>10.3f}"
            f"{min(timings):>8.3f}{max(timings):>8.3f}"
        )
    print("target: --help median <= 0.150 s")


if __name__ == "__main__":
    main()
