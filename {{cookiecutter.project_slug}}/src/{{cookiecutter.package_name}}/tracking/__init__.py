"""Experiment tracking with MLflow: every ``train`` and ``evaluate`` is a run.

The core never imports this subpackage: it reports each run to a
:class:`~..runs.RunObserver`, and the command line passes it the MLflow one
(:class:`~.observer.MlflowObserver`) because this subpackage exists. MLflow is imported
only when a run is logged or listed, so ``--help`` and ``predict`` do not pay for it.

Where runs go: the tracking URI in ``MLFLOW_TRACKING_URI`` (a team's tracking server,
``http://...``, or any store MLflow knows), and by default :data:`DEFAULT_TRACKING_URI`,
a SQLite file in the current directory (the project root when run through ``make``),
with the runs' files under ``mlruns/`` beside it; it works offline, without a server. The
experiment is named after the distribution.
"""

from __future__ import annotations

import os

from .. import DISTRIBUTION
from ..errors import ProjectError

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
"""Environment variable that points tracking at another store or a tracking server."""

DEFAULT_TRACKING_URI = "sqlite:///mlruns.db"
"""The store used unless :data:`TRACKING_URI_ENV` is set: a SQLite file, relative path."""

EXPERIMENT = DISTRIBUTION
"""The MLflow experiment that holds this project's runs."""


class TrackingError(ProjectError):
    """The tracking store cannot be read, or holds no such run."""


def tracking_uri() -> str:
    """The tracking URI in use: ``MLFLOW_TRACKING_URI`` or :data:`DEFAULT_TRACKING_URI`."""
    return os.environ.get(TRACKING_URI_ENV) or DEFAULT_TRACKING_URI
