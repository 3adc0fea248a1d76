"""Feature encoding as a scikit-learn transformer, shaped for gradient-boosted trees.

Trees need neither scaling nor imputation: numeric columns pass through as floats with
their missing values, and categorical columns become integer codes that the learner treats
as categories (``categorical_features``), not as numbers. Categories are fixed at training;
values never seen there become missing, which the learner routes like any missing value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import OrdinalEncoder
from sklearn.utils.validation import check_is_fitted, validate_data

from .schema import as_category_strings, infer_column_kinds

# HistGradientBoosting's limit: a categorical feature may have at most ``max_bins`` (255 by
# default) distinct codes. Rarer levels beyond it are grouped into one "infrequent" code.
DEFAULT_MAX_CATEGORIES = 255


def check_tabular_input(
    estimator: BaseEstimator, X: Any, y: Any = "no_validation", *, reset: bool
) -> Any:
    """Validate ``X`` (and ``y``) the scikit-learn way while keeping DataFrames intact.

    A DataFrame keeps its column names and mixed dtypes, which the encoder needs; anything
    else (arrays, lists, sparse matrices) goes through ``validate_data`` and must be
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
    """Encode a table of mixed numeric and categorical columns for a tree learner.

    Output columns: every numeric column as ``float64`` (missing values stay ``NaN``), then
    every categorical column as integer codes ``0 .. max_categories - 1`` stored as floats
    (missing and unseen values are ``NaN``). :attr:`categorical_mask_` says which output
    columns are categorical, for the learner's ``categorical_features``.

    Parameters
    ----------
    numeric_features : sequence of str, optional
        Numeric column names. With both lists omitted, columns are split by dtype (see
        :func:`~.schema.infer_column_kinds`). Plain arrays are all numeric.
    categorical_features : sequence of str, optional
        Categorical column names.
    max_categories : int, default 255
        Most codes per categorical column; the rarest levels beyond it share one code.

    Attributes
    ----------
    encoder_ : sklearn.preprocessing.OrdinalEncoder or None
        The fitted category codes (None without categorical columns).
    numeric_features_ : list
        Numeric columns used (names, or positions for arrays).
    categorical_features_ : list
        Categorical columns used.
    categorical_mask_ : ndarray of bool
        For each output column, whether it holds category codes.
    n_features_in_ : int
        Number of input columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Input column names, when ``fit`` saw a DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"age": [31.0, None, 47.0], "plan": ["basic", "pro", None]})
    >>> TabularPreprocessor().fit_transform(frame).tolist()
    [[31.0, 0.0], [nan, 1.0], [47.0, nan]]
    """

    def __init__(
        self,
        numeric_features: Sequence[str] | None = None,
        categorical_features: Sequence[str] | None = None,
        max_categories: int = DEFAULT_MAX_CATEGORIES,
    ) -> None:
        self.numeric_features = numeric_features
        self.categorical_features = categorical_features
        self.max_categories = max_categories

    def fit(self, X: Any, y: Any = None) -> TabularPreprocessor:
        """Learn the categories of each categorical column from ``X``."""
        X = check_tabular_input(self, X, reset=True)
        numeric, categorical = self._split_columns(X)
        self.encoder_ = None
        if categorical:
            self.encoder_ = OrdinalEncoder(
                handle_unknown="use_encoded_value",
                unknown_value=np.nan,
                max_categories=self.max_categories,
                dtype=np.float64,
            ).fit(_category_strings(X, categorical))
        self.numeric_features_ = numeric
        self.categorical_features_ = categorical
        self.categorical_mask_ = np.array(
            [False] * len(numeric) + [True] * len(categorical), dtype=bool
        )
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return numeric columns then category codes, as one float array."""
        check_is_fitted(self)
        X = check_tabular_input(self, X, reset=False)
        parts = [_numeric_block(X, self.numeric_features_)]
        if self.encoder_ is not None:
            parts.append(self.encoder_.transform(_category_strings(X, self.categorical_features_)))
        return np.hstack(parts) if len(parts) > 1 else parts[0]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns: the input names, numeric columns first."""
        check_is_fitted(self)
        names = [*self.numeric_features_, *self.categorical_features_]
        if not hasattr(self, "feature_names_in_"):
            names = [f"x{position}" for position in names]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _split_columns(self, X: Any) -> tuple[list[Any], list[Any]]:
        if not isinstance(X, pd.DataFrame):
            return list(range(X.shape[1])), []
        if self.numeric_features is None and self.categorical_features is None:
            return infer_column_kinds(X, X.columns)
        return list(self.numeric_features or []), list(self.categorical_features or [])


def _numeric_block(X: Any, columns: list[Any]) -> np.ndarray:
    if isinstance(X, pd.DataFrame):
        return X[columns].to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(X, dtype=np.float64)[:, columns]


def _category_strings(X: pd.DataFrame, columns: list[Any]) -> pd.DataFrame:
    """One representation for categories: object strings with NaN for missing values."""
    return pd.DataFrame({name: as_category_strings(X[name]) for name in columns}, index=X.index)
