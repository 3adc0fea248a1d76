{%- set classification = cookiecutter.ml_task == "classification" -%}
{%- set Estimator = "TabularClassifier" if classification else "TabularRegressor" -%}
{%- set Learner = "HistGradientBoostingClassifier" if classification else "HistGradientBoostingRegressor" -%}
"""The model: preprocessing and a gradient-boosting learner behind one scikit-learn estimator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, {{ "ClassifierMixin" if classification else "RegressorMixin" }}
from sklearn.ensemble import {{ Learner }}
from sklearn.pipeline import Pipeline
{%- if classification %}
from sklearn.utils.multiclass import check_classification_targets
{%- endif %}
from sklearn.utils.validation import check_is_fitted, column_or_1d

from {{ cookiecutter.package_name }}.features import TabularPreprocessor, check_tabular_input


class {{ Estimator }}({{ "ClassifierMixin" if classification else "RegressorMixin" }}, BaseEstimator):
    """{% if classification %}Classify{% else %}Predict a number for{% endif %} rows of a table with mixed numeric and categorical columns.

    Wraps :class:`~{{ cookiecutter.package_name }}.features.TabularPreprocessor` and
    scikit-learn's :class:`~sklearn.ensemble.{{ Learner }}`, a strong default for
    tabular data. Hyperparameters are the learner's own.

    Parameters
    ----------
    numeric_features, categorical_features : sequence of str, optional
        Passed to the preprocessor; inferred from dtypes when both are omitted.
    learning_rate : float, default 0.1
        Shrinkage of each boosting iteration.
    max_iter : int, default 200
        Number of boosting iterations.
    max_leaf_nodes : int, default 31
        Leaves per tree.
    min_samples_leaf : int, default 20
        Fewest training rows per leaf.
    l2_regularization : float, default 0.0
        L2 penalty on leaf values.
    random_state : int, optional
        Seed; with the same data it makes training reproducible.

    Attributes
    ----------
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted preprocessing and learner.
{%- if classification %}
    classes_ : ndarray
        Class labels seen in ``fit``.
{%- endif %}
    n_iter_ : int
        Boosting iterations run.
    n_features_in_ : int
        Number of input columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Input column names, when ``fit`` saw a DataFrame.
    """

    def __init__(
        self,
        numeric_features: Sequence[str] | None = None,
        categorical_features: Sequence[str] | None = None,
        learning_rate: float = 0.1,
        max_iter: int = 200,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 20,
        l2_regularization: float = 0.0,
        random_state: int | None = None,
    ) -> None:
        self.numeric_features = numeric_features
        self.categorical_features = categorical_features
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> {{ Estimator }}:
        """Fit the preprocessing and the learner.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Training features; DataFrames may mix numeric and categorical columns.
        y : array-like of shape (n_samples,)
            {% if classification %}Class labels.{% else %}Target values.{% endif %}

        Returns
        -------
        self
        """
        X, y = check_tabular_input(self, X, y, reset=True)
        y = column_or_1d(y, warn=True)
{%- if classification %}
        check_classification_targets(y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(
                f"y has 1 class ({classes[0]!r}); a classifier needs at least 2 classes"
            )
{%- endif %}
        self.pipeline_ = Pipeline(
            [
                (
                    "preprocess",
                    TabularPreprocessor(
                        numeric_features=self.numeric_features,
                        categorical_features=self.categorical_features,
                    ),
                ),
                (
                    "learner",
                    {{ Learner }}(
                        learning_rate=self.learning_rate,
                        max_iter=self.max_iter,
                        max_leaf_nodes=self.max_leaf_nodes,
                        min_samples_leaf=self.min_samples_leaf,
                        l2_regularization=self.l2_regularization,
                        early_stopping=False,
                        random_state=self.random_state,
                    ),
                ),
            ]
        ).fit(X, y)
        self.n_iter_ = self.pipeline_.named_steps["learner"].n_iter_
{%- if classification %}
        self.classes_ = self.pipeline_.classes_
{%- endif %}
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predict {% if classification %}the class{% else %}the target{% endif %} of each row."""
        check_is_fitted(self)
        X = check_tabular_input(self, X, reset=False)
        predictions: np.ndarray = self.pipeline_.predict(X)
        return predictions
{%- if classification %}

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of each class (columns in the order of ``classes_``) for each row."""
        check_is_fitted(self)
        X = check_tabular_input(self, X, reset=False)
        probabilities: np.ndarray = self.pipeline_.predict_proba(X)
        return probabilities

    def predict_with_proba(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Classes and probabilities from one pass through the pipeline.

        Equal to ``(predict(X), predict_proba(X))`` (the learner predicts the most probable
        class) at half the cost, which matters when serving one row at a time.
        """
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)], probabilities
{%- endif %}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


Model = {{ Estimator }}
"""The estimator class of this project (:class:`{{ Estimator }}`)."""
