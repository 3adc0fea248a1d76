"""Training: config and table in, fitted model and its data contract out."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.utils._param_validation import InvalidParameterError

from .config import Config
from .data import file_sha256, read_table
from .errors import ConfigError
from .model import TabularModel
from .schema import Schema, infer_schema
from .tasks import Task, task_for
from .threads import limited_threads, thread_count

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainedModel:
    """A fitted model with everything needed to save, evaluate and use it."""

    model: TabularModel
    schema: Schema
    task: Task
    data_sha256: str
    train_path: Path
    n_rows: int


def infer_training_schema(config: Config, frame: pd.DataFrame) -> Schema:
    """Infer and check the data contract of training data as the config describes it."""
    data = config.data
    return infer_schema(
        frame,
        data.target,
        task=config.model.task,
        numeric_features=data.numeric_features,
        categorical_features=data.categorical_features,
        ignore_columns=data.ignore_columns,
        forbidden_features=data.forbidden_features,
        min_rows=data.min_rows,
    )


def train(config: Config) -> TrainedModel:
    """Train a model on the config's training data.

    The task (binary, multiclass or regression) follows from ``model.task`` and the labels.
    The same data, config and ``random_state`` always give identical predictions.

    Raises
    ------
    DataError
        When the training data breaks the data contract.
    ConfigError
        When a hyperparameter is unknown or has a value the learner refuses.
    """
    started = time.perf_counter()
    frame = read_table(config.data.train)
    schema = infer_training_schema(config, frame)
    features, target = schema.split_training(frame)
    task = task_for(schema)
    model = task.build(schema, config.model.params, config.model.random_state)
    threads = thread_count(len(features), config.runtime.threads)
    logger.info(
        "training %s (%s) on %d rows, %d features, %d thread(s)",
        type(model).__name__,
        task.name,
        len(features),
        len(schema.features),
        threads,
        extra={"rows": len(features), "features": len(schema.features), "threads": threads},
    )
    with limited_threads(threads):
        try:
            model.fit(features, target)
        except InvalidParameterError as exc:  # a value in model.params the learner refuses
            raise ConfigError(f"model.params: {exc}") from None
    elapsed = time.perf_counter() - started
    logger.info("trained in %.2f s", elapsed, extra={"duration_s": round(elapsed, 3)})
    return TrainedModel(
        model=model,
        schema=schema,
        task=task,
        data_sha256=file_sha256(config.data.train),
        train_path=config.data.train,
        n_rows=len(features),
    )
