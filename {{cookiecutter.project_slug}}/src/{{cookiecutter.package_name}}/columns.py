"""Column kinds: what a raw column holds, and how its values become model inputs.

Tables arrive as text (CSV files and bodies are read cell by cell as strings, see
:mod:`.data`), so the kind of a column is decided here, once, from its values, and stored
in the data contract; later inputs are converted by that contract instead of being guessed
again. The kinds:

``numeric``
    Every value is a number, none written like a code: ``12``, ``-0.5``, ``1e3``.
``categorical``
    Labels, including codes whose leading zeros matter (``007``, ``010``, ``A12``).
``boolean``
    Only ``true``/``false`` or ``yes``/``no``, in any letter case (JSON ``true`` too).
``datetime``
    Dates (and times) in one of :data:`DATE_FORMATS`; the model sees their parts.

Free text (long, mostly distinct, multi-word values) is recognised so that training can
refuse it by name instead of turning it into a thousand-level categorical.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

NUMERIC = "numeric"
CATEGORICAL = "categorical"
BOOLEAN = "boolean"
DATETIME = "datetime"
TEXT = "text"
KINDS = (NUMERIC, CATEGORICAL, BOOLEAN, DATETIME)
"""Kinds a feature of the data contract can have (free text never becomes a feature)."""

TRUE_TOKENS = frozenset({"true", "yes"})
FALSE_TOKENS = frozenset({"false", "no"})
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
)
"""Date formats recognised, tried in this order (day-first before month-first)."""
DATE_PARTS = ("year", "month", "day", "weekday")
TIME_PARTS = ("hour",)
MOSTLY = 0.9
"""Share of values of one kind above which the rest are reported as invalid cells."""
_CODE = re.compile(r"^[+-]?0\d")
_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")
_TEXT_MIN_WORDS = 3
_TEXT_MIN_DISTINCT = 0.5
_DATE_SAMPLE = 1000


@dataclass(frozen=True)
class Guess:
    """What a column's values look like.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`, or ``"text"``.
    date_format : str or None
        The format all dates parse with, for ``datetime``.
    invalid : tuple
        Cells that do not fit ``kind`` (a few junk cells in a mostly-numeric column).
    """

    kind: str
    date_format: str | None = None
    invalid: tuple[Any, ...] = ()


def guess_kind(column: pd.Series) -> Guess:
    """Decide the kind of one column from its dtype or, for text, from its values.

    A mostly-numeric (or mostly-date) column with a few other cells keeps its kind and
    lists those cells in :attr:`Guess.invalid`, for the caller to refuse or blank.
    """
    if pd.api.types.is_bool_dtype(column):
        return Guess(BOOLEAN)
    if pd.api.types.is_numeric_dtype(column):
        return Guess(NUMERIC)
    if pd.api.types.is_datetime64_any_dtype(column):
        return Guess(DATETIME, date_format=DATE_FORMATS[1])
    present = column.dropna()
    if present.map(lambda value: isinstance(value, (bool, np.bool_))).all() and len(present):
        return Guess(BOOLEAN)
    text = present.astype(str).str.strip()
    if not len(text):
        return Guess(CATEGORICAL)
    if text.str.lower().isin(TRUE_TOKENS | FALSE_TOKENS).all():
        return Guess(BOOLEAN)
    numbers = pd.to_numeric(text, errors="coerce")
    parsed = numbers.notna()
    if has_codes(text[parsed]):
        return Guess(CATEGORICAL)  # codes such as '007': the leading zeros are information
    if parsed.all():
        return Guess(NUMERIC)
    if parsed.mean() >= MOSTLY:
        return Guess(NUMERIC, invalid=tuple(present[~parsed]))
    date_format, dates = _date_format(text)
    if date_format is not None:
        return Guess(DATETIME, date_format=date_format, invalid=tuple(present[dates.isna()]))
    if _is_free_text(text):
        return Guess(TEXT)
    return Guess(CATEGORICAL)


def parse_numbers(frame: pd.DataFrame, keep_text: Collection[Any] = ()) -> pd.DataFrame:
    """Turn text columns that hold only numbers into numbers, in place; return ``frame``.

    Like the CSV parser's own inference, except that numbers written like codes (``007``)
    keep the column as text, and the columns in ``keep_text`` always stay text.
    """
    for name in frame.columns:
        column = frame[name]
        is_text = column.dtype == object or isinstance(column.dtype, pd.StringDtype)
        if name in keep_text or not is_text:
            continue
        try:
            numbers = pd.to_numeric(column, errors="coerce")
        except (ValueError, OverflowError):  # an integer beyond float range: keep the text
            continue
        if (numbers.notna() == column.notna()).all() and not has_codes(column.dropna()):
            frame[name] = numbers
    return frame


def has_codes(text: pd.Series) -> bool:
    """Whether any number in ``text`` is written like a code, with a leading zero (``007``)."""
    return bool(text.str.strip().str.match(_CODE).any())


def is_constant(column: pd.Series) -> bool:
    """Whether a column holds at most one distinct value (missing values aside)."""
    return bool(column.nunique(dropna=True) <= 1)


def is_id_like(column: pd.Series, kind: str) -> bool:
    """Whether a column identifies rows: a different label on every row, none missing.

    Only labels count (categorical columns): distinct numbers are normal for a measurement,
    so numeric identifiers must be listed in ``ignore_columns``.
    """
    return kind == CATEGORICAL and len(column) > 1 and column.notna().all() and column.is_unique


def to_boolean(column: pd.Series, strict: bool) -> tuple[pd.Series, pd.Series]:
    """Booleans as ``1.0``/``0.0`` floats with ``NaN`` for missing values.

    ``True``/``False`` and the strings of :data:`TRUE_TOKENS` and :data:`FALSE_TOKENS` in any
    case are accepted; unless ``strict`` (typed JSON input), so are the numbers 1 and 0.

    Returns
    -------
    values, invalid : pandas.Series
        The floats, and the cells that are not booleans.
    """

    def convert(value: Any) -> float:
        if isinstance(value, (bool, np.bool_)):
            return float(value)
        if isinstance(value, str):
            token = value.strip().lower()
            if token in TRUE_TOKENS:
                return 1.0
            if token in FALSE_TOKENS:
                return 0.0
        elif not strict and isinstance(value, (int, float, np.number)) and value in (0, 1):
            return float(value)
        return np.nan

    present = column.notna()
    values = column.map(convert, na_action="ignore").astype("float64")
    return values, column[present & values.isna()]


def to_datetime(column: pd.Series, date_format: str | None) -> tuple[pd.Series, pd.Series]:
    """Parse dates with the contract's format.

    Returns
    -------
    values, invalid : pandas.Series
        ``datetime64`` values (``NaT`` for missing), and the cells that are not such dates.
    """
    if pd.api.types.is_datetime64_any_dtype(column):
        return column, column.iloc[0:0]
    present = column.notna()
    text = column.where(present).astype(object).where(present, None)
    text = text.map(lambda value: value.strip() if isinstance(value, str) else value)
    values = pd.to_datetime(text, format=date_format, errors="coerce")
    return values, column[present & values.isna()]


def date_part_names(name: str, date_format: str | None) -> list[str]:
    """Model input columns that a date column becomes: ``<name>__year`` and so on."""
    parts = DATE_PARTS + (TIME_PARTS if date_format and "%H" in date_format else ())
    return [f"{name}__{part}" for part in parts]


def date_parts(name: str, values: pd.Series, date_format: str | None) -> dict[str, pd.Series]:
    """Numeric parts of parsed dates (weekday 0 is Monday), ``NaN`` where a date is missing."""
    accessor = values.dt
    parts = {
        "year": accessor.year,
        "month": accessor.month,
        "day": accessor.day,
        "weekday": accessor.day_of_week,
        "hour": accessor.hour,
    }
    return {
        column: parts[column.rpartition("__")[2]].astype("float64")
        for column in date_part_names(name, date_format)
    }


def _date_format(text: pd.Series) -> tuple[str | None, pd.Series]:
    """The first format that parses most values, and the values it parses."""
    sample = text.drop_duplicates().head(_DATE_SAMPLE)
    if sample.str.match(_DATE_LIKE).mean() < MOSTLY:
        return None, text
    for date_format in DATE_FORMATS:
        if pd.to_datetime(sample, format=date_format, errors="coerce").notna().mean() < MOSTLY:
            continue
        dates = pd.to_datetime(text, format=date_format, errors="coerce")
        if dates.notna().mean() >= MOSTLY:
            return date_format, dates
    return None, text


def _is_free_text(text: pd.Series) -> bool:
    """Mostly distinct values of several words: sentences, not labels."""
    distinct = text.nunique() / len(text)
    words = text.str.split().str.len().median()
    return bool(distinct >= _TEXT_MIN_DISTINCT and words >= _TEXT_MIN_WORDS)
