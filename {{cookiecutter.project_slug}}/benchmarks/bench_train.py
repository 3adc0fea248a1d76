"""Benchmark training on a wide-vocabulary table: the ``train`` command against a naive fit.

The table (generated once, cached under ``benchmarks/.data``) has a 20,000-level string
column (``zip``, Zipf-skewed frequencies, an effect per level plus a regional trend along
the codes), a 12-level one (``segment``), 8 numeric columns and a binary target; a
holdout drawn the same way scores both models. Each approach runs in its own process,
timed from its imports to its fitted model, with the process's peak resident memory:

- ``naive``: ``pandas.read_csv``, an ``OrdinalEncoder`` over both string columns and
  ``HistGradientBoostingClassifier`` with default hyperparameters. Histogram boosting
  refuses a categorical feature with more than ``max_bins`` levels, so ``segment`` is
  categorical and the ``zip`` codes are numbers (alphabetical order, which keeps
  neighbouring codes together); unseen levels are missing.
- ``project``: the package's own ``train`` command, whole: reading, schema inference and
  validation, encoding, fitting and saving the artifact, on the same rows (no holdout split).

Both run with the thread count the project chooses for this many rows, alternately
``--repeat`` times; the median time and the largest peak count (on a shared machine the
times vary with the load). Budget: project peak RSS at most 1 GB, training time at most
3x the naive one, holdout ROC-AUC no worse.

Usage::

    python benchmarks/bench_train.py                 # 250,000 rows (the budget's size)
    python benchmarks/bench_train.py --rows 50000    # quick
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGE = "{{ cookiecutter.package_name }}"
DATA_DIR = Path(__file__).parent / ".data"
TARGET = "target"
ZIP_LEVELS = 20_000
SEGMENTS = 12
NUMERIC = 8
HOLDOUT_ROWS = 50_000
BUDGET_RSS_MB = 1024
BUDGET_TIME_RATIO = 3.0


def module(name: str) -> ModuleType:
    """The package's module ``name`` (imported by name, so this file is plain Python)."""
    return importlib.import_module(f"{PACKAGE}.{name}")


def make_table(rows: int, seed: int) -> Any:
    """``rows`` rows of the synthetic table; the level effects are the same for every seed."""
    import numpy as np
    import pandas as pd

    world = np.random.default_rng(2024)  # the population: levels and their effects
    codes = np.sort(world.choice(100_000, ZIP_LEVELS, replace=False))
    zips = np.array([f"Z{code:05d}" for code in codes], dtype=object)
    zip_effect = 0.6 * np.sin(codes / 100_000 * 6 * np.pi) + world.normal(0, 0.9, ZIP_LEVELS)
    popularity = 1 / (np.arange(ZIP_LEVELS) + 20.0) ** 1.1  # rank -> share, Zipf-like
    zip_share = world.permutation(popularity / popularity.sum())
    segments = np.array([f"segment_{chr(ord('a') + i)}" for i in range(SEGMENTS)], dtype=object)
    segment_effect = world.normal(0, 0.5, SEGMENTS)
    weights = world.normal(0, 0.6, NUMERIC)

    rng = np.random.default_rng(seed)
    zip_index = rng.choice(ZIP_LEVELS, rows, p=zip_share)
    segment_index = rng.integers(0, SEGMENTS, rows)
    numbers = rng.normal(0, 1, (rows, NUMERIC))
    logit = (
        numbers @ weights
        + 0.5 * numbers[:, 0] * numbers[:, 1]
        + 0.7 * np.sin(2 * numbers[:, 2])
        + zip_effect[zip_index]
        + segment_effect[segment_index]
        - 0.5
    )
    target = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    numbers[rng.random((rows, NUMERIC)) < 0.02] = np.nan
    frame = pd.DataFrame(numbers.round(4), columns=[f"x{i}" for i in range(NUMERIC)])
    frame.insert(0, "segment", segments[segment_index])
    frame.insert(0, "zip", zips[zip_index])
    frame[TARGET] = target
    return frame


def generate(rows: int) -> tuple[Path, Path]:
    """Write (once) the training table of ``rows`` rows and the holdout; their paths."""
    paths = (DATA_DIR / f"wide-train-{rows}.csv", DATA_DIR / f"wide-holdout-{HOLDOUT_ROWS}.csv")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for path, size, seed in zip(paths, (rows, HOLDOUT_ROWS), (1, 2)):
        if not path.exists():
            partial = path.with_suffix(".partial")
            make_table(size, seed).to_csv(partial, index=False)
            partial.rename(path)
    return paths


def naive(train_path: str, threads: int) -> Any:
    """Read, encode both string columns as ordinal codes, fit boosting with its defaults."""
    import numpy as np
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder
    from threadpoolctl import threadpool_limits

    frame = pd.read_csv(train_path)
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
    )
    columns = make_column_transformer(
        (encoder, ["zip", "segment"]), remainder="passthrough", verbose_feature_names_out=False
    ).set_output(transform="pandas")
    model = make_pipeline(
        columns, HistGradientBoostingClassifier(categorical_features=["segment"], random_state=0)
    )
    with threadpool_limits(threads):
        model.fit(frame.drop(columns=[TARGET]), frame[TARGET])
    return lambda holdout: model.predict_proba(holdout.drop(columns=[TARGET]))[:, 1]


def project(train_path: str, models_dir: str) -> Any:
    """Run the package's ``train`` command on the table, as a user would.

    A config names the file and keeps every row for training (``holdout_fraction = 0``;
    ``train --data`` alone would hold 20% out), so both approaches fit the same rows with
    the learner's default hyperparameters.
    """
    config = Path(models_dir) / "config.toml"
    config.write_text(
        f"[data]\ntrain = {json.dumps(train_path)}\ntarget = {json.dumps(TARGET)}\n"
        'holdout_fraction = 0.0\n\n[model]\ntask = "classification"\n',
        encoding="utf-8",
    )
    cli = module("cli")
    cli.main(
        ["train", "--config", str(config), "--output", str(Path(models_dir) / "models")],
        standalone_mode=False,
    )
    models_dir = str(Path(models_dir) / "models")
    path = module("artifact").latest_artifact(models_dir)
    sizes = {
        "metadata_kb": (path / "metadata.json").stat().st_size / 1024,
        "model_kb": (path / "model.skops").stat().st_size / 1024,
    }

    def score(holdout: Any) -> Any:
        artifact = module("artifact").load_artifact(path)
        column = f"probability_{artifact.schema.target.classes[-1]}"
        return module("predict").predict_frame(artifact, holdout)[column]

    return score, sizes


def child(approach: str, train_path: str, holdout_path: str, threads: int, workdir: str) -> None:
    """Train one way, then score the holdout; print seconds, peak RSS and ROC-AUC as JSON."""
    started = time.perf_counter()
    extra: dict[str, float] = {}
    if approach == "naive":
        score = naive(train_path, threads)
    else:
        score, extra = project(train_path, workdir)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before scoring
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    holdout = pd.read_csv(holdout_path)
    auc = roc_auc_score(holdout[TARGET], score(holdout))
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb, "roc_auc": auc, **extra}))


def run(approach: str, train_path: Path, holdout_path: Path, threads: int) -> dict[str, float]:
    """Train and score one way in a fresh process."""
    with tempfile.TemporaryDirectory() as workdir:
        result = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                approach,
                str(train_path),
                str(holdout_path),
                str(threads),
                workdir,
            ],
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        raise SystemExit(f"{approach} failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=250_000, help="training rows")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each approach")
    parser.add_argument("--child", nargs=5, metavar=("APPROACH", "TRAIN", "HOLDOUT", "T", "DIR"))
    args = parser.parse_args()
    if args.child:
        approach, train_path, holdout_path, threads, workdir = args.child
        child(approach, train_path, holdout_path, int(threads), workdir)
        return

    train_path, holdout_path = generate(args.rows)
    configured = module("config").load_config().runtime.threads
    threads = module("threads").thread_count(args.rows, configured)
    print(
        f"{args.rows:,} training rows ({ZIP_LEVELS:,}-level zip, {SEGMENTS}-level segment, "
        f"{NUMERIC} numeric), {HOLDOUT_ROWS:,} holdout rows; {threads} thread(s) for both\n"
    )
    runs: dict[str, list[dict[str, float]]] = {"naive": [], "project": []}
    for _ in range(args.repeat):
        for name, done in runs.items():
            done.append(run(name, train_path, holdout_path, threads))
    results = {
        name: {
            **done[0],
            "seconds": statistics.median(result["seconds"] for result in done),
            "peak_rss_mb": max(result["peak_rss_mb"] for result in done),
        }
        for name, done in runs.items()
    }
    print(f"{'approach':<10}{'seconds':>10}{'peak RSS MB':>13}{'ROC-AUC':>10}")
    for name, result in results.items():
        print(
            f"{name:<10}{result['seconds']:>10.1f}{result['peak_rss_mb']:>13.0f}"
            f"{result['roc_auc']:>10.4f}"
        )
    mine, baseline = results["project"], results["naive"]
    ratio = mine["seconds"] / baseline["seconds"]
    print(
        f"\nartifact: metadata.json {mine['metadata_kb']:,.0f} KB, "
        f"model.skops {mine['model_kb']:,.0f} KB"
    )
    print(
        f"peak RSS {mine['peak_rss_mb']:.0f} MB (budget <= {BUDGET_RSS_MB} MB): "
        f"{verdict(mine['peak_rss_mb'] <= BUDGET_RSS_MB)}"
    )
    print(
        f"time project / naive {ratio:.2f}x (budget <= {BUDGET_TIME_RATIO:g}x): "
        f"{verdict(ratio <= BUDGET_TIME_RATIO)}"
    )
    gain = mine["roc_auc"] - baseline["roc_auc"]
    print(f"ROC-AUC project - naive {gain:+.4f} (budget >= 0): {verdict(gain >= 0)}")


if __name__ == "__main__":
    main()
