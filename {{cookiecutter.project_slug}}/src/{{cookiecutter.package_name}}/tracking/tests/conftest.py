"""Tracking fixtures: one SQLite store and two tracked models, made once per session.

Creating an MLflow SQLite store (its tables and migrations) takes seconds, so the tests
share one store in a temporary directory; each test finds its own runs by id.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ...artifact import Artifact, load_artifact
from ...config import Config, DataConfig, ModelConfig
from ...sample_data import TARGETS, make_customers
from ...threads import limited_threads
from ...workflows import train_and_save
from .. import EXPERIMENT, TRACKING_URI_ENV
from ..observer import MlflowObserver, mlflow_client

TRAIN_ROWS, HOLDOUT_ROWS = 300, 150


@dataclass(frozen=True)
class Tracked:
    """A model trained with tracking on, and its run."""

    config: Config
    artifact: Artifact
    run_id: str


@pytest.fixture(scope="package", autouse=True)
def one_native_thread():
    """OpenMP threads only add overhead on this little data, and crawl on a busy CI machine."""
    with limited_threads(1):
        yield


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> str:
    """The tracking URI of a SQLite store holding this project's experiment."""
    root = tmp_path_factory.mktemp("tracking")
    uri = f"sqlite:///{root / 'mlruns.db'}"
    mlflow_client(uri).create_experiment(EXPERIMENT, artifact_location=(root / "mlruns").as_uri())
    return uri


@pytest.fixture
def tracking_uri(store, monkeypatch) -> str:
    """Point MLFLOW_TRACKING_URI at the session's store for one test."""
    monkeypatch.setenv(TRACKING_URI_ENV, store)
    return store


@pytest.fixture(scope="session")
def data_config(tmp_path_factory) -> Config:
    """A small binary-classification config (train and holdout files of synthetic customers)."""
    root = tmp_path_factory.mktemp("tracked-data")
    train, holdout = root / "train.csv", root / "holdout.csv"
    make_customers(TRAIN_ROWS, seed=3).to_csv(train, index=False)
    make_customers(HOLDOUT_ROWS, seed=4).to_csv(holdout, index=False)
    return Config(
        data=DataConfig(train=train, holdout=holdout, target=TARGETS["classification"]),
        model=ModelConfig(task="classification", random_state=0, params={"max_iter": 20}),
    )


@pytest.fixture(scope="session")
def tracked(store, data_config, tmp_path_factory) -> list[Tracked]:
    """Two models trained with tracking on, the second with more boosting iterations."""
    models_dir = tmp_path_factory.mktemp("tracked-models")
    models = []
    for max_iter in (20, 30):
        config = data_config.with_overrides(model__params={"max_iter": max_iter})
        artifact = load_artifact(train_and_save(config, models_dir, MlflowObserver(store)))
        assert artifact.metadata.run_id is not None
        models.append(Tracked(config, artifact, artifact.metadata.run_id))
    return models


@pytest.fixture
def client(store):
    return mlflow_client(store)


@pytest.fixture
def logged_files(client):
    """A function: every file logged to a run, as paths relative to the run's files."""

    def files(run_id: str, folder: str | None = None) -> set[str]:
        found = set()
        for item in client.list_artifacts(run_id, folder):
            found |= files(run_id, item.path) if item.is_dir else {item.path}
        return found

    return files
