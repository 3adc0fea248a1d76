"""The data contract: inferred from the training data, stored with the model, enforced everywhere.

One :class:`Schema` validates training data, batch-prediction input and HTTP requests, so
the model always sees features in the representation it was trained on: numeric columns
as ``float64`` and categorical columns as ``object`` strings, missing values as ``NaN``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError

NUMERIC = "numeric"
CATEGORICAL = "categorical"
CLASSIFICATION = "classification"
REGRESSION = "regression"
_EXAMPLES_SHOWN = 3


@dataclass(frozen=True)
class FeatureSpec:
    """What training saw of one feature column.

    Attributes
    ----------
    name : str
        Column name.
    kind : {"numeric", "categorical"}
        How the feature is encoded.
    dtype : str
        The pandas dtype the training file produced, for documentation.
    nullable : bool
        Whether training data had missing values in this column.
    minimum, maximum : float or None
        Range of a numeric feature in training data.
    categories : tuple of str
        Values of a categorical feature seen in training data.
    """

    name: str
    kind: str
    dtype: str
    nullable: bool
    minimum: float | None = None
    maximum: float | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetSpec:
    """What training saw of the target column.

    ``classes`` and ``class_counts`` describe a classification target, ``mean`` a regression
    one; they are enough to rebuild the dummy baseline the evaluation compares against.
    """

    name: str
    classes: tuple[Any, ...] = ()
    class_counts: tuple[int, ...] = ()
    mean: float | None = None


@dataclass(frozen=True)
class Schema:
    """Feature and target contract of a trained model (JSON-serialisable).

    ``task`` is ``"classification"`` or ``"regression"``: it decides how labels are read.
    """

    features: tuple[FeatureSpec, ...]
    target: TargetSpec
    task: str = CLASSIFICATION

    @property
    def feature_names(self) -> list[str]:
        """Feature columns in the order the model expects them."""
        return [spec.name for spec in self.features]

    def columns_of_kind(self, kind: str) -> list[str]:
        """Names of the features encoded as ``kind`` (numeric or categorical)."""
        return [spec.name for spec in self.features if spec.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary (see :meth:`from_dict`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        """Rebuild a schema from :meth:`to_dict` output."""
        features = tuple(
            FeatureSpec(**{**spec, "categories": tuple(spec.get("categories", ()))})
            for spec in data["features"]
        )
        target = data["target"]
        return cls(
            features=features,
            target=TargetSpec(
                name=target["name"],
                classes=tuple(target.get("classes", ())),
                class_counts=tuple(target.get("class_counts", ())),
                mean=target.get("mean"),
            ),
            task=data.get("task", CLASSIFICATION),
        )

    def example_row(self) -> dict[str, Any]:
        """One plausible row: the middle of each numeric range, the first known category."""
        row: dict[str, Any] = {}
        for spec in self.features:
            if spec.kind == NUMERIC:
                low, high = spec.minimum, spec.maximum
                row[spec.name] = (low + high) / 2 if low is not None and high is not None else 0.0
            else:
                row[spec.name] = spec.categories[0] if spec.categories else None
        return row

    def validate_features(
        self, frame: pd.DataFrame, *, allow_extra: bool = True, strict_types: bool = False
    ) -> pd.DataFrame:
        """Check and coerce input rows to the trained representation.

        Parameters
        ----------
        frame : pandas.DataFrame
            Rows to score (a CSV chunk or a parsed HTTP request).
        allow_extra : bool, default True
            Ignore columns that are not features (ids, the target); when False, they are errors.
        strict_types : bool, default False
            Refuse strings in numeric features and booleans anywhere, as JSON input should be
            typed; CSV input is untyped text, so it is parsed leniently.

        Returns
        -------
        pandas.DataFrame
            Exactly the feature columns, in training order.

        Raises
        ------
        DataError
            Naming every offending column: missing, unknown, wrong type or non-finite.
        """
        problems: dict[str, str] = {}
        missing = [name for name in self.feature_names if name not in frame.columns]
        for name in missing:
            problems[name] = "required feature is missing"
        if not allow_extra:
            for name in frame.columns:
                if name not in self.feature_names:
                    problems[str(name)] = "unknown feature"
        columns = {}
        for spec in self.features:
            if spec.name in missing:
                continue
            coerce = _coerce_numeric if spec.kind == NUMERIC else _coerce_categorical
            column, problem = coerce(frame[spec.name], strict_types)
            if problem:
                problems[spec.name] = problem
            columns[spec.name] = column
        if problems:
            raise DataError(_summarise(problems), problems)
        return pd.DataFrame(columns, index=frame.index)

    def split_training(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
        """Validate training rows and return features and target.

        Rows whose target is missing are dropped: they carry no label to learn from.
        """
        if self.target.name not in frame.columns:
            raise DataError(f"target column {self.target.name!r} is missing")
        labelled = frame[frame[self.target.name].notna()]
        features = self.validate_features(labelled)
        return features, coerce_target(labelled[self.target.name], self.task)

    def skew(self, features: pd.DataFrame) -> dict[str, dict[str, int]]:
        """Count values unlike anything training saw, per feature.

        Parameters
        ----------
        features : pandas.DataFrame
            Output of :meth:`validate_features`.

        Returns
        -------
        dict
            Feature name mapped to a dictionary of non-zero counts keyed by
            ``"out_of_range"``, ``"unseen_category"`` or ``"unexpected_missing"``.
        """
        # Plain NumPy: this runs on every request, where pandas' per-call overhead dominates.
        report: dict[str, dict[str, int]] = {}
        for spec in self.features:
            values = features[spec.name].to_numpy()
            missing = pd.isna(values)
            counts = {}
            if not spec.nullable and missing.any():
                counts["unexpected_missing"] = int(missing.sum())
            present = values[~missing]
            if spec.kind == NUMERIC and spec.minimum is not None and spec.maximum is not None:
                low, high = spec.minimum, spec.maximum
                outside = int(np.count_nonzero((present < low) | (present > high)))
                if outside:
                    counts["out_of_range"] = outside
            elif spec.kind == CATEGORICAL:
                known = set(spec.categories)
                unseen = sum(value not in known for value in present)
                if unseen:
                    counts["unseen_category"] = unseen
            if counts:
                report[spec.name] = counts
        return report


def infer_schema(
    frame: pd.DataFrame,
    target: str,
    *,
    task: str = CLASSIFICATION,
    numeric_features: Sequence[str] | None = None,
    categorical_features: Sequence[str] | None = None,
    ignore_columns: Iterable[str] = (),
    forbidden_features: Iterable[str] = (),
    min_rows: int = 20,
) -> Schema:
    """Infer the data contract from training data, checking that it can be trained on.

    Parameters
    ----------
    frame : pandas.DataFrame
        Training data including the target column.
    target : str
        Name of the target column.
    task : {"classification", "regression"}
        How to read the target: labels, or numbers.
    numeric_features, categorical_features : sequence of str, optional
        Explicit feature lists; columns not listed in either are inferred from their dtype
        only when both lists are omitted.
    ignore_columns : iterable of str
        Columns that are never features (identifiers, timestamps).
    forbidden_features : iterable of str
        Columns that must not reach the model (leaky or sensitive); their presence among
        the features is an error, never silently dropped.
    min_rows : int
        Fewest labelled rows accepted.

    Raises
    ------
    DataError
        With a message naming the offending columns.
    """
    if frame.empty:
        raise DataError("training data has no rows")
    if target not in frame.columns:
        raise DataError(
            f"target column {target!r} is missing (columns: {', '.join(map(str, frame.columns))})"
        )
    labels = frame[target]
    if labels.isna().all():
        raise DataError(f"target column {target!r} has no values (all missing)")
    labelled = frame[labels.notna()]
    if len(labelled) < min_rows:
        raise DataError(
            f"training data has {len(labelled)} labelled rows; at least {min_rows} are required"
        )
    ignored = set(ignore_columns) | {target}
    numeric, categorical = _resolve_feature_kinds(
        labelled, ignored, numeric_features, categorical_features
    )
    forbidden = sorted(set(forbidden_features) & (set(numeric) | set(categorical)))
    if forbidden:
        raise DataError(
            f"forbidden feature(s) present: {', '.join(forbidden)}; "
            "remove them from the data or list the features explicitly",
            {name: "forbidden feature" for name in forbidden},
        )
    if not numeric and not categorical:
        raise DataError("no feature columns left after removing the target and ignored columns")

    specs = []
    problems: dict[str, str] = {}
    for name in labelled.columns:
        if name not in numeric and name not in categorical:
            continue
        column = labelled[name]
        if name in numeric:
            values, problem = _coerce_numeric(column, strict_types=False)
            if problem:
                problems[name] = problem
                continue
            finite = values.dropna()
            specs.append(
                FeatureSpec(
                    name=name,
                    kind=NUMERIC,
                    dtype=str(column.dtype),
                    nullable=bool(values.isna().any()),
                    minimum=float(finite.min()) if len(finite) else None,
                    maximum=float(finite.max()) if len(finite) else None,
                )
            )
        else:
            values, _ = _coerce_categorical(column, strict_types=False)
            specs.append(
                FeatureSpec(
                    name=name,
                    kind=CATEGORICAL,
                    dtype=str(column.dtype),
                    nullable=bool(values.isna().any()),
                    categories=tuple(sorted(values.dropna().unique())),
                )
            )
    if problems:
        raise DataError(_summarise(problems), problems)
    return Schema(
        features=tuple(specs), target=_target_spec(target, labelled[target], task), task=task
    )


def _resolve_feature_kinds(
    frame: pd.DataFrame,
    ignored: set[str],
    numeric: Sequence[str] | None,
    categorical: Sequence[str] | None,
) -> tuple[list[str], list[str]]:
    if numeric is None and categorical is None:
        return infer_column_kinds(frame, [name for name in frame.columns if name not in ignored])
    numeric_list, categorical_list = list(numeric or ()), list(categorical or ())
    listed = numeric_list + categorical_list
    absent = [name for name in listed if name not in frame.columns]
    if absent:
        raise DataError(
            f"configured feature column(s) missing from the data: {', '.join(absent)}",
            {name: "configured feature is missing" for name in absent},
        )
    both = sorted(set(numeric_list) & set(categorical_list))
    if both:
        raise DataError(f"column(s) listed as both numeric and categorical: {', '.join(both)}")
    return numeric_list, categorical_list


def infer_column_kinds(frame: pd.DataFrame, columns: Iterable[Any]) -> tuple[list[Any], list[Any]]:
    """Split ``columns`` by dtype: numbers are numeric, everything else (booleans too) categorical.

    The one place column kinds are guessed; configure the feature lists to override it.
    """
    numeric: list[Any] = []
    categorical: list[Any] = []
    for name in columns:
        dtype = frame[name].dtype
        is_number = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        (numeric if is_number else categorical).append(name)
    return numeric, categorical


def _target_spec(name: str, labels: pd.Series, task: str) -> TargetSpec:
    values = coerce_target(labels, task)
    if task == CLASSIFICATION:
        counts = values.value_counts().sort_index()
        if len(counts) < 2:
            raise DataError(
                f"target column {name!r} has a single class ({_plain(counts.index[0])!r}); "
                "classification needs at least two"
            )
        return TargetSpec(
            name=name,
            classes=tuple(_plain(label) for label in counts.index),
            class_counts=tuple(int(count) for count in counts),
        )
    return TargetSpec(name=name, mean=float(values.mean()))


def coerce_target(labels: pd.Series, task: str) -> pd.Series:
    """Labels as the task reads them: floats for regression, integers or objects otherwise.

    Raises
    ------
    DataError
        When a regression target holds values that are not numbers.
    """
    if task == REGRESSION:
        values = pd.to_numeric(labels, errors="coerce")
        bad = values.isna() & labels.notna()
        if bad.any():
            examples = _examples(labels[bad])
            raise DataError(
                f"target column {labels.name!r} must be numeric for regression; got {examples}"
            )
        return values.astype("float64")
    if pd.api.types.is_float_dtype(labels) and (labels.dropna() % 1 == 0).all():
        return labels.astype("int64")
    if pd.api.types.is_numeric_dtype(labels):
        return labels
    return labels.astype(object)


def _coerce_numeric(column: pd.Series, strict_types: bool) -> tuple[pd.Series, str | None]:
    if pd.api.types.is_bool_dtype(column):
        return column, "expected numbers, got booleans"
    if pd.api.types.is_numeric_dtype(column):
        values = column.astype("float64")
    else:
        objects = column.dropna()
        if strict_types:
            wrong = objects[~objects.map(_is_number)]
            if len(wrong):
                return column, f"expected numbers, got {_examples(wrong)}"
        values = pd.to_numeric(column, errors="coerce").astype("float64")
        bad = values.isna() & column.notna()
        if bad.any():
            return column, f"expected numbers, got non-numeric values {_examples(column[bad])}"
    if np.isinf(values.to_numpy()).any():
        return column, "contains non-finite numbers (inf)"
    return values, None


def _coerce_categorical(column: pd.Series, strict_types: bool) -> tuple[pd.Series, str | None]:
    present = column.notna()
    if strict_types and pd.api.types.is_bool_dtype(column):
        return column, "expected strings, got booleans"
    if strict_types and column.dtype == object:
        wrong = column[present & ~column.map(_is_category_value)]
        if len(wrong):
            return column, f"expected strings, got {_examples(wrong)}"
    return as_category_strings(column), None


def as_category_strings(column: pd.Series) -> pd.Series:
    """Represent a categorical column as ``object`` strings with ``NaN`` for missing values.

    Whole floats print without a decimal part, so a code column read as ``1.0`` next to
    missing values still matches the category ``"1"``.
    """
    present = column.notna()
    values = column.dropna()
    # Beyond 2**53 floats are not exact integers (and may not fit Int64): keep them as floats.
    if pd.api.types.is_float_dtype(column) and ((values % 1 == 0) & (values.abs() <= 2**53)).all():
        column = column.astype("Int64")
    return column.astype(str).astype(object).where(present, np.nan)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def _is_category_value(value: Any) -> bool:
    return isinstance(value, (str, int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _plain(value: Any) -> Any:
    """Turn numpy scalars into Python ones so they serialise to JSON."""
    return value.item() if isinstance(value, np.generic) else value


def _examples(values: pd.Series) -> str:
    shown = [repr(_plain(v)) for v in values.head(_EXAMPLES_SHOWN)]
    more = "" if len(values) <= _EXAMPLES_SHOWN else f" and {len(values) - _EXAMPLES_SHOWN} more"
    return ", ".join(shown) + more


def _summarise(problems: dict[str, str]) -> str:
    return "invalid data: " + "; ".join(f"{name}: {why}" for name, why in problems.items())
