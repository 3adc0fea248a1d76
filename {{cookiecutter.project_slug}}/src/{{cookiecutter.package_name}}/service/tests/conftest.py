"""Service fixtures: a small model of each task, trained once per session, and apps around it.

Tests use the model of the ``task`` fixture: the task of the bundled config, unless a test
parametrizes ``task`` itself because what it checks differs by task (class probabilities,
the prediction metric, the OpenAPI prediction schema). Both models are trained on the
synthetic customers of :mod:`.sample_data`, so these tests never depend on the project's
own data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from flask import Flask

from ...artifact import Artifact, load_artifact
from ...config import Config, DataConfig, ModelConfig, load_config
from ...sample_data import TARGETS, make_customers
from ...schema import CATEGORICAL, NUMERIC
from ...threads import limited_threads
from ...workflows import train_and_save
from ..app import create_app

TRAIN_ROWS, HOLDOUT_ROWS = 400, 200
ROWS = 25


@dataclass(frozen=True)
class Served:
    """A trained model of one task, an app serving it and the rows tests send to it."""

    directory: Path
    artifact: Artifact
    app: Flask
    rows: pd.DataFrame


class _Models(dict):
    """Task name to :class:`Served`, trained on first use."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory

    def __missing__(self, task: str) -> Served:
        served = self[task] = _train(task, self.directory / task)
        return served


def _train(task: str, directory: Path) -> Served:
    directory.mkdir()
    train, holdout = directory / "train.csv", directory / "holdout.csv"
    make_customers(TRAIN_ROWS, seed=1, task=task).to_csv(train, index=False)
    make_customers(HOLDOUT_ROWS, seed=2, task=task).to_csv(holdout, index=False)
    config = Config(
        data=DataConfig(train=train, holdout=holdout, target=TARGETS[task]),
        model=ModelConfig(task=task, random_state=0),
    )
    artifact_dir = train_and_save(config, directory / "models")
    artifact = load_artifact(artifact_dir)
    frame = pd.read_csv(holdout)
    rows = frame[artifact.schema.feature_names].head(ROWS)
    assert rows.isna().any().any(), "the rows should exercise missing values"
    return Served(artifact_dir, artifact, create_app(artifact_dir), rows)


@pytest.fixture(scope="package", autouse=True)
def one_native_thread():
    """OpenMP threads only add overhead on this little data, and crawl on a busy CI machine."""
    with limited_threads(1):
        yield


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    """A model of each task (see :class:`Served`), trained when a test first needs it."""
    return _Models(tmp_path_factory.mktemp("served"))


@pytest.fixture(scope="session")
def task():
    """The task of the model under test; tests that differ by task parametrize this."""
    return load_config().model.task


@pytest.fixture
def served(models, task):
    return models[task]


@pytest.fixture
def artifact_dir(served):
    return served.directory


@pytest.fixture
def artifact(served):
    return served.artifact


@pytest.fixture
def schema(artifact):
    return artifact.schema


@pytest.fixture
def app(served):
    """One app per task for tests that do not read metrics (metrics accumulate per app)."""
    return served.app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_client(artifact_dir):
    """Build a client of a new app: ``make_client(config={...}, model_path=...)``."""

    def make(config=None, model_path=artifact_dir):
        return create_app(model_path, config).test_client()

    return make


@pytest.fixture
def numeric(schema):
    """The name of a numeric feature."""
    return schema.columns_of_kind(NUMERIC)[0]


@pytest.fixture
def categorical(schema):
    """The name of a categorical feature."""
    return schema.columns_of_kind(CATEGORICAL)[0]


@pytest.fixture
def rows(served):
    """Holdout rows, feature columns only (some values are missing)."""
    return served.rows


@pytest.fixture
def instances(rows):
    """``rows`` as JSON objects, with null for a missing value."""
    return [
        {name: None if pd.isna(value) else value for name, value in record.items()}
        for record in rows.to_dict(orient="records")
    ]


@pytest.fixture
def expected(artifact, rows):
    """In-process predictions for ``rows``: what every endpoint must return."""
    features = artifact.schema.validate_features(rows)
    return artifact.model.predict(features).tolist()


@pytest.fixture
def expected_probabilities(artifact, rows):
    """In-process class probabilities for ``rows``, as ``{class: probability}`` per row."""
    features = artifact.schema.validate_features(rows)
    labels = [str(label) for label in artifact.model.classes_]
    return [dict(zip(labels, row)) for row in artifact.model.predict_proba(features).tolist()]
