"""Reading tables: one reader for training files, batch input and request bodies.

Every way in (:func:`read_table`, :func:`iter_table_chunks`, :func:`parse_csv`) maps the
parser's many exceptions onto one :class:`~.errors.DataError` naming the source, so a bad
file reads the same in the CLI, in batch prediction and in the service.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from .errors import DataError

_HASH_BLOCK = 1 << 20


def file_sha256(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def read_table(path: str | Path) -> pd.DataFrame:
    """Load a whole CSV file into a DataFrame.

    Parameters
    ----------
    path : str or Path
        The CSV file; the first line must hold the column names.

    Returns
    -------
    pandas.DataFrame
        The data, with pandas' dtype inference (numbers become numeric columns).

    Raises
    ------
    DataError
        When the file is missing, unreadable, empty or not parseable as CSV.
    """
    source = _existing_file(path)
    with _parsing(f"data file {source}"):
        frame = pd.read_csv(source)
    if frame.empty:
        raise DataError(f"data file {source} has a header but no rows")
    return frame


def iter_table_chunks(
    handle: BinaryIO, source: str | Path, chunksize: int
) -> Iterator[pd.DataFrame]:
    """Yield a CSV file's rows in chunks of ``chunksize``, keeping memory flat.

    Parameters
    ----------
    handle : binary file
        The open file; its position tells how far reading has got.
    source : str or Path
        The file's name, for messages.
    chunksize : int
        Rows per chunk.

    Raises
    ------
    DataError
        When the file is empty or not parseable as CSV.
    """
    with _parsing(f"input file {source}"):
        yield from pd.read_csv(handle, chunksize=chunksize)


def parse_csv(body: bytes, *, max_rows: int | None = None) -> pd.DataFrame:
    """Parse CSV text held in memory (an HTTP request body), reading at most ``max_rows``.

    Raises
    ------
    DataError
        When the body is not CSV with a header row.
    """
    with _parsing("body"):
        return pd.read_csv(io.BytesIO(body), nrows=max_rows)


def _existing_file(path: str | Path) -> Path:
    source = Path(path)
    if not source.is_file():
        raise DataError(f"data file not found: {source}")
    return source


@contextmanager
def _parsing(what: str) -> Iterator[None]:
    """Turn the parser's exceptions into one-line :class:`DataError` messages."""
    try:
        yield
    except pd.errors.EmptyDataError:
        raise DataError(f"{what} is empty") from None
    except (ValueError, OverflowError) as exc:  # ParserError and UnicodeDecodeError included
        raise DataError(f"{what} is not a valid CSV file: {_first_line(exc)}") from None
    except OSError as exc:
        raise DataError(f"cannot read {what}: {exc.strerror or exc}") from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
