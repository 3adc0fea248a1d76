"""Request bodies to validated features: ``/predict`` JSON and the MLflow scoring formats.

Every JSON shape is turned into columns of plain values, checked for what pandas would
hide (infinite numbers, rows without a key), then validated strictly against the model's
schema with :meth:`~.Schema.validate_features`: JSON is typed, so a string where a number
belongs is an error, and a field that is not a feature is refused. ``null`` and the
non-standard ``NaN`` literal both mean a missing value (MLflow's client and pandas send
``NaN``); ``Infinity`` and integers beyond float range are refused.

CSV is untyped text and is validated exactly like a file given to batch prediction
(:func:`~.scoring.score_rows`): values are parsed leniently and columns that are not
features (ids, the target) are ignored, so any file ``predict`` accepts is accepted here.
Anything wrong raises :class:`~.errors.ApiError` naming the offending fields.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..data import parse_csv
from ..errors import DataError
from ..schema import CATEGORICAL, NUMERIC, Schema
from .batching import Columns, Features
from .errors import ApiError

JSON = "application/json"
CSV = "text/csv"
INVOCATION_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
NON_FINITE = "infinite number is not allowed; send null (or NaN) for a missing value"
_PROBLEMS_IN_MESSAGE = 5


@dataclass(frozen=True)
class _Batch:
    """Columns of JSON values, all ``rows`` long, and problems found while building them."""

    columns: dict[str, list[Any]]
    rows: int
    problems: dict[str, str] = field(default_factory=dict)


def parse_predict(body: bytes, mimetype: str, schema: Schema, max_rows: int) -> Features:
    """Validated features from a ``POST /predict`` body.

    Parameters
    ----------
    body : bytes
        The raw request body.
    mimetype : str
        The request's content type without parameters; must be JSON.
    schema : Schema
        The served model's data contract.
    max_rows : int
        Most rows accepted in one request.

    Returns
    -------
    pandas.DataFrame or Columns
        The feature columns in training order, one row per instance: plainly valid rows
        as :class:`~.batching.Columns` (see :func:`~.batching.as_frame`).

    Raises
    ------
    ApiError
        415 for another content type, 400 for malformed JSON or an unknown shape,
        413 for too many rows, 422 for an empty batch or rows that break the schema.
    """
    if not is_json(mimetype):
        raise _unsupported(mimetype, [JSON])
    document = load_json(body)
    if not isinstance(document, dict):
        raise ApiError(
            400,
            "invalid_body",
            'expected a JSON object: {"instances": [...]} or a single instance',
        )
    if "instances" not in document:
        return _validate(_records([document], "instances", max_rows), schema)
    if len(document) > 1:
        raise ApiError(
            400,
            "invalid_body",
            "a body with 'instances' must have no other keys",
            {"keys": sorted(set(document) - {"instances"})},
        )
    return _validate(_records(document["instances"], "instances", max_rows), schema)


def parse_invocation(body: bytes, mimetype: str, schema: Schema, max_rows: int) -> Features:
    """Validated features from a ``POST /invocations`` body (the MLflow scoring protocol).

    A JSON body holds exactly one of ``dataframe_split``, ``dataframe_records``,
    ``instances`` or ``inputs``; a ``text/csv`` body is a CSV file with a header row.
    Parameters, return value and errors are those of :func:`parse_predict`.
    """
    if mimetype == CSV:
        frame = read_csv(body, max_rows, text_columns=schema.text_columns())
        return _validate_frame(frame, schema, strict=False, allow_extra=True)
    if not is_json(mimetype):
        raise _unsupported(mimetype, [JSON, CSV])
    document = load_json(body)
    key = _invocation_format(document)
    value = document[key]
    if key == "dataframe_split":
        batch = _split(value, max_rows)
    elif key == "inputs" and isinstance(value, dict):
        batch = _columnar(value, max_rows)
    else:
        batch = _records(value, key, max_rows)
    return _validate(batch, schema)


def is_json(mimetype: str) -> bool:
    """Whether a content type is JSON (``application/json`` or ``application/*+json``)."""
    return mimetype == JSON or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def load_json(body: bytes) -> Any:
    """Parse a JSON body, keeping ``NaN``, ``Infinity`` and out-of-range numbers detectable.

    Python's parser accepts the non-standard ``NaN`` and ``Infinity`` literals; they are
    parsed as floats (and integers too large for a float as infinity). Validation then
    treats ``NaN`` as a missing value, like ``null``, and refuses infinities by name
    instead of letting pandas carry them to the model.

    Raises
    ------
    ApiError
        400 when the body is not JSON (or is nested too deeply to parse).
    """
    try:
        return json.loads(body, parse_constant=float, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            "invalid_json",
            f"body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            {"line": exc.lineno, "column": exc.colno},
        ) from None
    except (ValueError, RecursionError) as exc:  # bad encoding, huge integer, deep nesting
        raise ApiError(
            400, "invalid_json", f"body is not valid JSON: {_first_line(exc)}"
        ) from None


def read_csv(body: bytes, max_rows: int, text_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Parse a CSV body with a header row, reading at most one row more than allowed.

    ``text_columns`` (the schema's non-numeric features) stay text, as in batch prediction.

    Raises
    ------
    ApiError
        400 when the body is not CSV, 413 or 422 when it has too many or no rows.
    """
    try:
        frame = parse_csv(body, max_rows=max_rows + 1, text_columns=text_columns)
    except DataError as exc:
        raise ApiError(400, "invalid_csv", f"{exc} (send CSV with a header row)") from None
    _check_rows(len(frame), max_rows)
    return frame


def _parse_int(text: str) -> int | float:
    return _in_float_range(int(text))


def _in_float_range(value: int) -> int | float:
    """The integer, or a signed infinity when no float can hold it (the model sees floats)."""
    try:
        float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
    return value


def _invocation_format(document: Any) -> str:
    keys = sorted(document) if isinstance(document, dict) else []
    present = [key for key in INVOCATION_FORMATS if key in keys]
    if len(present) != 1 or len(keys) != 1:
        raise ApiError(
            400,
            "invalid_body",
            f"expected a JSON object with exactly one of: {', '.join(INVOCATION_FORMATS)}",
            {"expected_one_of": list(INVOCATION_FORMATS), "keys": keys},
        )
    return present[0]


def _records(value: Any, key: str, max_rows: int) -> _Batch:
    """Columns from a list of row objects; a key absent from some rows is a problem."""
    if not isinstance(value, list):
        raise ApiError(400, "invalid_body", f"'{key}' must be a list of objects, one per row")
    _check_rows(len(value), max_rows)
    names: dict[str, None] = {}
    for position, record in enumerate(value):
        if not isinstance(record, dict):
            raise ApiError(
                400,
                "invalid_body",
                f"'{key}[{position}]' must be an object mapping feature names to values",
                {"row": position},
            )
        names.update(dict.fromkeys(record))
    problems = {}
    for name in names:
        absent = [position for position, record in enumerate(value) if name not in record]
        if absent:
            problems[name] = (
                f"missing from {len(absent)} of {len(value)} rows (first: row {absent[0]}); "
                "send null for a missing value"
            )
    columns = {name: [record.get(name) for record in value] for name in names}
    return _Batch(columns, len(value), problems)


def _split(value: Any, max_rows: int) -> _Batch:
    """Columns from pandas' ``split`` orientation: ``columns``, ``data`` and optional ``index``."""
    if not isinstance(value, dict) or not {"columns", "data"} <= set(value) <= {
        "columns",
        "data",
        "index",
    }:
        raise ApiError(
            400,
            "invalid_body",
            "'dataframe_split' must be an object with 'columns', 'data' and optionally 'index'",
        )
    columns, data = value["columns"], value["data"]
    if not isinstance(columns, list) or not all(isinstance(name, str) for name in columns):
        raise ApiError(
            400, "invalid_body", "'dataframe_split.columns' must be a list of column names"
        )
    duplicates = sorted(name for name, count in Counter(columns).items() if count > 1)
    if duplicates:
        raise ApiError(
            400,
            "invalid_body",
            f"'dataframe_split.columns' repeats {', '.join(duplicates)}",
            {"columns": duplicates},
        )
    if not isinstance(data, list):
        raise ApiError(400, "invalid_body", "'dataframe_split.data' must be a list of rows")
    _check_rows(len(data), max_rows)
    for position, row in enumerate(data):
        if not isinstance(row, list) or len(row) != len(columns):
            raise ApiError(
                400,
                "invalid_body",
                f"'dataframe_split.data[{position}]' must be a list of {len(columns)} values, "
                "one per column",
                {"row": position},
            )
    index = value.get("index")
    if index is not None and (not isinstance(index, list) or len(index) != len(data)):
        raise ApiError(
            400, "invalid_body", "'dataframe_split.index' must be a list with one label per row"
        )
    return _Batch({name: [row[i] for row in data] for i, name in enumerate(columns)}, len(data))


def _columnar(value: dict[str, Any], max_rows: int) -> _Batch:
    """Columns from ``inputs`` as an object of columns; every column must be as long."""
    for name, values in value.items():
        if not isinstance(values, list):
            raise ApiError(
                400, "invalid_body", f"'inputs.{name}' must be a list of values, one per row"
            )
    lengths = {name: len(values) for name, values in value.items()}
    if len(set(lengths.values())) > 1:
        raise ApiError(
            400,
            "invalid_body",
            "every column in 'inputs' must have the same number of values",
            {"lengths": lengths},
        )
    rows = next(iter(lengths.values()), 0)
    _check_rows(rows, max_rows)
    return _Batch(dict(value), rows)


def _check_rows(rows: int, max_rows: int) -> None:
    if rows == 0:
        raise ApiError(422, "empty_batch", "the batch has no rows; send at least one")
    if rows > max_rows:
        raise ApiError(
            413,
            "batch_too_large",
            f"the batch has more than {max_rows} rows, the limit per request; split it",
            {"max_rows": max_rows},
        )


def _validate(batch: _Batch, schema: Schema) -> Features:
    """Read ``NaN`` as missing, reject infinities, build the frame and validate it strictly."""
    typed = _typed_features(batch, schema)
    if typed is not None:
        return typed
    problems = dict(batch.problems)
    columns = {}
    for name, values in batch.columns.items():
        if any(isinstance(v, float) and not math.isfinite(v) for v in values):
            if any(isinstance(v, float) and math.isinf(v) for v in values):
                problems[name] = NON_FINITE
            values = [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]
        columns[name] = values
    frame = pd.DataFrame(columns, index=pd.RangeIndex(batch.rows))
    return _validate_frame(frame, schema, strict=True, allow_extra=False, problems=problems)


def _typed_features(batch: _Batch, schema: Schema) -> Columns | None:
    """The features of a batch in the common, plainly valid shape; None for any other batch.

    That shape: exactly the features, each row with every one of them, numeric features
    holding JSON numbers (finite) or null, categorical ones strings or null, and no other
    kind of feature. Such a batch needs none of :meth:`~.Schema.validate_features`'
    conversions, whose pandas calls cost more than a 1-row model call: its columns are
    returned as plain arrays, which become the same frame (tested equal) once per model
    call (:func:`~.batching.combine`). Every other batch takes the full validation, which
    also names what is wrong.
    """
    if batch.problems or len(batch.columns) != len(schema.features):
        return None
    columns: dict[str, np.ndarray] = {}
    for spec in schema.features:
        values = batch.columns.get(spec.name)
        if values is None:
            return None
        if spec.kind == NUMERIC:
            if not all(type(v) is float or type(v) is int or v is None for v in values):
                return None  # booleans, strings, ...: refused or converted by the full path
            numbers = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            if np.isinf(numbers).any():
                return None
            columns[spec.name] = numbers
        elif spec.kind == CATEGORICAL:
            if not all(type(v) is str or v is None for v in values):
                return None  # integers are categories too, converted by the full path
            cells = np.empty(batch.rows, dtype=object)
            cells[:] = [np.nan if v is None else v for v in values]
            columns[spec.name] = cells
        else:
            return None
    return Columns(columns, batch.rows)


def _validate_frame(
    frame: pd.DataFrame,
    schema: Schema,
    *,
    strict: bool,
    allow_extra: bool,
    problems: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Validate; report the schema's problems and ``problems`` together (422)."""
    found = dict(problems or {})
    try:
        features = schema.validate_features(frame, allow_extra=allow_extra, strict_types=strict)
    except DataError as exc:
        found = {**exc.problems, **found}
    if found:
        shown = "; ".join(
            f"{name}: {why}" for name, why in list(found.items())[:_PROBLEMS_IN_MESSAGE]
        )
        more = len(found) - _PROBLEMS_IN_MESSAGE
        raise ApiError(
            422,
            "invalid_features",
            f"rows do not match the model's schema: {shown}"
            + (f" and {more} more" if more > 0 else ""),
            {"fields": found},
        )
    return features


def _unsupported(mimetype: str, accepted: list[str]) -> ApiError:
    return ApiError(
        415,
        "unsupported_media_type",
        f"content type {mimetype or '(none)'!r} is not supported; send {' or '.join(accepted)}",
        {"accepted": accepted},
    )


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
