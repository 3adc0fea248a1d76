"""What each feature is worth and what it costs: permutation importance and per-feature cost.

Importance is measured the way the model is used: the raw feature columns of labelled
rows go through the data contract and the whole model (encoder and learner), and each
column in turn is shuffled, ``n_repeats`` times; a categorical or date column is shuffled
as one column, whatever number of learner inputs it becomes. The importance is how much
worse the predictions get, measured per row so that its uncertainty over the rows can be
estimated: the increase of the log loss for a classifier (it sees every change of a
probability, not only flipped labels) and the drop of R² for a regressor.

A feature **helps** when its importance exceeds twice its standard error over the rows
(:data:`HELP_RULE`, a one-sided test at about 2.5%); otherwise it shows no benefit on this
data and is flagged as a candidate for removal. The standard deviation over the repeats
alone (what :func:`sklearn.inspection.permutation_importance` reports) only measures the
shuffling: on the 200-row sample, a column of pure noise passed "mean above twice that
deviation" in a third of the trials, because the rows themselves are a sample.

Its cost is what it adds to the model and to scoring: its encoding (numeric, category codes,
target-encoded columns, date parts), the learner inputs it becomes, the levels the artifact
stores for it, its share of missing values, and the time the data contract takes to check
and convert it, measured per column on the same rows (the learner's time cannot be split
between features, so the step times of the whole pipeline are reported beside it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from .schema import BOOLEAN, CATEGORICAL, DATETIME, FeatureSpec, Schema
from .tasks import Predictions, Task
from .threads import limited_threads, thread_count

IMPORTANCE_FILE = "feature_importance.json"
MAX_ROWS = 5_000
"""Rows the importance is measured on: a seeded sample of larger data."""
N_REPEATS = 5
"""Shuffles per feature; the cost is one prediction per feature and repeat."""
HELP_RULE = "importance > 2 x its standard error over the evaluated rows"
_TIMING_REPEATS = 3
_SMALLEST_PROBABILITY = 1e-15


@dataclass(frozen=True)
class FeatureCost:
    """Importance and cost of one feature (a column of the data contract).

    Attributes
    ----------
    name, kind : str
        The feature and its kind in the data contract.
    encoding : str
        What the model makes of it, in words.
    model_inputs : int
        Learner input columns it becomes.
    levels : int or None
        Categories the artifact stores for a categorical feature.
    missing_share : float
        Share of the evaluated rows where it is missing (after the contract's coercions).
    importance : float
        How much worse the metric gets when the column is shuffled (mean of the repeats).
    standard_error : float
        Standard error of ``importance`` over the evaluated rows.
    repeat_std : float
        Standard deviation of the importance over the repeats (the shuffling's noise).
    helps : bool
        Whether the importance passes :data:`HELP_RULE`.
    contract_ms_per_1000_rows : float
        Time the data contract takes to check and convert this column, per 1,000 rows.
    """

    name: str
    kind: str
    encoding: str
    model_inputs: int
    levels: int | None
    missing_share: float
    importance: float
    standard_error: float
    repeat_std: float
    helps: bool
    contract_ms_per_1000_rows: float


@dataclass(frozen=True)
class FeatureImportance:
    """Permutation importance and cost of every feature, most important first.

    ``measure`` says in words what the importance is (``metric`` names the metric);
    ``step_ms_per_1000_rows`` times the whole pipeline's steps (``contract``, ``encode``,
    ``learner``) on the same rows, for comparison with the per-feature contract times.
    """

    metric: str
    measure: str
    rows: int
    n_repeats: int
    random_state: int
    rule: str
    features: tuple[FeatureCost, ...]
    step_ms_per_1000_rows: dict[str, float]

    @property
    def not_helping(self) -> list[str]:
        """Features with no measured benefit (see :data:`HELP_RULE`)."""
        return [feature.name for feature in self.features if not feature.helps]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, as written to :data:`IMPORTANCE_FILE`."""
        result = asdict(self)
        result["not_helping"] = self.not_helping
        return result


def feature_importance(
    model: Any,
    schema: Schema,
    task: Task,
    frame: pd.DataFrame,
    *,
    n_repeats: int = N_REPEATS,
    max_rows: int = MAX_ROWS,
    random_state: int = 0,
) -> FeatureImportance:
    """Permutation importance and cost of each feature of ``model`` on labelled rows.

    Parameters
    ----------
    model : TabularModel
        The fitted model.
    schema : Schema
        Its data contract; ``frame`` is validated against it.
    task : Task
        Its task, which decides the metric: log loss or R².
    frame : pandas.DataFrame
        Labelled rows as read (holdout data); rows without a label are left out, and at
        most ``max_rows`` of the rest, a seeded sample, are used.
    n_repeats : int
        Shuffles per feature.
    max_rows : int
        Most rows to measure on: the cost is ``n_features * n_repeats`` predictions.
    random_state : int
        Seed of the sample and of the shuffles.

    Raises
    ------
    DataError
        When the rows break the data contract.
    """
    features, target = schema.split_training(frame)
    raw = frame.loc[features.index, schema.feature_names]
    if len(raw) > max_rows:
        sample = raw.sample(max_rows, random_state=random_state).index
        raw, features, target = raw.loc[sample], features.loc[sample], target.loc[sample]
    rng = np.random.default_rng(random_state)

    def losses(rows: pd.DataFrame) -> np.ndarray:
        return _row_losses(task, target, task.predict(model, schema.validate_features(rows)))

    with limited_threads(thread_count(len(raw))):
        base = losses(raw)
        increases = []
        for name in schema.feature_names:
            values = raw[name].to_numpy()
            increases.append(
                np.array(
                    [
                        losses(raw.assign(**{name: values[rng.permutation(len(raw))]})) - base
                        for _ in range(n_repeats)
                    ]
                )
            )
        steps = _step_times(model, schema, raw)
    encodings = _encodings(model, schema)
    costs = []
    for spec, increase in zip(schema.features, increases):
        encoding, inputs = encodings[spec.name]
        per_row = increase.mean(axis=0)
        importance = float(per_row.mean()) if len(per_row) else 0.0
        error = float(per_row.std(ddof=1) / math.sqrt(len(per_row))) if len(per_row) > 1 else 0.0
        costs.append(
            FeatureCost(
                name=spec.name,
                kind=spec.kind,
                encoding=encoding,
                model_inputs=inputs,
                levels=len(spec.categories) if spec.kind == CATEGORICAL else None,
                missing_share=round(float(features[spec.inputs[0]].isna().mean()), 4),
                importance=importance,
                standard_error=error,
                repeat_std=float(increase.mean(axis=1).std()) if len(per_row) else 0.0,
                helps=importance > 2 * error,
                contract_ms_per_1000_rows=_per_thousand(_contract_time(schema, spec, raw), raw),
            )
        )
    costs.sort(key=lambda cost: (-cost.importance, cost.name))
    metric, measure = (
        ("log_loss", "increase of the log loss")
        if task.is_classification
        else ("r2", "drop of R²")
    )
    return FeatureImportance(
        metric=metric,
        measure=measure,
        rows=len(raw),
        n_repeats=n_repeats,
        random_state=random_state,
        rule=HELP_RULE,
        features=tuple(costs),
        step_ms_per_1000_rows={name: _per_thousand(seconds, raw) for name, seconds in steps},
    )


def _row_losses(task: Task, target: pd.Series, predictions: Predictions) -> np.ndarray:
    """Each row's share of the metric, as a loss: their mean is the loss of all rows.

    A classifier's is the row's log loss (rows labelled with a class the model does not
    know are left out, as the log loss metric leaves them out); a regressor's is its
    squared error divided by the mean squared deviation of the targets, so that the mean
    of differences is a difference of R².
    """
    if task.is_classification:
        if predictions.probabilities is None or predictions.classes is None:
            raise ValueError("a classifier's importance needs class probabilities")
        positions = pd.Index(list(predictions.classes)).get_indexer(pd.Series(np.asarray(target)))
        known = positions >= 0
        chosen = predictions.probabilities[np.flatnonzero(known), positions[known]]
        return -np.log(np.clip(chosen, _SMALLEST_PROBABILITY, 1.0))
    values = np.asarray(target, dtype=float)
    spread = float(np.mean((values - values.mean()) ** 2)) or 1.0
    return np.asarray((values - np.asarray(predictions.labels, dtype=float)) ** 2) / spread


def _encodings(model: Any, schema: Schema) -> dict[str, tuple[str, int]]:
    """Each feature's encoding in words and the number of learner inputs it becomes."""
    preprocessor = model.preprocessor_
    wide = set(preprocessor.target_encoded_features_)
    per_wide = 0
    if wide:
        per_wide = len(preprocessor.target_encoder_.get_feature_names_out()) // len(wide)
    encodings = {}
    for spec in schema.features:
        if spec.kind == CATEGORICAL and spec.name in wide:
            encodings[spec.name] = (f"target-encoded ({per_wide} column(s))", per_wide)
        elif spec.kind == CATEGORICAL:
            encodings[spec.name] = ("category codes", 1)
        elif spec.kind == DATETIME:
            encodings[spec.name] = (f"date parts ({len(spec.inputs)} numbers)", len(spec.inputs))
        elif spec.kind == BOOLEAN:
            encodings[spec.name] = ("0/1 number", 1)
        else:
            encodings[spec.name] = ("number (passed through)", 1)
    return encodings


def _best_time(call: Callable[[], object]) -> float:
    """The fastest of a few runs of ``call``, in seconds (the least disturbed by other work)."""
    best = float("inf")
    for _ in range(_TIMING_REPEATS):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def _contract_time(schema: Schema, spec: FeatureSpec, raw: pd.DataFrame) -> float:
    """Seconds the data contract takes to check and convert one column of ``raw``."""
    alone = Schema(features=(spec,), target=schema.target, task=schema.task)
    column = raw[[spec.name]]
    return _best_time(lambda: alone.validate_features(column))


def _step_times(model: Any, schema: Schema, raw: pd.DataFrame) -> list[tuple[str, float]]:
    """Seconds of each pipeline step on ``raw``: contract, encoding, learner."""
    features = schema.validate_features(raw)
    encoded = model.preprocessor_.transform(features)
    learner = model.learner_
    predict = getattr(learner, "predict_proba", learner.predict)
    return [
        ("contract", _best_time(lambda: schema.validate_features(raw))),
        ("encode", _best_time(lambda: model.preprocessor_.transform(features))),
        ("learner", _best_time(lambda: predict(encoded))),
    ]


def _per_thousand(seconds: float, rows: pd.DataFrame) -> float:
    return round(seconds * 1000 * 1000 / max(len(rows), 1), 4)
