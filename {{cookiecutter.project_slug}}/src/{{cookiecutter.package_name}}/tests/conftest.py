"""Shared fixtures: the bundled sample, its schema and one model trained once per session."""

from __future__ import annotations

import os

import pytest

from {{ cookiecutter.package_name }}.config import load_config
from {{ cookiecutter.package_name }}.data import load_csv

# Gradient boosting parallelises with OpenMP. On small test data threads only add overhead,
# and on a busy CI machine spinning OpenMP threads slow each fit down a hundredfold, so the
# tests (and the subprocesses they start) run single-threaded. Set before anything imports
# scikit-learn; the imports above load only pandas.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def config():
    """The checked-in configuration (bundled sample data)."""
    return load_config()


@pytest.fixture(scope="session")
def train_frame(config):
    return load_csv(config.data.train)


@pytest.fixture(scope="session")
def holdout_frame(config):
    return load_csv(config.data.holdout)


@pytest.fixture(scope="session")
def schema(config, train_frame):
    from {{ cookiecutter.package_name }}.train import infer_training_schema

    return infer_training_schema(config, train_frame)


@pytest.fixture(scope="session")
def artifact_dir(config, tmp_path_factory):
    """A model trained on the sample and saved as an artifact, once per session."""
    from {{ cookiecutter.package_name }}.workflows import train_and_save

    return train_and_save(config, tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def artifact(artifact_dir):
    from {{ cookiecutter.package_name }}.artifact import load_artifact

    return load_artifact(artifact_dir)


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
