"""The one exception family the CLI and the service turn into a clear message."""

from __future__ import annotations


class ProjectError(Exception):
    """An expected failure caused by input (config, data, model files), not by a bug.

    The message is one line that names what is wrong; callers show it without a traceback.
    """


class ConfigError(ProjectError):
    """The configuration file or an override is invalid."""


class DataError(ProjectError):
    """A data file cannot be read or does not meet the data contract.

    Parameters
    ----------
    message : str
        One-line summary naming the offending columns.
    problems : dict of str to str, optional
        Column (or field) name mapped to what is wrong with it, for structured reporting.
    """

    def __init__(self, message: str, problems: dict[str, str] | None = None) -> None:
        super().__init__(message, problems)
        self.message = message
        self.problems = dict(problems or {})

    def __str__(self) -> str:
        return self.message


class ArtifactError(ProjectError):
    """A model artifact is missing, incomplete, tampered with or incompatible."""


class PredictionError(ProjectError):
    """The model answered something that cannot be used: NaN or infinite predictions.

    The model's fault, not the input's: the rows met the data contract.

    Parameters
    ----------
    message : str
        One line naming how many rows, and which.
    rows : sequence of int
        Positions (0-based) of the offending rows in the scored batch.
    """

    def __init__(self, message: str, rows: tuple[int, ...] = ()) -> None:
        super().__init__(message, rows)
        self.message = message
        self.rows = tuple(rows)

    def __str__(self) -> str:
        return self.message
