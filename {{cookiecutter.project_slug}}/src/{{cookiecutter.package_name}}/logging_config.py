"""One logging configuration for every entry point of the package.

Library modules only call ``logging.getLogger(__name__)``; entry points call
:func:`configure_logging` once. Level and format come from arguments or from the
environment variables named by :data:`LEVEL_ENV` and :data:`FORMAT_ENV`.

Warnings (from scikit-learn, pandas, NumPy or this package) are routed through logging
too: each becomes one ``WARNING`` record on the :data:`WARNINGS_LOGGER` logger, written
in the chosen format, instead of the multi-line block :mod:`warnings` prints on stderr.
Which warnings are shown is still decided by the :mod:`warnings` filters, so each
distinct warning appears once per place it is raised from, and a filter that turns a
warning into an error (``-W error``, pytest's ``filterwarnings``) still raises.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import warnings
from datetime import datetime, timezone
from typing import Any

_ENV_PREFIX = __name__.partition(".")[0].upper()
LEVEL_ENV = f"{_ENV_PREFIX}_LOG_LEVEL"
FORMAT_ENV = f"{_ENV_PREFIX}_LOG_FORMAT"
LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("text", "json")
DEFAULT_LEVEL = "info"
DEFAULT_FORMAT = "text"
WARNINGS_LOGGER = "py.warnings"
"""The logger warnings are written to (the one :func:`logging.captureWarnings` uses)."""

# Attributes every LogRecord has; anything else was passed through ``extra=``.
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Format each record as one JSON object per line.

    Keys: ``timestamp`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, every field
    passed with ``extra=``, and ``exception`` when the record carries one.
    """

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def resolve(level: str | None = None, fmt: str | None = None) -> tuple[str, str]:
    """Pick level and format: explicit values, then the environment, then the defaults.

    Raises
    ------
    ValueError
        When a value (given or from the environment) is not a known level or format.
    """
    chosen_level = (level or os.environ.get(LEVEL_ENV) or DEFAULT_LEVEL).lower()
    chosen_format = (fmt or os.environ.get(FORMAT_ENV) or DEFAULT_FORMAT).lower()
    if chosen_level not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, got {chosen_level!r}")
    if chosen_format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {chosen_format!r}")
    return chosen_level, chosen_format


def logging_config(level: str | None = None, fmt: str | None = None) -> dict[str, Any]:
    """Return the ``dictConfig`` dictionary (servers may extend it with their own loggers)."""
    chosen_level, chosen_format = resolve(level, fmt)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "text": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"},
            "json": {"()": JsonFormatter},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": chosen_format,
            }
        },
        "root": {"level": chosen_level.upper(), "handlers": ["stderr"]},
        "loggers": {
            # Third-party libraries stay at warning unless debugging.
            "matplotlib": {"level": "WARNING"},
            "PIL": {"level": "WARNING"},
        },
    }


def configure_logging(level: str | None = None, fmt: str | None = None) -> None:
    """Configure logging for the whole process (call once, from an entry point).

    Also routes warnings through logging, see :func:`log_warning`.
    """
    logging.config.dictConfig(logging_config(level, fmt))
    warnings.showwarning = log_warning


def log_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """A :func:`warnings.showwarning` that logs one line instead of printing a block.

    The record goes to :data:`WARNINGS_LOGGER` at ``WARNING``: ``Category: message
    (file:line)``. A warning explicitly written to a ``file`` is printed there as usual.
    """
    if file is not None:
        file.write(warnings.formatwarning(message, category, filename, lineno, line))
        return
    text = " ".join(str(message).split())
    logging.getLogger(WARNINGS_LOGGER).warning(
        "%s: %s (%s:%d)", category.__name__, text, filename, lineno
    )
