"""The data contract: inferred from the training data, stored with the model, enforced everywhere.

One :class:`Schema` validates training data, batch-prediction input and HTTP requests, so
the model always sees features in the representation it was trained on: numeric columns
as ``float64``, booleans as ``1.0``/``0.0``, dates as their numeric parts (year, month,
day, weekday) and categorical columns as ``object`` strings, missing values as ``NaN``.
Column kinds are decided once, at training, by :func:`~.columns.guess_kind`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .columns import (
    BOOLEAN,
    CATEGORICAL,
    DATETIME,
    NUMERIC,
    TEXT,
    Guess,
    date_part_names,
    date_parts,
    guess_kind,
    has_codes,
    is_constant,
    is_id_like,
    to_boolean,
    to_datetime,
)
from .errors import DataError

logger = logging.getLogger(__name__)
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
    kind : {"numeric", "categorical", "boolean", "datetime"}
        What the column holds (see :mod:`.columns`).
    dtype : str
        The pandas dtype the training file produced, for documentation.
    nullable : bool
        Whether training data had missing values in this column.
    minimum, maximum : float or None
        Range of a numeric feature in training data (of a date: POSIX seconds).
    categories : tuple of str
        Values of a categorical feature seen in training data.
    date_format : str or None
        The ``strftime`` format of a date feature.
    invalid_as_missing : bool
        Read cells that are not numbers (or dates) as missing instead of refusing them
        (``data.coerce_to_missing``).
    """

    name: str
    kind: str
    dtype: str
    nullable: bool
    minimum: float | None = None
    maximum: float | None = None
    categories: tuple[str, ...] = ()
    date_format: str | None = None
    invalid_as_missing: bool = False

    @cached_property
    def known_categories(self) -> frozenset[str]:
        """``categories`` as a set, built once: skew counting looks every served value up."""
        return frozenset(self.categories)

    @property
    def inputs(self) -> list[str]:
        """The model input columns this feature becomes (a date: its parts)."""
        if self.kind == DATETIME:
            return date_part_names(self.name, self.date_format)
        return [self.name]


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
        """Model input columns encoded as ``kind`` (numeric or categorical).

        Booleans (as 0/1) and the parts of dates are numeric inputs: the model only ever
        sees these two encodings.
        """
        encoded = {
            spec.name: CATEGORICAL if spec.kind == CATEGORICAL else NUMERIC
            for spec in self.features
        }
        return [
            column
            for spec in self.features
            if encoded[spec.name] == kind
            for column in spec.inputs
        ]

    def text_columns(self, *, target: bool = False) -> list[str]:
        """Columns a reader keeps as text: every non-numeric feature (and class labels).

        Keeping them as strings keeps codes such as ``007`` intact in every file, chunk and
        request body, however the values of one chunk look (see :func:`~.data.read_table`).
        """
        columns = [spec.name for spec in self.features if spec.kind != NUMERIC]
        if target and self.task == CLASSIFICATION:
            columns.append(self.target.name)
        return columns

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
            elif spec.kind == BOOLEAN:
                row[spec.name] = True
            elif spec.kind == DATETIME:
                moment = pd.Timestamp(spec.minimum or 0, unit="s")
                row[spec.name] = moment.strftime(spec.date_format or "%Y-%m-%d")
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
            Exactly the model's input columns, in training order (a date feature as its
            parts, see :attr:`FeatureSpec.inputs`).

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
        columns: dict[str, pd.Series] = {}
        for spec in self.features:
            if spec.name in missing:
                continue
            converted, problem = _convert(spec, frame[spec.name], strict_types)
            if problem:
                problems[spec.name] = problem
            columns.update(converted)
        if problems:
            raise DataError(_summarise(problems), problems)
        return pd.DataFrame(columns, index=frame.index)

    def split_training(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
        """Validate training rows and return features and target.

        Rows whose target is missing are dropped, with a warning counting them: they carry
        no label to learn from. Labels are read like the training labels: text when any
        class is text (so ``'001'`` stays ``'001'``).
        """
        if self.target.name not in frame.columns:
            raise DataError(f"target column {self.target.name!r} is missing")
        labelled = frame[frame[self.target.name].notna()]
        dropped = len(frame) - len(labelled)
        if dropped:
            logger.warning(
                "dropped %d of %d rows whose target %r is missing",
                dropped,
                len(frame),
                self.target.name,
                extra={"dropped_rows": dropped},
            )
        features = self.validate_features(labelled)
        labels = labelled[self.target.name]
        if any(isinstance(label, str) for label in self.target.classes):
            return features, as_category_strings(labels)
        return features, coerce_target(labels, self.task)

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
            values = features[spec.inputs[0]].to_numpy()
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
                known = spec.known_categories
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
    coerce_to_missing: Iterable[str] = (),
    drop_text_columns: bool = False,
) -> Schema:
    """Infer the data contract from training data, checking that it can be trained on.

    Without feature lists, each column's kind is guessed from its values
    (:func:`~.columns.guess_kind`); constant and id-like columns are left out with a
    warning naming them, and free text is refused by name.

    Parameters
    ----------
    frame : pandas.DataFrame
        Training data including the target column.
    target : str
        Name of the target column.
    task : {"classification", "regression"}
        How to read the target: labels, or numbers.
    numeric_features, categorical_features : sequence of str, optional
        Explicit feature lists, used as given (a categorical column of true/false values
        is read as boolean); columns are inferred only when both lists are omitted.
    ignore_columns : iterable of str
        Columns that are never features (identifiers, timestamps).
    forbidden_features : iterable of str
        Columns that must not reach the model (leaky or sensitive); their presence among
        the features is an error, never silently dropped.
    min_rows : int
        Fewest labelled rows accepted.
    coerce_to_missing : iterable of str
        Numeric or date columns whose invalid cells (``#REF!``, ``n/a?``) are read as
        missing, with a warning, instead of being an error naming the column and cells.
    drop_text_columns : bool
        Leave free-text columns out with a warning instead of refusing them.

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
    listed = numeric_features is not None or categorical_features is not None
    candidates = (
        [*(numeric_features or ()), *(categorical_features or ())]
        if listed
        else [name for name in labelled.columns if name not in ignored]
    )
    forbidden = sorted(set(forbidden_features) & set(candidates))
    if forbidden:
        raise DataError(
            f"forbidden feature(s) present: {', '.join(forbidden)}; "
            "remove them from the data or list the features explicitly",
            {name: "forbidden feature" for name in forbidden},
        )
    kinds = _resolve_feature_kinds(
        labelled, ignored, numeric_features, categorical_features, drop_text_columns
    )
    if not kinds:
        raise DataError("no feature columns left after removing the target and ignored columns")
    coerce = set(coerce_to_missing)
    specs = []
    problems: dict[str, str] = {}
    for name, guess in kinds.items():
        spec, problem = _feature_spec(name, labelled[name], guess, name in coerce)
        if problem:
            problems[name] = problem
        elif spec is not None:
            specs.append(spec)
    unknown = sorted(coerce - {spec.name for spec in specs if spec.kind in (NUMERIC, DATETIME)})
    if unknown and not problems:
        raise DataError(
            f"data.coerce_to_missing names column(s) that are not numeric or date features: "
            f"{', '.join(unknown)}"
        )
    if problems:
        raise DataError(_summarise(problems), problems)
    return Schema(
        features=tuple(specs), target=_target_spec(target, labelled[target], task), task=task
    )


def _feature_spec(
    name: str, column: pd.Series, guess: Guess, coerce: bool
) -> tuple[FeatureSpec | None, str | None]:
    """The spec of one training column of a known kind, or the problem with its values."""
    dtype = str(column.dtype)
    hint = f"; fix the cells, or list {name!r} in data.coerce_to_missing to read them as missing"
    if guess.kind == NUMERIC:
        if coerce:
            column = _blank_invalid_numbers(column, warn=True)
        values, problem = _coerce_numeric(column, strict_types=False)
        if problem:
            return None, problem + (
                hint if problem.startswith("expected numbers, got non") else ""
            )
        finite = values.dropna()
        return (
            FeatureSpec(
                name=name,
                kind=NUMERIC,
                dtype=dtype,
                nullable=bool(values.isna().any()),
                minimum=float(finite.min()) if len(finite) else None,
                maximum=float(finite.max()) if len(finite) else None,
                invalid_as_missing=coerce,
            ),
            None,
        )
    if guess.kind == BOOLEAN:
        values, invalid = to_boolean(column, strict=False)
        if len(invalid):
            return None, f"expected true or false, got {_examples(invalid)}"
        return FeatureSpec(name, BOOLEAN, dtype, nullable=bool(values.isna().any())), None
    if guess.kind == DATETIME:
        dates, invalid = to_datetime(column, guess.date_format)
        if len(invalid) and not coerce:
            return None, f"expected dates ({guess.date_format}), got {_examples(invalid)}" + hint
        if len(invalid):
            _warn_blanked(name, invalid)
        present = dates.dropna()
        return (
            FeatureSpec(
                name=name,
                kind=DATETIME,
                dtype=dtype,
                nullable=bool(dates.isna().any()),
                minimum=float(present.min().timestamp()) if len(present) else None,
                maximum=float(present.max().timestamp()) if len(present) else None,
                date_format=guess.date_format,
                invalid_as_missing=coerce,
            ),
            None,
        )
    values, _ = _coerce_categorical(column, strict_types=False)
    return (
        FeatureSpec(
            name=name,
            kind=CATEGORICAL,
            dtype=dtype,
            nullable=bool(values.isna().any()),
            categories=tuple(sorted(values.dropna().unique())),
        ),
        None,
    )


def _convert(
    spec: FeatureSpec, column: pd.Series, strict_types: bool
) -> tuple[dict[str, pd.Series], str | None]:
    """One input column in the trained representation: model input columns, or a problem."""
    if spec.kind == NUMERIC:
        if spec.invalid_as_missing and not strict_types:
            column = _blank_invalid_numbers(column, warn=False)
        values, problem = _coerce_numeric(column, strict_types)
        return {spec.name: values}, problem
    if spec.kind == BOOLEAN:
        values, invalid = to_boolean(column, strict_types)
        return {spec.name: values}, (
            f"expected true or false, got {_examples(invalid)}" if len(invalid) else None
        )
    if spec.kind == DATETIME:
        dates, invalid = to_datetime(column, spec.date_format)
        problem = None
        if strict_types and column.map(lambda v: not isinstance(v, str), na_action="ignore").any():
            problem = f"expected date strings ({spec.date_format}), got {_examples(invalid)}"
        elif len(invalid) and not spec.invalid_as_missing:
            problem = f"expected dates ({spec.date_format}), got {_examples(invalid)}"
        return date_parts(spec.name, dates, spec.date_format), problem
    values, problem = _coerce_categorical(column, strict_types)
    return {spec.name: values}, problem


def _blank_invalid_numbers(column: pd.Series, *, warn: bool) -> pd.Series:
    """Cells of a numeric column that are not numbers, as missing values."""
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return column
    try:
        numbers = pd.to_numeric(column, errors="coerce")
    except OverflowError:  # a huge integer: left for _coerce_numeric to refuse
        return column
    invalid = column[numbers.isna() & column.notna()]
    if warn and len(invalid):
        _warn_blanked(str(column.name), invalid)
    return column.where(numbers.notna(), np.nan)


def _warn_blanked(name: str, invalid: pd.Series) -> None:
    logger.warning(
        "column %r: read %d invalid cell(s) as missing (data.coerce_to_missing): %s",
        name,
        len(invalid),
        _examples(invalid),
        extra={"column": name, "invalid_cells": len(invalid)},
    )


def _resolve_feature_kinds(
    frame: pd.DataFrame,
    ignored: set[str],
    numeric: Sequence[str] | None,
    categorical: Sequence[str] | None,
    drop_text_columns: bool,
) -> dict[str, Guess]:
    if numeric is None and categorical is None:
        columns = [name for name in frame.columns if name not in ignored]
        return _infer_kinds(frame, columns, drop_text_columns)
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
    kinds = {}
    for name in frame.columns:
        if name in numeric_list:
            kinds[name] = Guess(NUMERIC)
        elif name in categorical_list:
            boolean = guess_kind(frame[name]).kind == BOOLEAN
            kinds[name] = Guess(BOOLEAN if boolean else CATEGORICAL)
    return kinds


def _infer_kinds(frame: pd.DataFrame, columns: list[Any], drop_text: bool) -> dict[str, Guess]:
    """Guess each column's kind; leave out constant and id-like columns, refuse free text."""
    kinds: dict[str, Guess] = {}
    left_out: dict[str, list[str]] = {"constant": [], "id-like": [], "text": []}
    for name in columns:
        column = frame[name]
        guess = guess_kind(column)
        if is_constant(column):
            left_out["constant"].append(str(name))
        elif guess.kind == TEXT:
            left_out["text"].append(str(name))
        elif is_id_like(column, guess.kind):
            left_out["id-like"].append(str(name))
        else:
            kinds[name] = guess
    for reason, why in (
        ("constant", "one value on every row"),
        ("id-like", "a different value on every row"),
    ):
        if left_out[reason]:
            logger.warning(
                "left out %s column(s) %s (%s); list them in data.numeric_features or "
                "data.categorical_features to use them, or in data.ignore_columns",
                reason,
                ", ".join(left_out[reason]),
                why,
                extra={"columns": left_out[reason]},
            )
    text = left_out["text"]
    if text and not drop_text:
        raise DataError(
            f"column(s) {', '.join(text)} hold free text (mostly distinct, several words "
            "each), not categories; add them to data.ignore_columns, set "
            "data.drop_text_columns = true, or list them in data.categorical_features "
            "to encode them anyway",
            {name: "free text" for name in text},
        )
    if text:
        logger.warning("left out free-text column(s) %s (data.drop_text_columns)", ", ".join(text))
    return kinds


def infer_column_kinds(frame: pd.DataFrame, columns: Iterable[Any]) -> tuple[list[Any], list[Any]]:
    """Split ``columns`` by dtype: numbers are numeric, everything else (booleans too) categorical.

    The estimator's split of an already typed frame (used when it is given no feature
    lists); the data contract decides the kinds of raw tables with
    :func:`~.columns.guess_kind`, and passes them to the estimator as lists.
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
        if _looks_continuous(values, counts):
            raise DataError(
                f"target column {name!r} holds continuous numbers ({len(counts)} distinct "
                f"values, e.g. {_examples(values.drop_duplicates())}), not class labels; "
                'train a regression model instead: --task regression (model.task = "regression")'
            )
        return TargetSpec(
            name=name,
            classes=tuple(_plain(label) for label in counts.index),
            class_counts=tuple(int(count) for count in counts),
        )
    return TargetSpec(name=name, mean=float(values.mean()))


_MAX_NUMERIC_CLASSES = 20


def _looks_continuous(values: pd.Series, counts: pd.Series) -> bool:
    """Whether numeric "class labels" are really measurements.

    More than :data:`_MAX_NUMERIC_CLASSES` distinct numbers are continuous when some are
    not whole numbers, or when most of them occur only once (prices, durations). Text
    labels, and a few numeric codes, are always classes.
    """
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    if len(counts) <= _MAX_NUMERIC_CLASSES:
        return False
    fractional = bool((values % 1 != 0).any())
    return fractional or int((counts == 1).sum()) > len(counts) / 2


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
    text = labels.dropna()
    if labels.dtype == object and text.map(lambda label: isinstance(label, str)).all():
        # Labels read as text: numbers become numbers unless written like codes ('001').
        if pd.to_numeric(text, errors="coerce").notna().all() and not has_codes(text):
            labels = pd.to_numeric(labels)
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
        try:
            values = pd.to_numeric(column, errors="coerce").astype("float64")
        except OverflowError:  # an integer beyond float range: infinite, refused below
            values = pd.to_numeric(column.map(_float_or_value), errors="coerce").astype("float64")
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
    if isinstance(column.dtype, pd.StringDtype):  # text already: only the container changes
        return column.astype(object).where(present, np.nan)
    if column.dtype == object:
        mask = present.to_numpy()
        cells = column.to_numpy()
        if all(type(cell) is str for cell, keep in zip(cells, mask) if keep):
            # Already text (JSON strings, CSV cells, a validated column): no conversion.
            return column if mask.all() else column.where(present, np.nan)
    values = column.dropna()
    # Beyond 2**53 floats are not exact integers (and may not fit Int64): keep them as floats.
    if pd.api.types.is_float_dtype(column) and ((values % 1 == 0) & (values.abs() <= 2**53)).all():
        column = column.astype("Int64")
    return column.astype(str).astype(object).where(present, np.nan)


def _float_or_value(value: Any) -> Any:
    """A Python integer as a float (signed infinity beyond float range); anything else as is."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return value


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
