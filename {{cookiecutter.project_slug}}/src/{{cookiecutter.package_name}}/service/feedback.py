"""``POST /feedback`` bodies: delayed labels of logged predictions, checked against the model.

A body is one ``{"id": ..., "label": ...}`` object or a list of them. The id is a
prediction id (``<request id>:<row>``, see :mod:`..monitoring`); the label must be one of
the model's classes (a classifier; the string form of a class is accepted too) or a finite
number (a regressor). Ids are not looked up: the prediction may have been logged by
another worker, and ``monitor`` counts labels that match no prediction.
"""

from __future__ import annotations

import math
from typing import Any

from ..schema import Schema
from .errors import ApiError
from .payloads import JSON, is_json, load_json

MAX_ID_LENGTH = 256
_FIELDS_IN_MESSAGE = 3


def parse_feedback(
    body: bytes, mimetype: str, schema: Schema, max_rows: int
) -> list[tuple[str, Any]]:
    """Return the ``(id, label)`` pairs of a feedback body, labels as the model's values.

    Raises
    ------
    ApiError
        415 for another content type, 400 for malformed JSON or another shape, 413 for
        more than ``max_rows`` labels, 422 for an empty list, a bad id or a label the model
        cannot have predicted (``details.fields`` names each).
    """
    if not is_json(mimetype):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"content type {mimetype or '(none)'!r} is not supported; send {JSON}",
            {"accepted": [JSON]},
        )
    document = load_json(body)
    items = document if isinstance(document, list) else [document]
    if not all(isinstance(item, dict) and set(item) == {"id", "label"} for item in items):
        raise ApiError(
            400,
            "invalid_body",
            'expected {"id": ..., "label": ...} or a list of such objects, with no other keys',
        )
    if not items:
        raise ApiError(422, "empty_batch", "the list has no labels; send at least one")
    if len(items) > max_rows:
        raise ApiError(
            413,
            "too_many_rows",
            f"{len(items)} labels in one request; the limit is {max_rows}",
            {"max_rows": max_rows},
        )
    classes = {str(label): label for label in schema.target.classes}
    prefix = "" if isinstance(document, dict) else "[{}]."
    pairs: list[tuple[str, Any]] = []
    problems: dict[str, str] = {}
    for position, item in enumerate(items):
        where = prefix.format(position)
        row_id, label = item["id"], item["label"]
        if not isinstance(row_id, str) or not 0 < len(row_id) <= MAX_ID_LENGTH:
            problems[f"{where}id"] = f"must be a string of 1 to {MAX_ID_LENGTH} characters"
        if classes:
            if isinstance(label, (str, int, float, bool)) and str(label) in classes:
                label = classes[str(label)]
            else:
                problems[f"{where}label"] = f"must be one of the classes {sorted(classes)}"
        elif isinstance(label, bool) or not isinstance(label, (int, float)):
            problems[f"{where}label"] = "must be a number"
        elif not math.isfinite(label):
            problems[f"{where}label"] = "must be a finite number"
        pairs.append((row_id, label))
    if problems:
        parts = [f"{field}: {reason}" for field, reason in problems.items()]
        more = "; ..." if len(parts) > _FIELDS_IN_MESSAGE else ""
        named = "; ".join(parts[:_FIELDS_IN_MESSAGE]) + more
        raise ApiError(422, "invalid_feedback", named, {"fields": problems})
    return pairs
