"""The models: feature encoding and a gradient-boosting learner behind one scikit-learn estimator.

:class:`TabularClassifier` and :class:`TabularRegressor` are the skeleton to extend: they
take a table of mixed columns, encode it with :class:`~.features.TabularPreprocessor` and fit
``learner`` (scikit-learn's histogram gradient boosting by default, which handles
categories and missing values natively). Every hyperparameter of a given learner is
reachable as ``learner__<name>``, as in any scikit-learn meta-estimator; training always
passes one (see :meth:`~.Task.build`), so a config can set any of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .features import DEFAULT_MAX_CATEGORIES, TabularPreprocessor, check_tabular_input


class TabularModel(BaseEstimator):
    """What both models share: encode, then fit the learner on the codes.

    Parameters
    ----------
    numeric_features, categorical_features : sequence of str, optional
        Passed to the preprocessor; inferred from dtypes when both are omitted.
    learner : estimator, optional
        The unfitted learner; :meth:`default_learner` when omitted. It receives
        ``categorical_features`` from the encoder, so it must accept that parameter.

    Attributes
    ----------
    preprocessor_ : TabularPreprocessor
        The fitted encoder.
    learner_ : estimator
        The fitted learner.
    n_features_in_ : int
        Number of input columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Input column names, when ``fit`` saw a DataFrame.
    """

    def __init__(
        self,
        numeric_features: Sequence[str] | None = None,
        categorical_features: Sequence[str] | None = None,
        learner: BaseEstimator | None = None,
    ) -> None:
        self.numeric_features = numeric_features
        self.categorical_features = categorical_features
        self.learner = learner

    @classmethod
    def default_learner(cls) -> BaseEstimator:
        """The learner used when none is given."""
        raise NotImplementedError

    _target_type = "auto"
    """How the preprocessor reads ``y`` for target-encoding wide categorical columns."""

    def _fit_pipeline(self, X: Any, y: Any) -> None:
        learner = clone(self.learner) if self.learner is not None else self.default_learner()
        learner_params = learner.get_params()
        random_state = learner_params.get("random_state")
        preprocessor = TabularPreprocessor(
            numeric_features=self.numeric_features,
            categorical_features=self.categorical_features,
            max_categories=learner_params.get("max_bins", DEFAULT_MAX_CATEGORIES),
            target_type=self._target_type,
            random_state=random_state if isinstance(random_state, int) else None,
        )
        encoded = preprocessor.fit_transform(X, y)
        mask = preprocessor.categorical_mask_
        learner.set_params(categorical_features=mask if mask.any() else None)
        self.learner_ = learner.fit(encoded, y)
        self.preprocessor_ = preprocessor

    def _encode(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = check_tabular_input(self, X, reset=False)
        # The preprocessor saw the same columns in fit: its own input check would repeat ours.
        encoded: np.ndarray = self.preprocessor_._encode_checked(X)
        return encoded

    def predict(self, X: Any) -> np.ndarray:
        """Predict the target of each row."""
        encoded = self._encode(X)  # first: it raises NotFittedError on an unfitted model
        predictions: np.ndarray = self.learner_.predict(encoded)
        return predictions

    @property
    def n_iter_(self) -> int:
        """Boosting iterations the learner ran (early stopping may stop it sooner)."""
        check_is_fitted(self)
        return int(self.learner_.n_iter_)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class TabularClassifier(ClassifierMixin, TabularModel):
    """Classify rows of a table with mixed numeric and categorical columns.

    Parameters and attributes are those of :class:`TabularModel`, plus:

    Attributes
    ----------
    classes_ : ndarray
        Class labels seen in ``fit``.
    """

    @classmethod
    def default_learner(cls) -> BaseEstimator:
        """:class:`~sklearn.ensemble.HistGradientBoostingClassifier` with its defaults."""
        return HistGradientBoostingClassifier()

    def fit(self, X: Any, y: Any) -> TabularClassifier:
        """Fit the encoder and the learner.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Training features; DataFrames may mix numeric and categorical columns.
        y : array-like of shape (n_samples,)
            Class labels; at least two classes.

        Returns
        -------
        self
        """
        X, y = check_tabular_input(self, X, y, reset=True)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(
                f"y has 1 class ({classes[0]!r}); a classifier needs at least 2 classes"
            )
        self._fit_pipeline(X, y)
        self.classes_ = self.learner_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of each class (columns in the order of ``classes_``) for each row."""
        encoded = self._encode(X)  # first: it raises NotFittedError on an unfitted model
        probabilities: np.ndarray = self.learner_.predict_proba(encoded)
        return probabilities

    def predict_with_proba(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Classes and probabilities from one pass through the pipeline.

        Equal to ``(predict(X), predict_proba(X))`` (the learner predicts the most probable
        class) at half the cost, which matters when serving one row at a time.
        """
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)], probabilities


class TabularRegressor(RegressorMixin, TabularModel):
    """Predict a number for rows of a table with mixed numeric and categorical columns.

    Parameters and attributes are those of :class:`TabularModel`.
    """

    _target_type = "continuous"

    @classmethod
    def default_learner(cls) -> BaseEstimator:
        """:class:`~sklearn.ensemble.HistGradientBoostingRegressor` with its defaults."""
        return HistGradientBoostingRegressor()

    def fit(self, X: Any, y: Any) -> TabularRegressor:
        """Fit the encoder and the learner.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Training features; DataFrames may mix numeric and categorical columns.
        y : array-like of shape (n_samples,)
            Target values.

        Returns
        -------
        self
        """
        X, y = check_tabular_input(self, X, y, reset=True)
        y = column_or_1d(y, warn=True).astype(np.float64)
        self._fit_pipeline(X, y)
        return self
