"""Batch prediction: a CSV file of any size streamed through the model in chunks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pandas as pd

from .artifact import Artifact
from .data import iter_table_chunks
from .errors import DataError
from .files import output_file, same_file
from .scoring import score_rows
from .threads import limited_threads, thread_count

logger = logging.getLogger(__name__)

DEFAULT_CHUNKSIZE = 100_000


def predict_frame(artifact: Artifact, frame: pd.DataFrame) -> pd.DataFrame:
    """Validate rows against the artifact's schema and predict them.

    Returns
    -------
    pandas.DataFrame
        ``prediction`` and, for classifiers, one ``probability_<class>`` column per class,
        aligned with ``frame``'s index.

    Raises
    ------
    DataError
        When the rows break the data contract.
    """
    return score_rows(artifact, frame).predictions.to_frame(frame.index)


def predict_csv(
    artifact: Artifact,
    input_path: str | Path,
    output_path: str | Path,
    *,
    chunksize: int = DEFAULT_CHUNKSIZE,
    on_progress: Callable[[int], None] | None = None,
    threads: int = 0,
    sep: str | None = None,
) -> int:
    """Score a CSV file chunk by chunk, in constant memory, keeping the row order.

    A regular (or new) output file is written to a temporary file beside it and renamed
    over it only when every chunk succeeded, so a failure (including SIGTERM in the CLI)
    never leaves a partial or temporary file; it gets ordinary permissions under the umask.
    ``-`` (standard output), devices such as ``/dev/null`` and FIFOs are written through,
    never replaced. See :func:`.files.output_file`.

    Parameters
    ----------
    artifact : Artifact
        The loaded model.
    input_path, output_path : str or Path
        CSV to read and CSV to write (one output row per input row, same order); the output
        must not be the input, under any name (symlink or hard link).
    chunksize : int
        Rows per chunk; memory use grows with it, not with the file.
    on_progress : callable, optional
        Called with the number of input bytes consumed after each chunk.
    threads : int, default 0
        Native threads for the model; 0 chooses from the chunk size (see :mod:`.threads`).
    sep : str, optional
        The input's separator; detected from its header line by default.

    Every chunk is read with the data contract's column kinds (its non-numeric columns as
    text), so the predictions do not depend on ``chunksize``.

    Returns
    -------
    int
        Number of rows scored.

    Raises
    ------
    DataError
        When the input is missing, unreadable or a chunk breaks the data contract
        (the message gives the chunk's first row number), or the output is the input.
    OSError
        When the output cannot be written (a directory, a read-only place, a full disk);
        the error names the output path.
    """
    source, target = Path(input_path), Path(output_path)
    if not source.is_file():
        raise DataError(f"input file not found: {source}")
    if chunksize < 1:
        raise DataError(f"chunk size must be positive, got {chunksize}")
    if same_file(source, target):
        raise DataError(f"output {target} is the input file; write the predictions elsewhere")
    started = time.perf_counter()
    rows = 0
    with (
        output_file(target) as out,
        open(source, "rb") as raw,
        limited_threads(thread_count(chunksize, threads)),
    ):
        text_columns = artifact.schema.text_columns()
        chunks = iter_table_chunks(raw, source, chunksize, text_columns=text_columns, sep=sep)
        with closing(chunks):  # a refused chunk stops reading: close the file reader
            for chunk in chunks:
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
    elapsed = time.perf_counter() - started
    logger.info(
        "scored %d rows in %.2f s (%.0f rows/s)",
        rows,
        elapsed,
        rows / elapsed if elapsed else 0.0,
        extra={"rows": rows, "duration_s": round(elapsed, 3), "output": str(target)},
    )
    return rows
