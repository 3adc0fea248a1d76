"""The synthetic customer dataset bundled as the sample (and used by the benchmarks).

Rows describe subscription customers; the target is whether the customer churned
(classification) or the customer's lifetime value (regression). Values are drawn from
fixed distributions with a fixed seed, so the same call always gives the same table. The
bundled ``resources/sample/*.csv`` files, for the task of the bundled config, were made with::

    python -m <package>.sample_data
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

TARGETS = {"classification": "churned", "regression": "lifetime_value"}
SAMPLE_DIR = Path(__file__).parent / "resources" / "sample"
TRAIN_ROWS, HOLDOUT_ROWS = 400, 200
TRAIN_SEED, HOLDOUT_SEED = 7, 8


def make_customers(n_rows: int, seed: int = 0, task: str = "classification") -> pd.DataFrame:
    """Generate ``n_rows`` synthetic customers with missing values and a target.

    Parameters
    ----------
    n_rows : int
        Number of rows.
    seed : int, default 0
        Seed of the random generator.
    task : {"classification", "regression"}
        Which target to add: ``churned`` (0 or 1) or ``lifetime_value``.

    Returns
    -------
    pandas.DataFrame
        Four numeric and three categorical features, some missing, plus the target.
    """
    if task not in TARGETS:
        raise ValueError(f"task must be one of {', '.join(TARGETS)}, got {task!r}")
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 73, n_rows)
    charges = np.round(np.clip(rng.normal(65.0, 20.0, n_rows), 15.0, 150.0), 2)
    calls = rng.poisson(1.5, n_rows)
    age = np.clip(np.round(rng.normal(45.0, 12.0, n_rows)), 18, 90)
    contract = rng.choice(["month-to-month", "one-year", "two-year"], n_rows, p=[0.5, 0.3, 0.2])
    plan = rng.choice(["basic", "standard", "premium"], n_rows, p=[0.4, 0.4, 0.2]).astype(object)
    region = rng.choice(["north", "south", "east", "west"], n_rows)
    commitment = np.select([contract == "one-year", contract == "two-year"], [1.0, 2.0], 0.0)
    if task == "classification":
        logit = 0.8 + 0.45 * calls - 0.04 * tenure + 0.012 * (charges - 65.0) - 1.1 * commitment
        target = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-logit))).astype(float)
    else:
        plan_factor = np.select([plan == "standard", plan == "premium"], [1.2, 1.5], 1.0)
        noise = rng.normal(0.0, 60.0, n_rows)
        growth = 1.0 + 0.15 * commitment
        target = np.round(charges * tenure * plan_factor * growth / 10 + noise, 2)
    charges[rng.random(n_rows) < 0.05] = np.nan
    age[rng.random(n_rows) < 0.08] = np.nan
    plan[rng.random(n_rows) < 0.05] = None
    return pd.DataFrame(
        {
            "tenure_months": tenure,
            "monthly_charges": charges,
            "support_calls": calls,
            "age": age,
            "contract": contract,
            "plan": plan,
            "region": region,
            TARGETS[task]: target.astype(int) if task == "classification" else target,
        }
    )


def write_sample(task: str, directory: Path = SAMPLE_DIR) -> None:
    """Write the bundled ``train.csv`` and ``holdout.csv`` for ``task`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    make_customers(TRAIN_ROWS, TRAIN_SEED, task).to_csv(directory / "train.csv", index=False)
    make_customers(HOLDOUT_ROWS, HOLDOUT_SEED, task).to_csv(directory / "holdout.csv", index=False)


if __name__ == "__main__":
    from .config import load_config

    write_sample(load_config().model.task)
