"""Staleness: is the current model worse on recent data than a fresher one would be?

Two comparisons, both on recent labelled rows and the current model's primary metric
(the quality gate's, higher is better):

- :func:`against_artifact` scores the current model and another artifact (an older or a
  candidate model) on the same recent rows;
- :func:`against_retrained` retrains the current model's estimator, with the same
  hyperparameters and data contract, on part of the recent rows and scores both models on
  the rest. Only recent rows are trained on: the question is whether the world the model
  was trained in has moved, and the original training file need not exist any more. A
  model retrained on few rows is handicapped, but few held-out rows also make both
  metrics noisy: the tolerance should exceed that noise.

The current model is stale when the comparison beats it by more than a tolerance.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.base import clone

from .artifact import Artifact
from .data import file_sha256, read_table
from .errors import ArtifactError, DataError
from .evaluate import evaluate
from .files import output_file
from .tasks import Metrics
from .threads import limited_threads, thread_count
from .train import split_holdout

DEFAULT_TOLERANCE = 0.02
"""How much better the comparison may be before the current model counts as stale."""

DEFAULT_HOLDOUT_FRACTION = 0.3
"""Share of the recent rows kept for scoring when retraining."""

MIN_RETRAIN_ROWS = 20
"""Fewest recent rows the retrained model may learn from."""


@dataclass(frozen=True)
class ModelScore:
    """One model's metrics on the recent rows."""

    role: str
    version: str
    created_at: str
    metrics: Metrics


@dataclass(frozen=True)
class Staleness:
    """The outcome of a staleness check.

    Attributes
    ----------
    mode : str
        ``against`` (another artifact) or ``retrain`` (retrained on recent rows).
    metric : str
        The compared metric: the current model's primary metric (higher is better).
    current, comparison : ModelScore
        The two models' metrics on the same rows.
    delta : float
        ``comparison`` minus ``current`` on ``metric``: positive when the comparison is better.
    tolerance : float
        The current model is ``stale`` when ``delta`` exceeds this.
    stale : bool
        Whether the current model is worse than the comparison by more than ``tolerance``.
    age_days : float
        Days since the current model was saved.
    data : str
        The recent data file, and ``data_sha256`` its fingerprint.
    scored_rows : int
        Labelled rows both models were scored on.
    retrain_rows : int or None
        Rows the retrained model learned from (``retrain`` mode only).
    """

    mode: str
    metric: str
    current: ModelScore
    comparison: ModelScore
    delta: float
    tolerance: float
    stale: bool
    age_days: float
    data: str
    data_sha256: str
    scored_rows: int
    retrain_rows: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, as written to ``staleness.json``."""
        return dataclasses.asdict(self)

    def summary(self) -> str:
        """One line saying whether the current model is stale, and by how much."""
        compared = f"the {self.comparison.role} model on {self.scored_rows} recent rows"
        if self.stale:
            return (
                f"STALE: the current model's {self.metric} is {self.delta:.4f} below {compared} "
                f"(tolerance {self.tolerance:g})"
            )
        return f"not stale: the current model is within {self.tolerance:g} of {compared}"


def against_artifact(
    current: Artifact,
    other: Artifact,
    data_path: str | Path,
    tolerance: float = DEFAULT_TOLERANCE,
    sep: str | None = None,
    now: datetime | None = None,
) -> Staleness:
    """Score the current model and another artifact on the same recent labelled rows.

    Raises
    ------
    ArtifactError
        When the two models do not predict the same target of the same kind of task.
    DataError
        When the data lacks a column either model needs, or the metric is undefined on it.
    """
    _check_comparable(current, other)
    text_columns = sorted(
        {*current.schema.text_columns(target=True), *other.schema.text_columns(target=True)}
    )
    frame = read_table(data_path, text_columns=text_columns, sep=sep)
    _check_columns(frame, current, "current", data_path)
    _check_columns(frame, other, "compared", data_path)
    scored = evaluate(current.model, current.schema, current.task, frame)
    compared = evaluate(other.model, other.schema, other.task, frame)
    return _verdict(
        "against",
        current,
        scored.metrics,
        ModelScore("compared", other.version, other.metadata.created_at, compared.metrics),
        tolerance,
        data_path,
        scored.n_rows,
        now,
    )


def against_retrained(
    current: Artifact,
    data_path: str | Path,
    tolerance: float = DEFAULT_TOLERANCE,
    holdout_fraction: float = DEFAULT_HOLDOUT_FRACTION,
    random_state: int = 0,
    sep: str | None = None,
    now: datetime | None = None,
) -> Staleness:
    """Retrain the current model on recent rows and compare both on held-out recent rows.

    The retrained model is an unfitted copy of the current estimator (same hyperparameters
    and features) fitted on ``1 - holdout_fraction`` of the labelled recent rows, split as
    training splits a holdout (stratified by class for classification, seeded by
    ``random_state``); both models are scored on the rest.

    Raises
    ------
    DataError
        When the data lacks a column the model needs, has too few rows to split, or the
        metric is undefined on the held-out rows.
    """
    if not 0 < holdout_fraction < 1:
        raise DataError(f"holdout fraction must be between 0 and 1, got {holdout_fraction:g}")
    schema = current.schema
    frame = read_table(data_path, text_columns=schema.text_columns(target=True), sep=sep)
    _check_columns(frame, current, "current", data_path)
    try:
        learn, held_out = split_holdout(
            frame,
            schema.target.name,
            holdout_fraction,
            stratify=current.task.is_classification,
            random_state=random_state,
            min_rows=MIN_RETRAIN_ROWS,
        )
    except DataError:
        raise DataError(
            f"{data_path} has too few labelled rows to retrain on {MIN_RETRAIN_ROWS} or more "
            f"and score on {100 * holdout_fraction:g}% of them; give more recent rows, a "
            "smaller holdout fraction, or compare --against another model"
        ) from None
    features, target = schema.split_training(learn)
    retrained = clone(current.model)
    with limited_threads(thread_count(len(features))):
        retrained.fit(features, target)
    scored = evaluate(current.model, schema, current.task, held_out)
    compared = evaluate(retrained, schema, current.task, held_out)
    return _verdict(
        "retrain",
        current,
        scored.metrics,
        ModelScore("retrained", "retrained", _now(now).isoformat(), compared.metrics),
        tolerance,
        data_path,
        scored.n_rows,
        now,
        retrain_rows=len(features),
    )


def write_staleness(result: Staleness, path: str | Path) -> Path:
    """Write ``result`` as JSON to ``path``, atomically (see :func:`~.files.output_file`)."""
    with output_file(path) as stream:
        stream.write(json.dumps(result.to_dict(), indent=2) + "\n")
    return Path(path)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(timezone.utc)


def _verdict(
    mode: str,
    current: Artifact,
    current_metrics: Metrics,
    comparison: ModelScore,
    tolerance: float,
    data_path: str | Path,
    scored_rows: int,
    now: datetime | None,
    retrain_rows: int | None = None,
) -> Staleness:
    metric = current.task.primary_metric
    ours, theirs = current_metrics.get(metric), comparison.metrics.get(metric)
    if ours is None or theirs is None:
        raise DataError(
            f"{metric} is undefined on {data_path} ({scored_rows} scored rows): "
            "the labels need more variety (two or more classes, or varying values)"
        )
    created = current.metadata.created
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    delta = theirs - ours
    return Staleness(
        mode=mode,
        metric=metric,
        current=ModelScore(
            "current", current.version, current.metadata.created_at, current_metrics
        ),
        comparison=comparison,
        delta=delta,
        tolerance=tolerance,
        stale=delta > tolerance,
        age_days=(_now(now) - created).total_seconds() / 86400,
        data=str(data_path),
        data_sha256=file_sha256(data_path),
        scored_rows=scored_rows,
        retrain_rows=retrain_rows,
    )


def _check_comparable(current: Artifact, other: Artifact) -> None:
    """Refuse two models that do not answer the same question."""
    mine, theirs = current.schema.target, other.schema.target
    if mine.name != theirs.name or current.task.kind != other.task.kind:
        raise ArtifactError(
            f"cannot compare {other.path} with the current model {current.path}: it predicts "
            f"{theirs.name!r} ({other.task.name}), the current model {mine.name!r} "
            f"({current.task.name})"
        )


def _check_columns(frame: pd.DataFrame, artifact: Artifact, role: str, path: str | Path) -> None:
    """Name every column the model needs (features and target) that the data lacks."""
    needed = [*artifact.schema.feature_names, artifact.schema.target.name]
    missing = [name for name in needed if name not in frame.columns]
    if missing:
        raise DataError(
            f"{path} lacks column(s) the {role} model {artifact.version} needs: "
            f"{', '.join(missing)}"
        )
