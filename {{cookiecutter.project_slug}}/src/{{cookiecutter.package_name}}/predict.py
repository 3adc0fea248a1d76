"""Batch prediction: a CSV or Parquet table of any size streamed through the model in chunks.

The input's format is decided by :func:`.data.table_format` (a ``.parquet`` file or a
directory of Parquet files, else CSV); the output's by its name (``.parquet`` or ``.pq``
writes one Parquet file, anything else CSV). Both are written atomically (see
:mod:`.files`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from .artifact import Artifact
from .data import (
    PARQUET,
    PARQUET_SUFFIXES,
    iter_parquet_chunks,
    iter_table_chunks,
    require_pyarrow,
    table_format,
)
from .errors import DataError
from .files import file_mode, output_file, same_file, staging_directory, writes_through
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
    """Score a table chunk by chunk, in constant memory, keeping the row order.

    The input is CSV, or Parquet (a ``.parquet`` file or a directory of Parquet files, read
    in name order; needs pyarrow); the output is a Parquet file when its name ends in
    ``.parquet`` or ``.pq``, CSV otherwise. Both are checked the same way: every chunk
    against the data contract.

    A regular (or new) output file is written to a temporary file beside it and renamed
    over it only when every chunk succeeded, so a failure (including SIGTERM in the CLI)
    never leaves a partial or temporary file; it gets ordinary permissions under the umask.
    ``-`` (standard output), devices such as ``/dev/null`` and FIFOs are written through
    (CSV only), never replaced. See :mod:`.files`.

    Parameters
    ----------
    artifact : Artifact
        The loaded model.
    input_path, output_path : str or Path
        Table to read and file to write (one output row per input row, same order); the
        output must not be the input, under any name (symlink or hard link), nor lie in
        an input directory.
    chunksize : int
        Rows per chunk; memory use grows with it, not with the file.
    on_progress : callable, optional
        Called with the number of input bytes consumed after each chunk (for Parquet, an
        estimate from the rows read).
    threads : int, default 0
        Native threads for the model; 0 chooses from the chunk size (see :mod:`.threads`).
    sep : str, optional
        The CSV input's separator; detected from its header line by default.

    Every CSV chunk is read with the data contract's column kinds (its non-numeric columns
    as text), so the predictions do not depend on ``chunksize``.

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
    parquet_in = table_format(source) == PARQUET
    if not (source.is_file() or (parquet_in and source.is_dir())):
        raise DataError(f"input file not found: {source}")
    if chunksize < 1:
        raise DataError(f"chunk size must be positive, got {chunksize}")
    if same_file(source, target):
        raise DataError(f"output {target} is the input file; write the predictions elsewhere")
    if source.is_dir() and target.absolute().is_relative_to(source.absolute()):
        raise DataError(f"output {target} is inside the input directory; write it elsewhere")
    started = time.perf_counter()
    rows = 0
    with (
        _writer(target) as write,
        limited_threads(thread_count(chunksize, threads)),
        _chunks(artifact, source, chunksize, sep, on_progress, parquet_in) as chunks,
    ):
        for chunk in chunks:
            if chunk.empty:
                continue
            try:
                scored = predict_frame(artifact, chunk)
            except DataError as exc:
                raise DataError(f"rows from {rows + 1}: {exc}", exc.problems) from None
            write(scored, rows == 0)
            rows += len(chunk)
            chunks.progress()
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


predict_table = predict_csv
"""The same function under a name that does not suggest CSV only."""


class _Chunks:
    """Input chunks and the progress they make, in bytes of input."""

    def __init__(
        self,
        chunks: Iterator[pd.DataFrame],
        position: Callable[[], int],
        on_progress: Callable[[int], None] | None,
    ) -> None:
        self._chunks = chunks
        self._position = position
        self._on_progress = on_progress

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return self._chunks

    def progress(self) -> None:
        if self._on_progress is not None:
            self._on_progress(self._position())


@contextmanager
def _chunks(
    artifact: Artifact,
    source: Path,
    chunksize: int,
    sep: str | None,
    on_progress: Callable[[int], None] | None,
    parquet: bool,
) -> Iterator[_Chunks]:
    if parquet:
        done: dict[Path, int] = {}

        def on_file(file: Path, read: int, total: int) -> None:
            done[file] = file.stat().st_size * read // max(total, 1)

        parts = iter_parquet_chunks(source, chunksize, on_file=on_file)
        with closing(parts):
            yield _Chunks(parts, lambda: sum(done.values()), on_progress)
        return
    with open(source, "rb") as raw:
        text_columns = artifact.schema.text_columns()
        chunks = iter_table_chunks(raw, source, chunksize, text_columns=text_columns, sep=sep)
        with closing(chunks):  # a refused chunk stops reading: close the file reader
            yield _Chunks(chunks, raw.tell, on_progress)


Write = Callable[[pd.DataFrame, bool], None]


@contextmanager
def _writer(target: Path) -> Iterator[Write]:
    """A function writing scored chunks to ``target``, as CSV or (by its suffix) Parquet."""
    if not target.name.lower().endswith(PARQUET_SUFFIXES):
        with output_file(target) as out:
            yield lambda frame, first: frame.to_csv(out, header=first, index=False)
        return
    with _parquet_output(target) as write:
        yield write


@contextmanager
def _parquet_output(path: Path) -> Generator[Write, None, None]:
    """Write chunks into one Parquet file that appears complete, or not at all."""
    pq = require_pyarrow()
    import pyarrow as pa

    if writes_through(path):
        raise DataError(f"Parquet output {path} must be a regular file")
    if path.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(path))
    target = path.resolve()
    writer: Any = None
    with staging_directory(target.parent, f".{target.name}.", target) as staging:
        temporary = staging / target.name

        def write(frame: pd.DataFrame, first: bool) -> None:
            nonlocal writer
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(temporary, table.schema)
            writer.write_table(table.cast(writer.schema))

        try:
            yield write
        finally:
            if writer is not None:
                writer.close()
        if writer is not None:
            os.chmod(temporary, file_mode())
            os.replace(temporary, target)
