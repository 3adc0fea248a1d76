"""Feature encoding as a scikit-learn transformer, shaped for gradient-boosted trees.

Trees need neither scaling nor imputation: numeric columns pass through as floats with
their missing values, and categorical columns become integer codes that the learner treats
as categories (``categorical_features``), not as numbers. Categories are fixed at training;
values never seen there become missing, which the learner routes like any missing value.

A column with more levels than the learner can split on as categories (``max_bins``, 255
by default) is target-encoded instead: each level becomes the smoothed mean of the target
over its rows, cross-fitted on training data so that a level's own rows never encode
it. On the 250,000-row benchmark (``benchmarks/bench_train.py``, a 20,000-level column)
that scored a holdout ROC-AUC of 0.830, against 0.816 for keeping the 254 most frequent
levels and grouping the rest, at the same time and memory; no encoding densifies.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import OrdinalEncoder, TargetEncoder
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from .schema import as_category_strings, infer_column_kinds

# HistGradientBoosting's limit: a categorical feature may have at most ``max_bins`` (255 by
# default) distinct codes. A wider column is target-encoded (or, without a target to
# encode, its rarer levels are grouped into one "infrequent" code).
DEFAULT_MAX_CATEGORIES = 255
TARGET_ENCODING_FOLDS = 5
"""Folds of the cross-fitting that target-encodes the training rows."""
# scikit-learn 1.9 takes the folds' shuffling as a splitter; older versions as parameters.
_SKLEARN_VERSION = tuple(int(part) for part in re.findall(r"\d+", sklearn.__version__)[:2])
_SPLITTER_AS_CV = _SKLEARN_VERSION >= (1, 9)
_CODE_LOOKUPS: weakref.WeakKeyDictionary[OrdinalEncoder, list[dict[str, float]]] = (
    weakref.WeakKeyDictionary()
)
"""Each fitted encoder's codes as dictionaries, built on first use (see :func:`_code_lookups`)."""


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
    (missing and unseen values are ``NaN``), then the target encoding of each categorical
    column with more than ``max_categories`` levels (one column per class for a multiclass
    target). :attr:`categorical_mask_` says which output columns are category codes, for
    the learner's ``categorical_features``.

    Target encoding needs ``y``: :meth:`fit_transform` encodes the training rows
    cross-fitted (each fold by the other folds' means), :meth:`fit` learns the means of
    all rows, which :meth:`transform` applies; unseen levels get the target's mean.
    Without ``y``, wide columns keep their ``max_categories - 1`` most frequent levels and
    the rest share one "infrequent" code.

    Parameters
    ----------
    numeric_features : sequence of str, optional
        Numeric column names. With both lists omitted, columns are split by dtype (see
        :func:`~.schema.infer_column_kinds`). Plain arrays are all numeric.
    categorical_features : sequence of str, optional
        Categorical column names.
    max_categories : int, default 255
        Most codes per categorical column; a column with more levels is target-encoded
        when ``fit`` gets ``y``, else its rarest levels share one code.
    target_type : {"auto", "continuous", "binary", "multiclass"}, default "auto"
        How to read ``y`` for target encoding; "auto" infers it from the values.
    random_state : int or None, default None
        Seed of the folds' shuffling for cross-fitted target encoding.

    Attributes
    ----------
    encoder_ : sklearn.preprocessing.OrdinalEncoder or None
        The fitted category codes (None without such columns).
    target_encoder_ : sklearn.preprocessing.TargetEncoder or None
        The fitted target encoding (None without wide columns).
    numeric_features_ : list
        Numeric columns used (names, or positions for arrays).
    categorical_features_ : list
        Categorical columns encoded as category codes.
    target_encoded_features_ : list
        Categorical columns with more than ``max_categories`` levels, target-encoded.
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
        target_type: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.numeric_features = numeric_features
        self.categorical_features = categorical_features
        self.max_categories = max_categories
        self.target_type = target_type
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> TabularPreprocessor:
        """Learn the categories of each categorical column (and target means, given ``y``)."""
        self._fit(X, y, cross_fit=False)
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit, and encode ``X`` with target encodings cross-fitted over its rows."""
        return cast(np.ndarray, self._fit(X, y, cross_fit=True))

    def transform(self, X: Any) -> np.ndarray:
        """Return numeric columns, category codes, then target encodings, as one float array."""
        check_is_fitted(self)
        return self._encode_checked(check_tabular_input(self, X, reset=False))

    def _encode_checked(self, X: Any) -> np.ndarray:
        """:meth:`transform` of input already checked by ``check_tabular_input``.

        Category codes are looked up cell by cell in dictionaries built from ``encoder_``
        (:func:`_code_lookups`): the same codes as ``encoder_.transform``, without its
        per-call validation, which costs milliseconds when serving a few rows.
        """
        parts = [_numeric_block(X, self.numeric_features_)]
        if self.encoder_ is not None:
            parts.append(_category_codes(X, self.categorical_features_, self.encoder_))
        if self.target_encoder_ is not None:
            wide = _category_strings(X, self.target_encoded_features_)
            parts.append(self.target_encoder_.transform(wide))
        return np.hstack(parts) if len(parts) > 1 else parts[0]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns: the input names, numeric columns first.

        A multiclass target encoding has one column per class, named ``<column>_<class>``.
        """
        check_is_fitted(self)
        named = hasattr(self, "feature_names_in_")
        names = [*self.numeric_features_, *self.categorical_features_]
        if not named:
            names = [f"x{position}" for position in names]
        if self.target_encoder_ is not None:
            names.extend(self.target_encoder_.get_feature_names_out())
        return np.asarray(names, dtype=object)

    def _fit(self, X: Any, y: Any, *, cross_fit: bool) -> np.ndarray | None:
        """Fit every encoder; with ``cross_fit``, also return the encoded training rows."""
        X = check_tabular_input(self, X, reset=True)
        numeric, categorical = self._split_columns(X)
        strings = _category_strings(X, categorical) if categorical else pd.DataFrame()
        wide = []
        if categorical and y is not None:
            levels = strings.nunique()
            wide = [name for name in categorical if levels[name] > self.max_categories]
        narrow = [name for name in categorical if name not in wide]
        self.encoder_ = None
        if narrow:
            self.encoder_ = OrdinalEncoder(
                handle_unknown="use_encoded_value",
                unknown_value=np.nan,
                max_categories=self.max_categories,
                dtype=np.float64,
            ).fit(strings[narrow])
        self.target_encoder_ = None
        encoded_wide = None
        if wide:
            self.target_encoder_ = self._target_encoder(y)
            if cross_fit:
                encoded_wide = self.target_encoder_.fit_transform(strings[wide], y)
            else:
                self.target_encoder_.fit(strings[wide], y)
        self.numeric_features_ = numeric
        self.categorical_features_ = narrow
        self.target_encoded_features_ = wide
        n_target_encoded = 0
        if self.target_encoder_ is not None:
            n_target_encoded = len(self.target_encoder_.get_feature_names_out())
        self.categorical_mask_ = np.array(
            [False] * len(numeric) + [True] * len(narrow) + [False] * n_target_encoded,
            dtype=bool,
        )
        if not cross_fit:
            return None
        parts = [_numeric_block(X, numeric)]
        if self.encoder_ is not None:
            parts.append(self.encoder_.transform(strings[narrow]))
        if encoded_wide is not None:
            parts.append(encoded_wide)
        return np.hstack(parts) if len(parts) > 1 else parts[0]

    def _target_encoder(self, y: Any) -> TargetEncoder:
        """An unfitted target encoder whose cross-fitting folds follow ``random_state``."""
        target_type = self.target_type
        if target_type == "auto":
            target_type = type_of_target(y, input_name="y")
        splitter = KFold if target_type == "continuous" else StratifiedKFold
        folds: dict[str, Any] = {"cv": TARGET_ENCODING_FOLDS, "random_state": self.random_state}
        if _SPLITTER_AS_CV:
            folds = {
                "cv": splitter(TARGET_ENCODING_FOLDS, shuffle=True, random_state=self.random_state)
            }
        return TargetEncoder(target_type=target_type, **folds)

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
        # Column by column: selecting a sub-frame first costs more than the conversion.
        block = np.empty((len(X), len(columns)), dtype=np.float64)
        for position, name in enumerate(columns):
            block[:, position] = X[name].to_numpy(dtype=np.float64, na_value=np.nan)
        return block
    return np.asarray(X, dtype=np.float64)[:, columns]


def _category_codes(X: pd.DataFrame, columns: list[Any], encoder: OrdinalEncoder) -> np.ndarray:
    """``encoder.transform`` of the columns' category strings, by dictionary lookups."""
    codes = np.empty((len(X), len(columns)), dtype=np.float64)
    for position, (name, lookup) in enumerate(zip(columns, _code_lookups(encoder, columns))):
        cells = as_category_strings(X[name]).to_numpy()
        codes[:, position] = [lookup.get(cell, np.nan) for cell in cells]
    return codes


def _code_lookups(encoder: OrdinalEncoder, columns: list[Any]) -> list[dict[str, float]]:
    """Each column's known categories mapped to their codes, as ``encoder`` assigns them.

    Built once per fitted encoder by transforming every known category (so levels grouped
    as infrequent get their shared code); anything else, missing values included, is
    absent and becomes NaN, like the encoder's unknown and missing values. Kept beside the
    encoder, not in it: saved models do not change.
    """
    lookups = _CODE_LOOKUPS.get(encoder)
    if lookups is None:
        known = [
            [c for c in categories if isinstance(c, str)] for categories in encoder.categories_
        ]
        rows = max([1, *(len(levels) for levels in known)])
        probe = pd.DataFrame(
            {
                name: np.array(
                    levels + [levels[0] if levels else np.nan] * (rows - len(levels)),
                    dtype=object,
                )
                for name, levels in zip(columns, known)
            }
        )
        codes = encoder.transform(probe)
        lookups = [
            dict(zip(levels, codes[: len(levels), position].tolist()))
            for position, levels in enumerate(known)
        ]
        _CODE_LOOKUPS[encoder] = lookups
    return lookups


def _category_strings(X: pd.DataFrame, columns: list[Any]) -> pd.DataFrame:
    """One representation for categories: object strings with NaN for missing values."""
    return pd.DataFrame({name: as_category_strings(X[name]) for name in columns}, index=X.index)
