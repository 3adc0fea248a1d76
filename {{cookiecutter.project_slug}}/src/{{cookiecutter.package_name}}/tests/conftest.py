"""Shared fixtures: one small dataset per task, each trained once per session.

The tests are the same whichever task the bundled config trains: every task-dependent test
runs for binary classification, multiclass classification and regression, on data made by
:func:`~..sample_data.make_customers` (the generator of the bundled sample).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from ..config import load_config
from ..data import read_table

# Gradient boosting parallelises with OpenMP. On small test data threads only add overhead,
# and on a busy CI machine spinning OpenMP threads slow each fit down a hundredfold, so the
# tests (and the subprocesses they start) run single-threaded. Set before anything imports
# scikit-learn; the imports above load only pandas.
os.environ.setdefault("OMP_NUM_THREADS", "1")

TASK_NAMES = ("binary", "multiclass", "regression")
NUMERIC_FEATURES = ["tenure_months", "monthly_charges", "support_calls", "age"]
CATEGORICAL_FEATURES = ["contract", "plan", "region"]
TRAIN_ROWS, HOLDOUT_ROWS = 400, 200

# model.task, target column and quality thresholds of each task's config.
TASK_SETTINGS = {
    "binary": (
        "classification",
        "churned",
        "minimum = { roc_auc = 0.70, accuracy = 0.65 }\n"
        "maximum = { log_loss = 0.65 }\n"
        "baseline_margin = 0.10\n",
    ),
    "multiclass": (
        "classification",
        "segment",
        "minimum = { roc_auc = 0.80, accuracy = 0.60 }\n"
        "maximum = { log_loss = 0.80 }\n"
        "baseline_margin = 0.20\n",
    ),
    "regression": (
        "regression",
        "lifetime_value",
        "minimum = { r2 = 0.75 }\nbaseline_margin = 0.50\n",
    ),
}
SEGMENTS = ["bronze", "silver", "gold"]


def _frames(name: str):
    """Training and holdout rows of one task (multiclass: three value segments as strings)."""
    import pandas as pd

    from ..sample_data import make_customers

    kind = "classification" if name == "binary" else "regression"
    train, holdout = make_customers(TRAIN_ROWS, 7, kind), make_customers(HOLDOUT_ROWS, 8, kind)
    if name == "multiclass":
        _, edges = pd.qcut(train["lifetime_value"], len(SEGMENTS), retbins=True)
        edges[0], edges[-1] = -float("inf"), float("inf")
        for frame in (train, holdout):
            values = frame.pop("lifetime_value")
            frame["segment"] = pd.cut(values, edges, labels=SEGMENTS).astype(str)
    return train, holdout


def _config_text(name: str) -> str:
    kind, target, quality = TASK_SETTINGS[name]
    return f"""\
[data]
train = "train.csv"
holdout = "holdout.csv"
target = "{target}"
numeric_features = {json.dumps(NUMERIC_FEATURES)}
categorical_features = {json.dumps(CATEGORICAL_FEATURES)}
forbidden_features = ["email"]
slice_columns = ["contract", "region"]
min_rows = 50

[model]
task = "{kind}"
random_state = 42

[model.params]
learning_rate = 0.1
max_iter = 50
max_leaf_nodes = 15
min_samples_leaf = 20

[runtime]
threads = 1

[quality]
{quality}"""


class Models:
    """Each task's data, config and artifact, made on first use and kept for the session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._configs: dict = {}
        self._dirs: dict = {}
        self._artifacts: dict = {}
        self._frames: dict = {}

    def config_path(self, name: str) -> Path:
        directory = self.root / name
        if not directory.is_dir():
            directory.mkdir()
            train, holdout = _frames(name)
            train.to_csv(directory / "train.csv", index=False)
            holdout.to_csv(directory / "holdout.csv", index=False)
            (directory / "config.toml").write_text(_config_text(name), encoding="utf-8")
        return directory / "config.toml"

    def config(self, name: str):
        if name not in self._configs:
            self._configs[name] = load_config(self.config_path(name))
        return self._configs[name]

    def frame(self, name: str, split: str):
        if (name, split) not in self._frames:
            config = self.config(name)
            path = config.data.train if split == "train" else config.data.holdout
            self._frames[name, split] = read_table(path)
        return self._frames[name, split].copy()

    def artifact_dir(self, name: str) -> Path:
        if name not in self._dirs:
            from ..workflows import train_and_save

            self._dirs[name] = train_and_save(self.config(name), self.root / "models" / name)
        return self._dirs[name]

    def artifact(self, name: str):
        if name not in self._artifacts:
            from ..artifact import load_artifact

            self._artifacts[name] = load_artifact(self.artifact_dir(name))
        return self._artifacts[name]


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    return Models(tmp_path_factory.mktemp("tasks"))


@pytest.fixture(scope="session")
def config():
    """The checked-in configuration (bundled sample data, whatever task this project has)."""
    return load_config()


@pytest.fixture(params=TASK_NAMES)
def task_name(request):
    """Run the test once per task."""
    return request.param


@pytest.fixture
def task_config(models, task_name):
    return models.config(task_name)


@pytest.fixture
def train_frame(models, task_name):
    return models.frame(task_name, "train")


@pytest.fixture
def holdout_frame(models, task_name):
    return models.frame(task_name, "holdout")


@pytest.fixture
def artifact_dir(models, task_name):
    """The task's model, trained and saved once per session."""
    return models.artifact_dir(task_name)


@pytest.fixture
def artifact(models, task_name):
    return models.artifact(task_name)


@pytest.fixture
def binary(models):
    """The binary task's artifact, for tests about columns rather than tasks."""
    return models.artifact("binary")


@pytest.fixture
def binary_frames(models):
    """Training and holdout frames of the binary task."""
    return models.frame("binary", "train"), models.frame("binary", "holdout")


@pytest.fixture
def write_csv(tmp_path):
    """Write a DataFrame (or raw text) to a CSV file in tmp_path and return its path."""

    def write(content, name="data.csv"):
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            content.to_csv(path, index=False)
        return path

    return write


@pytest.fixture
def restore_logging():
    """The CLI configures logging for the process; put the test session's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def in_tmp_dir(tmp_path, monkeypatch, restore_logging):
    """Run a test in an empty directory (CLI commands write relative paths) and return it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
