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
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)

from . import plots
from .errors import ConfigError
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
    plots : tuple of plots.Plot
        Figures of the evaluation report.
    """

    name: str
    kind: str
    description: str
    estimator: type[TabularModel]
    metrics: Callable[[Any, Predictions], Metrics]
    primary_metric: str
    plots: tuple[plots.Plot, ...]

    @property
    def is_classification(self) -> bool:
        """Whether predictions are class labels (with probabilities)."""
        return self.kind == CLASSIFICATION

    def build(self, schema: Schema, params: Mapping[str, Any], random_state: int) -> TabularModel:
        """An unfitted estimator for ``schema`` with the learner's hyperparameters ``params``.

        Raises
        ------
        ConfigError
            When ``params`` names something that is not a hyperparameter of the learner.
        """
        learner = self.estimator.default_learner()
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
    """Accuracy, F1, ROC-AUC and log loss; a metric that is undefined here is ``None``.

    Binary problems score F1 and ROC-AUC for the second class; problems with more classes
    use macro-F1 and one-vs-rest ROC-AUC.
    """
    if predictions.probabilities is None or predictions.classes is None:
        raise ValueError("classification metrics need class probabilities")
    classes = list(predictions.classes)
    binary = len(classes) == 2
    labels, probabilities = predictions.labels, predictions.probabilities
    metrics: Metrics = {
        "accuracy": float(accuracy_score(y_true, labels)),
        "f1": float(
            f1_score(y_true, labels, pos_label=classes[-1], average="binary")
            if binary
            else f1_score(y_true, labels, average="macro")
        ),
        "log_loss": float(log_loss(y_true, probabilities, labels=classes)),
        "roc_auc": None,
    }
    if len(np.unique(y_true)) == len(classes):
        scores = probabilities[:, 1] if binary else probabilities
        metrics["roc_auc"] = float(
            roc_auc_score(y_true, scores, multi_class="ovr", labels=None if binary else classes)
        )
    return metrics


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
    primary_metric="roc_auc",
    plots=(plots.CONFUSION_MATRIX, plots.ROC_CURVE),
)
MULTICLASS = Task(
    name="multiclass",
    kind=CLASSIFICATION,
    description="Multiclass classification",
    estimator=TabularClassifier,
    metrics=classification_metrics,
    primary_metric="roc_auc",
    plots=(plots.CONFUSION_MATRIX,),
)
REGRESSION_TASK = Task(
    name="regression",
    kind=REGRESSION,
    description="Regression",
    estimator=TabularRegressor,
    metrics=regression_metrics,
    primary_metric="r2",
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
