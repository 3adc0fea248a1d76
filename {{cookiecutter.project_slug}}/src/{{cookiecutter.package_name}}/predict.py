{%- set classification = cookiecutter.ml_task == "classification" -%}
"""Scoring: a DataFrame in memory, or a CSV file of any size streamed in chunks."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from {{ cookiecutter.package_name }}.artifact import Artifact
from {{ cookiecutter.package_name }}.errors import DataError

logger = logging.getLogger(__name__)

PREDICTION_COLUMN = "prediction"
DEFAULT_CHUNKSIZE = 100_000


def predict_frame(artifact: Artifact, frame: pd.DataFrame) -> pd.DataFrame:
    """Validate rows against the artifact's schema and predict them.

    Returns
    -------
    pandas.DataFrame
        ``prediction``{% if classification %} and one ``probability_<class>`` column per class{% endif %},
        aligned with ``frame``'s index.

    Raises
    ------
    DataError
        When the rows break the data contract.
    """
    features = artifact.schema.validate_features(frame)
{%- if classification %}
    predictions, probabilities = artifact.model.predict_with_proba(features)
    columns = {PREDICTION_COLUMN: predictions}
    for position, label in enumerate(artifact.model.classes_):
        columns[f"probability_{label}"] = probabilities[:, position]
    return pd.DataFrame(columns, index=frame.index)
{%- else %}
    return pd.DataFrame({PREDICTION_COLUMN: artifact.model.predict(features)}, index=frame.index)
{%- endif %}


def predict_csv(
    artifact: Artifact,
    input_path: str | Path,
    output_path: str | Path,
    *,
    chunksize: int = DEFAULT_CHUNKSIZE,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Score a CSV file chunk by chunk, in constant memory, keeping the row order.

    The output is written to a temporary file beside ``output_path`` and renamed over it
    only when every chunk succeeded, so a failure never leaves a partial file.

    Parameters
    ----------
    artifact : Artifact
        The loaded model.
    input_path, output_path : str or Path
        CSV to read and CSV to write (one output row per input row, same order).
    chunksize : int
        Rows per chunk; memory use grows with it, not with the file.
    on_progress : callable, optional
        Called with the number of input bytes consumed after each chunk.

    Returns
    -------
    int
        Number of rows scored.

    Raises
    ------
    DataError
        When the input is missing, unreadable or a chunk breaks the data contract
        (the message gives the chunk's first row number).
    """
    source, target = Path(input_path), Path(output_path)
    if not source.is_file():
        raise DataError(f"input file not found: {source}")
    if chunksize < 1:
        raise DataError(f"chunk size must be positive, got {chunksize}")
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows = 0
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with (
            open(source, "rb") as raw,
            os.fdopen(descriptor, "w", newline="", encoding="utf-8") as out,
        ):
            for chunk in _read_chunks(raw, source, chunksize):
                if chunk.empty:
                    continue
                try:
                    scored = predict_frame(artifact, chunk)
                except DataError as exc:
                    raise DataError(f"rows from {rows + 1}: {exc}", exc.problems) from None
                scored.to_csv(out, header=rows == 0, index=False)
                rows += len(chunk)
                if on_progress is not None:
                    on_progress(raw.tell())
        if rows == 0:
            raise DataError(f"input file {source} has a header but no rows")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    elapsed = time.perf_counter() - started
    logger.info(
        "scored %d rows in %.2f s (%.0f rows/s)",
        rows,
        elapsed,
        rows / elapsed if elapsed else 0.0,
        extra={"rows": rows, "duration_s": round(elapsed, 3), "output": str(target)},
    )
    return rows


def _read_chunks(raw: BinaryIO, source: Path, chunksize: int) -> Iterator[pd.DataFrame]:
    try:
        yield from pd.read_csv(raw, chunksize=chunksize)
    except pd.errors.EmptyDataError:
        raise DataError(f"input file {source} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[0]
        raise DataError(f"input file {source} is not a valid CSV: {reason}") from None
