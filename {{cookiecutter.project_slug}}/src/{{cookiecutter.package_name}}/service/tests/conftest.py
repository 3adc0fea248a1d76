"""Service fixtures: one artifact trained per session, apps and clients around it."""

from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.artifact import load_artifact
from {{ cookiecutter.package_name }}.schema import CATEGORICAL, NUMERIC
from {{ cookiecutter.package_name }}.service.app import create_app
from {{ cookiecutter.package_name }}.workflows import train_and_save

ROWS = 25


@pytest.fixture(scope="session")
def artifact_dir(config, tmp_path_factory):
    """A model trained on the bundled sample, saved as an artifact."""
    return train_and_save(config, tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def artifact(artifact_dir):
    return load_artifact(artifact_dir)


@pytest.fixture(scope="session")
def app(artifact_dir):
    """One app for tests that do not read metrics (metrics accumulate per app)."""
    return create_app(artifact_dir)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_client(artifact_dir):
    """Build a client of a new app: ``make_client(config={...}, model_path=...)``."""

    def make(config=None, model_path=artifact_dir):
        return create_app(model_path, config).test_client()

    return make


@pytest.fixture(scope="session")
def numeric(schema):
    """The name of a numeric feature."""
    return schema.columns_of_kind(NUMERIC)[0]


@pytest.fixture(scope="session")
def categorical(schema):
    """The name of a categorical feature."""
    return schema.columns_of_kind(CATEGORICAL)[0]


@pytest.fixture(scope="session")
def rows(holdout_frame, schema):
    """Holdout rows, feature columns only (some values are missing)."""
    frame = holdout_frame[schema.feature_names].head(ROWS).reset_index(drop=True)
    assert frame.isna().any().any(), "the sample should exercise missing values"
    return frame


@pytest.fixture(scope="session")
def instances(rows):
    """``rows`` as JSON objects, with null for a missing value."""
    return [
        {name: None if pd.isna(value) else value for name, value in record.items()}
        for record in rows.to_dict(orient="records")
    ]


@pytest.fixture(scope="session")
def expected(artifact, rows):
    """In-process predictions for ``rows``: what every endpoint must return."""
    features = artifact.schema.validate_features(rows)
    return artifact.model.predict(features).tolist()
{%- if cookiecutter.ml_task == "classification" %}


@pytest.fixture(scope="session")
def expected_probabilities(artifact, rows):
    features = artifact.schema.validate_features(rows)
    labels = [str(label) for label in artifact.model.classes_]
    return [dict(zip(labels, row)) for row in artifact.model.predict_proba(features).tolist()]
{%- endif %}
