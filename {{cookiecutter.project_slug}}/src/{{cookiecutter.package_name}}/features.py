"""Feature preprocessing as a scikit-learn transformer.

Numeric columns are median-imputed and standardised; categorical columns are imputed with
a ``"missing"`` level and one-hot encoded, ignoring categories unseen in training.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from {{ cookiecutter.package_name }}.schema import as_category_strings


def check_tabular_input(
    estimator: BaseEstimator, X: Any, y: Any = "no_validation", *, reset: bool
) -> Any:
    """Validate ``X`` (and ``y``) the scikit-learn way while keeping DataFrames intact.

    A DataFrame keeps its column names and mixed dtypes, which the column transformer needs;
    anything else (arrays, lists, sparse matrices) goes through ``validate_data`` and must be
    numeric. Missing values are allowed, infinities are not.

    Returns
    -------
    X or (X, y)
        The validated input, in the same shape of return value as ``validate_data``.
    """
    if isinstance(X, pd.DataFrame):
        result = validate_data(estimator, X, y, reset=reset, skip_check_array=True)
        if X.shape[0] == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required."
            )
        return result
    return validate_data(estimator, X, y, reset=reset, ensure_all_finite="allow-nan")


class TabularPreprocessor(TransformerMixin, BaseEstimator):
    """Impute, scale and one-hot encode a table of mixed numeric and categorical columns.

    Parameters
    ----------
    numeric_features : sequence of str, optional
        Numeric column names. With both lists omitted, columns are split by dtype:
        numbers are numeric, everything else categorical. Plain arrays are all numeric.
    categorical_features : sequence of str, optional
        Categorical column names.
    scale_numeric : bool, default True
        Standardise numeric columns after imputation.

    Attributes
    ----------
    column_transformer_ : sklearn.compose.ColumnTransformer
        The fitted preprocessing.
    numeric_features_ : list
        Numeric columns used (names, or positions for arrays).
    categorical_features_ : list
        Categorical columns used.
    n_features_in_ : int
        Number of input columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Input column names, when ``fit`` saw a DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"age": [31.0, None, 47.0], "plan": ["basic", "pro", None]})
    >>> TabularPreprocessor().fit(frame).get_feature_names_out().tolist()
    ['age', 'plan_basic', 'plan_missing', 'plan_pro']
    """

    def __init__(
        self,
        numeric_features: Sequence[str] | None = None,
        categorical_features: Sequence[str] | None = None,
        scale_numeric: bool = True,
    ) -> None:
        self.numeric_features = numeric_features
        self.categorical_features = categorical_features
        self.scale_numeric = scale_numeric

    def fit(self, X: Any, y: Any = None) -> TabularPreprocessor:
        """Learn imputation values, scaling and categories from ``X``."""
        X = check_tabular_input(self, X, reset=True)
        numeric, categorical = self._split_columns(X)
        numeric_steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
        if self.scale_numeric:
            numeric_steps.append(("scale", StandardScaler()))
        categorical_steps = [
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
        self.column_transformer_ = ColumnTransformer(
            [
                ("numeric", Pipeline(numeric_steps), numeric),
                ("categorical", Pipeline(categorical_steps), categorical),
            ],
            verbose_feature_names_out=False,
        ).fit(_as_model_input(X, categorical))
        self.numeric_features_ = numeric
        self.categorical_features_ = categorical
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return the encoded features as a dense float array."""
        check_is_fitted(self)
        X = check_tabular_input(self, X, reset=False)
        encoded: np.ndarray = self.column_transformer_.transform(
            _as_model_input(X, self.categorical_features_)
        )
        return encoded

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns (one per numeric column and per category)."""
        check_is_fitted(self)
        names: np.ndarray = self.column_transformer_.get_feature_names_out(input_features)
        return names

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _split_columns(self, X: Any) -> tuple[list[Any], list[Any]]:
        if not isinstance(X, pd.DataFrame):
            return list(range(X.shape[1])), []
        if self.numeric_features is None and self.categorical_features is None:
            numeric = [
                name
                for name in X.columns
                if pd.api.types.is_numeric_dtype(X[name])
                and not pd.api.types.is_bool_dtype(X[name])
            ]
            return numeric, [name for name in X.columns if name not in numeric]
        return list(self.numeric_features or []), list(self.categorical_features or [])


def _as_model_input(X: Any, categorical: list[Any]) -> Any:
    """Give categorical columns one representation: object strings with NaN for missing."""
    if not isinstance(X, pd.DataFrame) or not categorical:
        return X
    return X.assign(**{name: as_category_strings(X[name]) for name in categorical})
