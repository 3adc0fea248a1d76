"""Training: config and CSV in, fitted model and its data contract out."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from {{ cookiecutter.package_name }}.config import Config
from {{ cookiecutter.package_name }}.data import file_sha256, load_csv
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.model import Model
from {{ cookiecutter.package_name }}.schema import Schema, infer_schema

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainedModel:
    """A fitted model with everything needed to save, evaluate and use it."""

    model: Model
    schema: Schema
    data_sha256: str
    train_path: Path
    n_rows: int


def build_model(config: Config, schema: Schema) -> Model:
    """Create an unfitted estimator from the config's hyperparameters.

    Raises
    ------
    ConfigError
        When ``model.params`` names something that is not a hyperparameter.
    """
    allowed = set(Model().get_params()) - {"numeric_features", "categorical_features"}
    unknown = sorted(set(config.model.params) - allowed)
    if unknown:
        raise ConfigError(
            f"model.params.{unknown[0]} is not a hyperparameter of {Model.__name__} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    return Model(
        numeric_features=schema.columns_of_kind("numeric"),
        categorical_features=schema.columns_of_kind("categorical"),
        random_state=config.model.random_state,
        **config.model.params,
    )


def infer_training_schema(config: Config, frame: pd.DataFrame) -> Schema:
    """Infer and check the data contract of training data as the config describes it."""
    data = config.data
    return infer_schema(
        frame,
        data.target,
        numeric_features=data.numeric_features,
        categorical_features=data.categorical_features,
        ignore_columns=data.ignore_columns,
        forbidden_features=data.forbidden_features,
        min_rows=data.min_rows,
    )


def train(config: Config) -> TrainedModel:
    """Train a model on the config's training data.

    The same data, config and ``random_state`` always give identical predictions.

    Raises
    ------
    DataError
        When the training data breaks the data contract.
    ConfigError
        When the hyperparameters are invalid.
    """
    started = time.perf_counter()
    frame = load_csv(config.data.train)
    schema = infer_training_schema(config, frame)
    features, target = schema.split_training(frame)
    model = build_model(config, schema)
    logger.info(
        "training %s on %d rows, %d features",
        Model.__name__,
        len(features),
        len(schema.features),
        extra={"rows": len(features), "features": len(schema.features)},
    )
    model.fit(features, target)
    elapsed = time.perf_counter() - started
    logger.info("trained in %.2f s", elapsed, extra={"duration_s": round(elapsed, 3)})
    return TrainedModel(
        model=model,
        schema=schema,
        data_sha256=file_sha256(config.data.train),
        train_path=config.data.train,
        n_rows=len(features),
    )
