"""Reading tabular data files and fingerprinting them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from {{ cookiecutter.package_name }}.errors import DataError

_HASH_BLOCK = 1 << 20


def file_sha256(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def load_csv(path: str | Path) -> pd.DataFrame:
    """Load a CSV file into a DataFrame.

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
    csv_path = Path(path)
    if not csv_path.is_file():
        raise DataError(f"data file not found: {csv_path}")
    try:
        frame = pd.read_csv(csv_path)
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {csv_path} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[0]
        raise DataError(f"data file {csv_path} is not a valid CSV: {reason}") from None
    except OSError as exc:
        raise DataError(f"cannot read data file {csv_path}: {exc.strerror}") from None
    if frame.empty:
        raise DataError(f"data file {csv_path} has a header but no rows")
    return frame
