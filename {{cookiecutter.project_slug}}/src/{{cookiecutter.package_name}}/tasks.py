"""Task definitions: everything that differs between binary, multiclass and regression.

A :class:`Task` names the estimator, its dummy baseline, its metrics and primary metric,
its plots and what a prediction looks like. Training picks one from the config's
``model.task`` and the labels (:func:`task_for`); everything downstream (evaluation,
the report, batch prediction, the service) asks the task instead of branching on it.
Adding a task means adding one definition here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)

from . import plots
from .config import LEARNERS
from .errors import ConfigError
from .learners import LinearClassifier, LinearRegressor
from .model import TabularClassifier, TabularModel, TabularRegressor
from .schema import CATEGORICAL, CLASSIFICATION, NUMERIC, REGRESSION, Schema, TargetSpec

PREDICTION_COLUMN = "prediction"
PROBABILITY_PREFIX = "probability_"
Metrics = dict[str, float | None]


@dataclass(frozen=True)
class Predictions:
    """What a model says about a batch of rows.

    Attributes
    ----------
    labels : ndarray
        One prediction per row: a class label or a number.
    probabilities : ndarray or None
        For classifiers, one row of class probabilities per input row, columns in the
        order of ``classes``.
    classes : tuple or None
        Class labels of a classifier.
    """

    labels: np.ndarray
    probabilities: np.ndarray | None = None
    classes: tuple[Any, ...] | None = None

    def to_frame(self, index: pd.Index) -> pd.DataFrame:
        """``prediction`` and, for classifiers, one ``probability_<class>`` column per class."""
        columns: dict[str, Any] = {PREDICTION_COLUMN: self.labels}
        if self.probabilities is not None and self.classes is not None:
            for position, label in enumerate(self.classes):
                columns[f"{PROBABILITY_PREFIX}{label}"] = self.probabilities[:, position]
        return pd.DataFrame(columns, index=index)

    def to_json(self) -> dict[str, Any]:
        """``predictions`` and, for classifiers, ``probabilities`` as ``{class: p}`` per row."""
        result: dict[str, Any] = {"predictions": self.labels.tolist()}
        if self.probabilities is not None and self.classes is not None:
            names = [str(label) for label in self.classes]
            result["probabilities"] = [
                dict(zip(names, row)) for row in self.probabilities.tolist()
            ]
        return result


@dataclass(frozen=True)
class Task:
    """One kind of supervised problem.

    Attributes
    ----------
    name : str
        ``binary``, ``multiclass`` or ``regression``.
    kind : str
        The config's ``model.task`` value it answers: ``classification`` or ``regression``.
    description : str
        For model cards and docs.
    estimator : type
        The estimator class trained for this task.
    metrics : callable
        ``metrics(y_true, predictions)`` -> ``{name: value or None}``.
    primary_metric : str
        The metric the quality gate compares with the dummy baseline (higher is better).
        It must see every class (classification) or be scale-free (regression), so that
        a model that merely repeats the majority class or the mean never passes.
    baseline_margin : float
        How far the primary metric must beat the dummy baseline by default (the config's
        ``quality.baseline_margin`` replaces it).
    plots : tuple of plots.Plot
        Figures of the evaluation report.
    """

    name: str
    kind: str
    description: str
    estimator: type[TabularModel]
    metrics: Callable[[Any, Predictions], Metrics]
    primary_metric: str
    baseline_margin: float
    plots: tuple[plots.Plot, ...]

    @property
    def is_classification(self) -> bool:
        """Whether predictions are class labels (with probabilities)."""
        return self.kind == CLASSIFICATION

    def new_learner(self, family: str = LEARNERS[0]) -> BaseEstimator:
        """An unfitted learner of ``family`` (one of :data:`~.config.LEARNERS`) for this task.

        Raises
        ------
        ConfigError
            When ``family`` is not a known learner family.
        """
        if family == "linear":
            return LinearClassifier() if self.is_classification else LinearRegressor()
        if family == LEARNERS[0]:
            return self.estimator.default_learner()
        raise ConfigError(f"model.learner must be one of {', '.join(LEARNERS)}, got {family!r}")

    def build(
        self,
        schema: Schema,
        params: Mapping[str, Any],
        random_state: int,
        learner_family: str = LEARNERS[0],
    ) -> TabularModel:
        """An unfitted estimator for ``schema`` with the learner's hyperparameters ``params``.

        ``learner_family`` chooses the learner: gradient boosting (the default) or ``linear``.

        Raises
        ------
        ConfigError
            When ``params`` names something that is not a hyperparameter of the learner.
        """
        learner = self.new_learner(learner_family)
        allowed = set(learner.get_params()) - {"categorical_features"}
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise ConfigError(
                f"model.params.{unknown[0]} is not a hyperparameter of "
                f"{type(learner).__name__} (allowed: {', '.join(sorted(allowed))})"
            )
        try:
            learner.set_params(**{"random_state": random_state, **params})
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"model.params: {exc}") from None
        return self.estimator(
            numeric_features=schema.columns_of_kind(NUMERIC),
            categorical_features=schema.columns_of_kind(CATEGORICAL),
            learner=learner,
        )

    def baseline(self, target: TargetSpec) -> BaseEstimator:
        """The dummy baseline: the training class priors, or the training mean."""
        if self.is_classification:
            labels = np.repeat(np.array(target.classes, dtype=object), target.class_counts)
            labels = labels.astype(np.asarray(target.classes).dtype)
            return DummyClassifier(strategy="prior").fit(np.zeros((len(labels), 1)), labels)
        return DummyRegressor(strategy="constant", constant=target.mean).fit(
            np.zeros((1, 1)), [target.mean]
        )

    def predict(self, estimator: Any, features: Any) -> Predictions:
        """Predict with any fitted estimator of this task (the model or its baseline).

        Classifiers answer from one ``predict_proba`` call: the label is the most probable
        class, as scikit-learn's own ``predict`` decides it.
        """
        if not self.is_classification:
            return Predictions(labels=np.asarray(estimator.predict(features)))
        probabilities = np.asarray(estimator.predict_proba(features))
        classes = estimator.classes_
        return Predictions(
            labels=classes[np.argmax(probabilities, axis=1)],
            probabilities=probabilities,
            classes=tuple(_plain(label) for label in classes),
        )


def classification_metrics(y_true: Any, predictions: Predictions) -> Metrics:
    """Accuracy, balanced accuracy, F1, average precision, ROC-AUC and log loss.

    Binary problems score F1, average precision and ROC-AUC for the second class; problems
    with more classes use their macro averages over the classes the data holds. A metric
    that is undefined here (ROC-AUC with a single class in the data) is ``None``.

    Rows whose label the model never saw in training are errors for accuracy and F1 (the
    model cannot predict them) and are left out of balanced accuracy (a mean of per-class
    recalls over the model's classes) and of the probability metrics, which are defined
    only for the model's classes. :func:`label_coverage` counts them.
    """
    if predictions.probabilities is None or predictions.classes is None:
        raise ValueError("classification metrics need class probabilities")
    classes = pd.Index(predictions.classes)
    binary = len(classes) == 2
    # Work on class positions: -1 marks a label the model does not know.
    truth = classes.get_indexer(pd.Series(np.asarray(y_true)))
    labels = classes.get_indexer(pd.Series(np.asarray(predictions.labels)))
    known = truth >= 0
    present = [code for code in range(len(classes)) if (truth == code).any()]
    if binary:
        f1 = f1_score(truth == 1, labels == 1, zero_division=0.0)
    else:
        scored = [
            code for code in range(len(classes)) if code in present or (labels == code).any()
        ]
        f1 = f1_score(truth, labels, labels=scored, average="macro", zero_division=0.0)
    recalls = [float(np.mean(labels[truth == code] == code)) for code in present]
    metrics: Metrics = {
        "accuracy": float(np.mean(truth == labels)),
        "balanced_accuracy": float(np.mean(recalls)) if recalls else None,
        "f1": float(f1),
        "average_precision": None,
        "roc_auc": None,
        "log_loss": None,
    }
    if known.any():
        probabilities = predictions.probabilities[known]
        metrics["log_loss"] = float(
            log_loss(truth[known], probabilities, labels=list(range(len(classes))))
        )
    if len(present) >= 2:
        ranked = [1] if binary else present
        pairs = [(truth[known] == code, probabilities[:, code]) for code in ranked]
        metrics["average_precision"] = float(
            np.mean([average_precision_score(is_class, score) for is_class, score in pairs])
        )
        metrics["roc_auc"] = float(
            np.mean([roc_auc_score(is_class, score) for is_class, score in pairs])
        )
    return metrics


def label_coverage(y_true: Any, classes: Any) -> tuple[int, tuple[Any, ...]]:
    """Rows whose label is not a class of the model, and the model's classes with no row.

    Returns
    -------
    (int, tuple)
        The number of rows with an unseen label, and the model's classes absent from
        ``y_true``.
    """
    positions = pd.Index(list(classes)).get_indexer(pd.Series(np.asarray(y_true)))
    seen = set(positions.tolist())
    unseen = int(np.count_nonzero(positions < 0))
    return unseen, tuple(label for code, label in enumerate(classes) if code not in seen)


def regression_metrics(y_true: Any, predictions: Predictions) -> Metrics:
    """RMSE, MAE and R²; R² is ``None`` when the targets have no variance."""
    values = predictions.labels
    return {
        "rmse": float(root_mean_squared_error(y_true, values)),
        "mae": float(mean_absolute_error(y_true, values)),
        "r2": float(r2_score(y_true, values)) if np.var(y_true) > 0 else None,
    }


BINARY = Task(
    name="binary",
    kind=CLASSIFICATION,
    description="Binary classification",
    estimator=TabularClassifier,
    metrics=classification_metrics,
    primary_metric="balanced_accuracy",
    baseline_margin=0.05,
    plots=(plots.CONFUSION_MATRIX, plots.ROC_CURVE, plots.PRECISION_RECALL, plots.CALIBRATION),
)
MULTICLASS = Task(
    name="multiclass",
    kind=CLASSIFICATION,
    description="Multiclass classification",
    estimator=TabularClassifier,
    metrics=classification_metrics,
    primary_metric="balanced_accuracy",
    baseline_margin=0.05,
    plots=(plots.CONFUSION_MATRIX, plots.CALIBRATION),
)
REGRESSION_TASK = Task(
    name="regression",
    kind=REGRESSION,
    description="Regression",
    estimator=TabularRegressor,
    metrics=regression_metrics,
    primary_metric="r2",
    baseline_margin=0.05,
    plots=(plots.PREDICTED_VS_ACTUAL, plots.RESIDUALS),
)
TASKS = {task.name: task for task in (BINARY, MULTICLASS, REGRESSION_TASK)}


def task_for(schema: Schema) -> Task:
    """The task of a data contract: regression, or binary/multiclass by its classes."""
    if schema.task == REGRESSION:
        return REGRESSION_TASK
    return BINARY if len(schema.target.classes) == 2 else MULTICLASS


def _plain(value: Any) -> Any:
    """Numpy scalars as Python ones, so labels serialise to JSON."""
    return value.item() if isinstance(value, np.generic) else value
