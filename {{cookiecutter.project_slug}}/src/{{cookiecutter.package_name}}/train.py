"""Training: config and table in, fitted model and its data contract out."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import InvalidParameterError

from .config import Config
from .data import file_sha256, read_table
from .errors import ConfigError, DataError
from .model import TabularModel
from .schema import CLASSIFICATION, Schema, infer_schema
from .tasks import Task, task_for
from .threads import limited_threads, thread_count

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainedModel:
    """A fitted model with everything needed to save, evaluate and use it.

    ``holdout`` holds the rows split off the training file for evaluation when the config
    names no holdout file (``None`` otherwise, or when ``data.holdout_fraction`` is 0).
    """

    model: TabularModel
    schema: Schema
    task: Task
    data_sha256: str
    train_path: Path
    n_rows: int
    holdout: pd.DataFrame | None = None


@dataclass(frozen=True)
class TrainingRows:
    """The rows training fits on, their data contract and the rows held out from them.

    ``holdout`` is ``None`` when the config names a holdout file or
    ``data.holdout_fraction`` is 0.
    """

    schema: Schema
    frame: pd.DataFrame
    holdout: pd.DataFrame | None


def training_rows(config: Config) -> TrainingRows:
    """Read the training data, split the holdout off and infer the data contract.

    The one place that decides which rows a model is fitted on (training and tuning).
    """
    data = config.data
    # Columns configured as categorical stay text: '1.0' and '1' are different categories.
    frame = read_table(data.train, text_columns=data.categorical_features or (), sep=data.sep)
    holdout = None
    if data.holdout is None and data.holdout_fraction > 0 and data.target in frame.columns:
        frame, holdout = split_holdout(
            frame,
            data.target,
            data.holdout_fraction,
            stratify=config.model.task == CLASSIFICATION,
            random_state=config.model.random_state,
            min_rows=data.min_rows,
        )
    return TrainingRows(infer_training_schema(config, frame), frame, holdout)


def split_holdout(
    frame: pd.DataFrame,
    target: str,
    fraction: float,
    *,
    stratify: bool,
    random_state: int,
    min_rows: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a labelled holdout off ``frame``: ``(training rows, holdout rows)``.

    Each class gives the same share of its rows when ``stratify`` (classification), but a
    class keeps at least one row for training; rows without a label stay in the training
    part (training ignores them). Both parts keep the file's row order.

    Raises
    ------
    DataError
        When the training part would have fewer than ``min_rows`` labelled rows.
    """
    rng = np.random.default_rng(random_state)
    labels = frame[target]
    labelled = np.flatnonzero(labels.notna().to_numpy())
    groups = [labelled]
    if stratify:
        values = labels.iloc[labelled]
        by_class = values.groupby(values.to_numpy(), sort=False).indices
        groups = [labelled[positions] for positions in by_class.values()]
    chosen = []
    for rows in groups:
        count = min(int(round(len(rows) * fraction)), len(rows) - 1)
        chosen.append(rng.permutation(rows)[:count])
    held = np.sort(np.concatenate(chosen)) if chosen else np.array([], dtype=int)
    if len(labelled) - len(held) < min_rows:
        raise DataError(
            f"{len(labelled)} labelled rows are too few to hold out {100 * fraction:g}% for "
            f"evaluation and keep data.min_rows = {min_rows} for training; add rows, give a "
            "holdout file (data.holdout) or set data.holdout_fraction = 0"
        )
    keep = np.ones(len(frame), dtype=bool)
    keep[held] = False
    return frame.iloc[keep], frame.iloc[held]


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
        coerce_to_missing=data.coerce_to_missing,
        drop_text_columns=data.drop_text_columns,
    )


def train(config: Config) -> TrainedModel:
    """Train a model on the config's training data.

    The task (binary, multiclass or regression) follows from ``model.task`` and the labels.
    The same data, config and ``random_state`` always give identical predictions. When the
    config names no holdout file, ``data.holdout_fraction`` of the rows (stratified by
    class for classification) are held out for evaluation and not trained on.

    Raises
    ------
    DataError
        When the training data breaks the data contract.
    ConfigError
        When a hyperparameter is unknown or has a value the learner refuses.
    """
    started = time.perf_counter()
    data = config.data
    rows = training_rows(config)
    schema, frame, holdout = rows.schema, rows.frame, rows.holdout
    if holdout is not None:
        logger.info(
            "no holdout file configured: held out %d rows (%.0f%%%s) of %s for evaluation",
            len(holdout),
            100 * data.holdout_fraction,
            ", stratified by class" if config.model.task == CLASSIFICATION else "",
            data.train,
            extra={"holdout_rows": len(holdout)},
        )
    features, target = schema.split_training(frame)
    task = task_for(schema)
    model = task.build(
        schema, config.model.params, config.model.random_state, config.model.learner
    )
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
        holdout=holdout,
    )
