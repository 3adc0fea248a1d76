"""Holdout evaluation: metrics against a dummy baseline, overall and per slice."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from .errors import DataError
from .schema import NUMERIC, Schema
from .tasks import Metrics, Task, label_coverage

logger = logging.getLogger(__name__)

_NUMERIC_SLICE_BINS = 4


@dataclass(frozen=True)
class Evaluation:
    """Metrics of a model and of its baseline on one labelled dataset.

    ``unseen_class_rows`` counts rows labelled with a class the model never saw in
    training, ``absent_classes`` lists the model's classes with no row, and ``notes`` says
    in words how the metrics treated them.
    """

    task: str
    primary_metric: str
    metrics: Metrics
    baseline: Metrics
    slices: dict[str, list[dict[str, Any]]]
    n_rows: int
    data_sha256: str | None = None
    unseen_class_rows: int = 0
    absent_classes: tuple[Any, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, as written to ``metrics.json``."""
        return asdict(self)


def evaluate(
    model: Any,
    schema: Schema,
    task: Task,
    frame: pd.DataFrame,
    slice_columns: Iterable[str] = (),
    data_sha256: str | None = None,
) -> Evaluation:
    """Score ``model`` and the dummy baseline on labelled data, overall and per slice.

    Parameters
    ----------
    model : estimator
        The fitted model.
    schema : Schema
        The model's data contract; ``frame`` is validated against it.
    task : Task
        The model's task: its metrics and baseline.
    frame : pandas.DataFrame
        Labelled holdout data.
    slice_columns : iterable of str
        Columns to slice by: one group per category, or per quartile of a numeric column.
    data_sha256 : str, optional
        Fingerprint of the holdout file, recorded in the report.

    Raises
    ------
    DataError
        When the data breaks the contract or a slice column does not exist.
    """
    features, target = schema.split_training(frame)
    if features.empty:
        raise DataError("evaluation data has no labelled rows")
    baseline = task.baseline(schema.target)
    unseen: int = 0
    absent: tuple[Any, ...] = ()
    notes: tuple[str, ...] = ()
    if task.is_classification:
        unseen, absent = label_coverage(target, schema.target.classes)
        notes = _coverage_notes(target, schema.target.classes, unseen, absent)
        for note in notes:
            logger.warning(note)

    def score(estimator: Any, rows: pd.DataFrame, labels: pd.Series) -> Metrics:
        return task.metrics(labels, task.predict(estimator, rows))

    slices = {
        column: _slice_metrics(
            lambda rows, labels: score(model, rows, labels),
            features,
            target,
            frame.loc[features.index, column],
            schema,
        )
        for column in _check_slice_columns(frame, slice_columns)
    }
    return Evaluation(
        task=task.name,
        primary_metric=task.primary_metric,
        metrics=score(model, features, target),
        baseline=score(baseline, features, target),
        slices=slices,
        n_rows=len(features),
        data_sha256=data_sha256,
        unseen_class_rows=unseen,
        absent_classes=absent,
        notes=notes,
    )


def _coverage_notes(
    target: pd.Series, classes: tuple[Any, ...], unseen: int, absent: tuple[Any, ...]
) -> tuple[str, ...]:
    """What the metrics did about labels the model does not know and classes with no row."""
    notes = []
    if unseen:
        unknown = pd.Index(list(classes)).get_indexer(target) < 0
        labels = sorted({str(label) for label in target[unknown]})
        notes.append(
            f"{unseen} of {len(target)} rows are labelled with class(es) the model never saw "
            f"in training ({', '.join(labels[:5])}{', ...' if len(labels) > 5 else ''}): "
            "counted as errors in accuracy and f1, left out of balanced_accuracy, "
            "average_precision, roc_auc and log_loss"
        )
    if absent:
        notes.append(
            f"{len(absent)} of the model's {len(classes)} classes have no row in this data "
            f"({', '.join(map(str, absent))}): balanced_accuracy averages over the classes "
            "present, and so do average_precision and roc_auc when two or more are present "
            "(otherwise they are n/a)"
        )
    return tuple(notes)


def _check_slice_columns(frame: pd.DataFrame, slice_columns: Iterable[str]) -> list[str]:
    columns = list(slice_columns)
    absent = [name for name in columns if name not in frame.columns]
    if absent:
        raise DataError(f"slice column(s) missing from the data: {', '.join(absent)}")
    return columns


def _slice_metrics(
    score: Any, features: pd.DataFrame, target: pd.Series, values: pd.Series, schema: Schema
) -> list[dict[str, Any]]:
    numeric = values.name in schema.columns_of_kind(NUMERIC) or pd.api.types.is_numeric_dtype(
        values
    )
    if numeric and values.nunique() > _NUMERIC_SLICE_BINS:
        groups = pd.qcut(values, _NUMERIC_SLICE_BINS, duplicates="drop").astype(str)
    else:
        groups = values.astype(str)
    groups = groups.where(values.notna(), "(missing)")
    rows = []
    for group, index in groups.groupby(groups, sort=True).groups.items():
        rows.append(
            {
                "value": group,
                "rows": len(index),
                "metrics": score(features.loc[index], target[index]),
            }
        )
    return rows
