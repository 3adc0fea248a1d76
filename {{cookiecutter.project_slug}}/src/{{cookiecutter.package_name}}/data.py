"""Reading tables: one reader for training files, batch input and request bodies.

Every way in (:func:`read_table`, :func:`iter_table_chunks`, :func:`parse_csv`) maps the
parser's many exceptions onto one :class:`~.errors.DataError` naming the source, so a bad
file reads the same in the CLI, in batch prediction and in the service.

Every way in also reads the same: cells as text, then columns of plain numbers as numbers
(:func:`~.columns.parse_numbers`), so codes such as ``007`` are never turned into ``7``.
Callers holding a data contract pass its non-numeric columns as ``text_columns``, which
stay text in every chunk whatever its values. A UTF-8 byte-order mark is skipped, and the
separator (``,``, ``;``, tab or ``|``) is detected from each file's header line unless
given.

Parquet files (``.parquet`` or ``.pq``, or a directory of them, as Spark writes) are read
through pyarrow, which is an optional dependency (the ``parquet`` extra): their columns are
typed, so they are used as they are. :func:`table_format` is the one place that decides
which format a path holds.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Collection, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from . import DISTRIBUTION
from .columns import parse_numbers
from .errors import DataError

_HASH_BLOCK = 1 << 20
SEPARATORS = (",", ";", "\t", "|")
"""Separators :func:`sniff_separator` chooses from."""
_SNIFF_BYTES = 1 << 16
_ENCODING = "utf-8-sig"  # UTF-8, skipping a byte-order mark
CSV, PARQUET = "csv", "parquet"
PARQUET_SUFFIXES = (".parquet", ".pq")
"""File name endings read as Parquet; any other file is read as CSV."""


def is_uri(path: str | Path) -> bool:
    """Whether ``path`` is a URI with a scheme (``s3a://``, ``hdfs://``...), not a local path."""
    scheme, separator, _ = str(path).partition("://")
    return bool(separator) and scheme.isidentifier()


def table_format(path: str | Path) -> str:
    """The format of a table at ``path``: :data:`PARQUET` or :data:`CSV`.

    A name ending in one of :data:`PARQUET_SUFFIXES` is Parquet. A local directory is
    Parquet unless its data files are ``.csv``; a URI without such a suffix is Parquet
    (what Spark writes). Any other file is CSV.
    """
    name = str(path).rstrip("/").lower()
    if name.endswith(PARQUET_SUFFIXES):
        return PARQUET
    if is_uri(path):
        return CSV if name.endswith((".csv", ".tsv", ".txt")) else PARQUET
    if Path(path).is_dir():
        files = _data_files(Path(path))
        if files and all(file.name.lower().endswith((".csv", ".tsv", ".txt")) for file in files):
            return CSV
        return PARQUET
    return CSV


def parquet_files(path: str | Path) -> list[Path]:
    """The Parquet files of a file or a directory (sorted, hidden and ``_SUCCESS`` skipped).

    Raises
    ------
    DataError
        When the path does not exist or the directory holds no data file.
    """
    source = Path(path)
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise DataError(f"data file not found: {source}")
    files = _data_files(source)
    if not files:
        raise DataError(f"data file not found: directory {source} holds no Parquet files")
    return files


def table_size(path: str | Path) -> int:
    """Bytes of the data files at ``path`` (a file, or a directory's data files); 0 if none."""
    source = Path(path)
    if source.is_file():
        return source.stat().st_size
    if source.is_dir():
        return sum(file.stat().st_size for file in _data_files(source))
    return 0


def _data_files(directory: Path) -> list[Path]:
    """Files under ``directory``, sorted, skipping those Spark and Hadoop hide (``.``, ``_``)."""
    return sorted(
        file
        for file in directory.rglob("*")
        if file.is_file()
        and not any(part.startswith((".", "_")) for part in file.relative_to(directory).parts)
    )


def require_pyarrow() -> Any:
    """Import pyarrow's Parquet module, or explain in one line which extra installs it."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(
            f"reading or writing Parquet needs pyarrow: pip install '{DISTRIBUTION}[parquet]'"
        ) from None
    return pq


def iter_parquet_chunks(
    path: str | Path,
    chunksize: int,
    on_file: Any = None,
) -> Generator[pd.DataFrame, None, None]:
    """Yield the rows of a Parquet file or directory in chunks of at most ``chunksize``.

    Files are read in name order, row group by row group, so memory stays flat and the rows
    come in the order Spark or pandas wrote them. Dictionary-encoded (categorical) columns
    are returned as plain values.

    Parameters
    ----------
    path : str or Path
        A Parquet file or a directory of them.
    chunksize : int
        Most rows per chunk.
    on_file : callable, optional
        Called with ``(file, rows read from it so far, its rows)`` as each chunk is read.

    Raises
    ------
    DataError
        When pyarrow is missing, or a file is missing or is not valid Parquet.
    """
    pq = require_pyarrow()
    for file in parquet_files(path):
        with _parsing(f"input file {file}", "Parquet"), pq.ParquetFile(file) as parquet:
            total, done = parquet.metadata.num_rows, 0
            for batch in parquet.iter_batches(batch_size=chunksize):
                done += batch.num_rows
                if on_file is not None:
                    on_file(file, done, total)
                yield _plain_columns(batch.to_pandas())


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Text and categorical (dictionary-encoded) columns as ``object``, as the CSV reader's."""
    for name in frame.columns:
        if isinstance(frame[name].dtype, (pd.CategoricalDtype, pd.StringDtype)):
            frame[name] = frame[name].astype(object).where(frame[name].notna(), np.nan)
    return frame


def _read_parquet(path: str | Path) -> pd.DataFrame:
    chunks = list(iter_parquet_chunks(path, 1 << 20))
    if not chunks:
        return pd.DataFrame()
    return pd.concat(chunks, ignore_index=True)


def sniff_separator(sample: bytes) -> str:
    """The separator of CSV text: the one of :data:`SEPARATORS` most used in its header line.

    Defaults to a comma (a one-column file has no separator to find).
    """
    header = sample.decode(_ENCODING, errors="replace").lstrip("\ufeff").splitlines()
    line = header[0] if header else ""
    counts = {separator: line.count(separator) for separator in SEPARATORS}
    best = max(SEPARATORS, key=lambda separator: counts[separator])
    return best if counts[best] else ","


def file_sha256(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def read_table(
    path: str | Path, *, text_columns: Collection[str] = (), sep: str | None = None
) -> pd.DataFrame:
    """Load a whole CSV file (or Parquet file or directory) into a DataFrame.

    Parameters
    ----------
    path : str or Path
        The CSV file, whose first line must hold the column names, or Parquet data (see
        :func:`table_format`).
    text_columns : collection of str
        Columns kept as text whatever their values (a data contract's non-numeric ones).
    sep : str, optional
        The separator; detected from the header line by default.

    Returns
    -------
    pandas.DataFrame
        The data: columns of plain numbers as numbers, everything else as ``object`` text.

    Raises
    ------
    DataError
        When the file is missing, unreadable, empty or not parseable as CSV (or Parquet).
    """
    if table_format(path) == PARQUET:
        frame = _read_parquet(path)
        if frame.empty:
            raise DataError(f"data file {path} has no rows")
        return frame
    source = _existing_file(path)
    with _parsing(f"data file {source}"):
        if sep is None:
            with open(source, "rb") as handle:
                sep = sniff_separator(handle.read(_SNIFF_BYTES))
        frame = parse_numbers(_read_csv(source, sep), text_columns)
    if frame.empty:
        raise DataError(f"data file {source} has a header but no rows")
    return frame


def iter_table_chunks(
    handle: BinaryIO,
    source: str | Path,
    chunksize: int,
    *,
    text_columns: Collection[str] = (),
    sep: str | None = None,
) -> Generator[pd.DataFrame, None, None]:
    """Yield a CSV file's rows in chunks of ``chunksize``, keeping memory flat.

    Every chunk is read the same way (see :func:`read_table`), so ``text_columns`` stay
    text in each chunk whatever values it happens to hold.

    Parameters
    ----------
    handle : binary file
        The open file; its position tells how far reading has got.
    source : str or Path
        The file's name, for messages.
    chunksize : int
        Rows per chunk.
    text_columns : collection of str
        Columns kept as text.
    sep : str, optional
        The separator; detected from the header line by default.

    Raises
    ------
    DataError
        When the file is empty or not parseable as CSV.
    """
    with _parsing(f"input file {source}"):
        if sep is None:
            sep = sniff_separator(_peek(handle))
        # The reader wraps the handle in a text decoder: close it even when the caller stops
        # early (a refused chunk), so no file object is left for the garbage collector.
        with _read_csv(handle, sep, chunksize=chunksize) as reader:
            for chunk in reader:
                yield parse_numbers(chunk, text_columns)


def parse_csv(
    body: bytes,
    *,
    max_rows: int | None = None,
    text_columns: Collection[str] = (),
    sep: str | None = None,
) -> pd.DataFrame:
    """Parse CSV text held in memory (an HTTP request body), reading at most ``max_rows``.

    Read like a file (see :func:`read_table`).

    Raises
    ------
    DataError
        When the body is not CSV with a header row.
    """
    with _parsing("body"):
        frame = _read_csv(
            io.BytesIO(body), sep or sniff_separator(body[:_SNIFF_BYTES]), nrows=max_rows
        )
        return parse_numbers(frame, text_columns)


def _peek(handle: BinaryIO) -> bytes:
    """The start of a file without consuming it (buffered readers peek, others seek back)."""
    peek = getattr(handle, "peek", None)
    if peek is not None:
        return bytes(peek(_SNIFF_BYTES))
    start = handle.tell()
    sample = handle.read(_SNIFF_BYTES)
    handle.seek(start)
    return sample


def _read_csv(source: Path | BinaryIO, sep: str, **options: Any) -> Any:
    """Cells as text (missing ones as ``NaN``); the one call of the CSV parser."""
    return pd.read_csv(source, sep=sep, dtype=object, encoding=_ENCODING, **options)


def _existing_file(path: str | Path) -> Path:
    source = Path(path)
    if not source.is_file():
        raise DataError(f"data file not found: {source}")
    return source


@contextmanager
def _parsing(what: str, kind: str = "CSV") -> Iterator[None]:
    """Turn the parser's exceptions into one-line :class:`DataError` messages."""
    try:
        yield
    except pd.errors.EmptyDataError:
        raise DataError(f"{what} is empty") from None
    except (ValueError, OverflowError) as exc:  # ParserError and UnicodeDecodeError included
        raise DataError(f"{what} is not a valid {kind} file: {_first_line(exc)}") from None
    except OSError as exc:
        raise DataError(f"cannot read {what}: {exc.strerror or exc}") from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
