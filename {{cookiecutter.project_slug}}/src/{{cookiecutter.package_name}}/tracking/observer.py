"""The MLflow run observer: what ``train`` and ``evaluate`` report becomes an MLflow run."""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..runs import RunObserver
from . import EXPERIMENT, tracking_uri

MAX_PARAMS_PER_CALL = 100  # MLflow's limit for one log_batch call
MAX_PARAM_LENGTH = 6000  # and for one parameter value
# A tracking server that is down must cost seconds, not MLflow's default minutes of
# retries; the environment variables still override these.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}


def mlflow_client(uri: str | None = None) -> Any:
    """An ``MlflowClient`` of the tracking store (imports MLflow: about two seconds)."""
    for name, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as exc:
        raise RuntimeError(
            f"MLflow is not installed ({exc}); install this project's dependencies"
        ) from None
    # After the import, which sets MLflow's own logger up: store creation and migrations
    # log at INFO.
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # MLflow's SQL store uses SQLAlchemy APIs deprecated in 2.1: nothing this project can act on.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"mlflow\.")
    return MlflowClient(tracking_uri=uri or tracking_uri())


def experiment_id(client: Any, name: str = EXPERIMENT) -> str:
    """The id of experiment ``name``, created on first use."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)
    return str(client.create_experiment(name))


class MlflowObserver(RunObserver):
    """Logs each run to MLflow: tags, parameters, metrics and files.

    Parameters
    ----------
    uri : str, optional
        The tracking URI; :func:`~.tracking_uri` by default.
    experiment : str, optional
        The experiment's name; the distribution's by default.
    """

    def __init__(self, uri: str | None = None, experiment: str = EXPERIMENT) -> None:
        self.uri = uri
        self.experiment = experiment
        self._client: Any = None
        self.run_id: str | None = None
        """The id of the run started last, if any."""

    def start(self, kind: str, tags: Mapping[str, str]) -> str | None:
        self._client = mlflow_client(self.uri)
        run = self._client.create_run(
            experiment_id(self._client, self.experiment), tags={**tags, "kind": kind}
        )
        self.run_id = str(run.info.run_id)
        return self.run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        entries = [Param(name, str(value)[:MAX_PARAM_LENGTH]) for name, value in params.items()]
        for start in range(0, len(entries), MAX_PARAMS_PER_CALL):
            self._client.log_batch(
                self.run_id, params=entries[start : start + MAX_PARAMS_PER_CALL]
            )

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        entries = [Metric(name, value, now, 0) for name, value in metrics.items()]
        self._client.log_batch(self.run_id, metrics=entries)

    def log_files(self, directory: Path, folder: str = "") -> None:
        self._client.log_artifacts(self.run_id, str(directory), folder or None)

    def end(self, succeeded: bool) -> None:
        self._client.set_terminated(self.run_id, "FINISHED" if succeeded else "FAILED")
