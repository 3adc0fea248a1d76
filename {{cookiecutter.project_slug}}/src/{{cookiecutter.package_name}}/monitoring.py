"""Online metrics: served predictions joined with the labels that arrive later.

The HTTP service (started with ``--prediction-log DIR``), or any scorer writing the same
format, appends one JSON line per scored row to
``DIR/predictions-<host>-<pid>.jsonl``::

    {"id": "<request id>:<row>", "model_version": "...", "time": "...",
     "prediction": ..., "probabilities": {"<class>": p, ...}}

(``probabilities`` for classifiers only) and one line per delayed label received by
``POST /feedback`` to ``DIR/feedback-<host>-<pid>.jsonl``::

    {"id": "<request id>:<row>", "label": ..., "time": "..."}

Each process writes its own files, whole lines in one system call, so processes never
interleave. :func:`monitor` joins the two by id for one model version and computes the
task's metrics on the labelled rows, next to the holdout metrics measured at training.
Lines that cannot be read (a crash mid-write, an edited file) are skipped and counted.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .artifact import read_metadata
from .errors import DataError
from .metadata import ArtifactMetadata
from .tasks import TASKS, Metrics, Predictions

PREDICTIONS = "predictions"
FEEDBACK = "feedback"
SUFFIX = ".jsonl"


def log_path(directory: str | Path, kind: str) -> Path:
    """This process's log file of ``kind`` (:data:`PREDICTIONS` or :data:`FEEDBACK`)."""
    return Path(directory) / f"{kind}-{socket.gethostname()}-{os.getpid()}{SUFFIX}"


def now() -> str:
    """The current UTC time in ISO 8601, as the logs record it."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class JsonLinesLog:
    """An append-only JSON lines file of one process, safe to write from many threads.

    The file is opened on first write, in the process that writes (after a fork), with
    ordinary permissions under the umask. Each :meth:`write` appends whole lines in one
    ``write`` call under a lock.

    Parameters
    ----------
    directory : str or Path
        Where the file goes (created if missing).
    kind : str
        :data:`PREDICTIONS` or :data:`FEEDBACK`.
    """

    def __init__(self, directory: str | Path, kind: str) -> None:
        self.directory = Path(directory)
        self.kind = kind
        self._fd: int | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def write(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Append ``records``, one JSON line each.

        Raises
        ------
        OSError
            When the file cannot be written.
        """
        data = "".join(json.dumps(record, allow_nan=False) + "\n" for record in records)
        payload = data.encode("utf-8")
        with self._lock:
            if self._fd is None or self._pid != os.getpid():
                self.directory.mkdir(parents=True, exist_ok=True)
                path = log_path(self.directory, self.kind)
                self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
                self._pid = os.getpid()
            view = memoryview(payload)
            while view:
                view = view[os.write(self._fd, view) :]

    def close(self) -> None:
        """Close the file (it reopens on the next write)."""
        with self._lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None


def prediction_records(
    ids: Sequence[str], model_version: str, predictions: Predictions, time: str | None = None
) -> list[dict[str, Any]]:
    """The prediction log lines of one request: one per row, in order."""
    answer = predictions.to_json()
    stamp = time or now()
    records: list[dict[str, Any]] = [
        {"id": row_id, "model_version": model_version, "time": stamp, "prediction": label}
        for row_id, label in zip(ids, answer["predictions"])
    ]
    for record, probabilities in zip(records, answer.get("probabilities", ())):
        record["probabilities"] = probabilities
    return records


def _read(directory: Path, kind: str, counts: dict[str, int]) -> Iterator[dict[str, Any]]:
    """Every readable record of ``kind`` with a string ``id``; counts the bad lines."""
    for path in sorted(directory.glob(f"{kind}-*{SUFFIX}")):
        with open(path, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                    counts[f"bad_{kind}_lines"] += 1
                    continue
                yield record


@dataclass(frozen=True)
class MonitorReport:
    """Online metrics of one model version next to its offline (holdout) ones.

    Attributes
    ----------
    model_version : str
        The version whose predictions were joined.
    task : str
        The task's name.
    counts : dict of str to int
        ``predictions`` (of this version), ``labelled``, ``unlabelled``,
        ``unmatched_feedback`` (labels whose id matches no logged prediction),
        ``other_versions`` (predictions of other versions, ignored),
        ``duplicate_predictions``/``duplicate_feedback`` (repeated ids; the last line
        wins), ``bad_predictions_lines``/``bad_feedback_lines`` (unreadable, skipped) and
        ``bad_labelled_rows`` (joined rows whose prediction cannot be scored).
    online : dict
        The task's metrics on the labelled rows; empty when there are none.
    offline : dict
        The holdout metrics recorded at training; empty when none were recorded.
    """

    model_version: str
    task: str
    counts: dict[str, int]
    online: Metrics = field(default_factory=dict)
    offline: Metrics = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dictionary."""
        return {
            "model_version": self.model_version,
            "task": self.task,
            "counts": dict(self.counts),
            "online": dict(self.online),
            "offline": dict(self.offline),
        }


def monitor(directory: str | Path, model_dir: str | Path) -> MonitorReport:
    """Join the prediction and feedback logs in ``directory`` for the model at ``model_dir``.

    Only the artifact's metadata is read (the model is not loaded).

    Raises
    ------
    DataError
        When ``directory`` does not exist.
    ArtifactError
        When the artifact's metadata cannot be read.
    """
    logs = Path(directory)
    if not logs.is_dir():
        raise DataError(f"prediction log directory not found: {logs}")
    metadata = read_metadata(model_dir)
    counts = dict.fromkeys(
        (
            "predictions",
            "labelled",
            "unlabelled",
            "unmatched_feedback",
            "other_versions",
            "duplicate_predictions",
            "duplicate_feedback",
            "bad_predictions_lines",
            "bad_feedback_lines",
            "bad_labelled_rows",
        ),
        0,
    )
    predicted: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for record in _read(logs, PREDICTIONS, counts):
        seen.add(record["id"])
        if record.get("model_version") != metadata.model_version:
            counts["other_versions"] += 1
            continue
        counts["duplicate_predictions"] += record["id"] in predicted
        predicted[record["id"]] = record
    labels: dict[str, Any] = {}
    for record in _read(logs, FEEDBACK, counts):
        if "label" not in record:
            counts["bad_feedback_lines"] += 1
            continue
        counts["duplicate_feedback"] += record["id"] in labels
        labels[record["id"]] = record["label"]
    counts["predictions"] = len(predicted)
    counts["unmatched_feedback"] = sum(1 for key in labels if key not in seen)
    joined = [(predicted[key], label) for key, label in labels.items() if key in predicted]
    online = _online_metrics(metadata, joined, counts)
    counts["unlabelled"] = counts["predictions"] - counts["labelled"]
    offline = dict(metadata.metrics.holdout) if metadata.metrics is not None else {}
    return MonitorReport(metadata.model_version, metadata.task, counts, online, offline)


def _online_metrics(
    metadata: ArtifactMetadata, joined: list[tuple[dict[str, Any], Any]], counts: dict[str, int]
) -> Metrics:
    """The task's metrics on the joined rows; rows that cannot be scored are counted."""
    task = TASKS[metadata.task]
    classes = tuple(metadata.schema.target.classes) if task.is_classification else None
    truth: list[Any] = []
    predicted: list[Any] = []
    probabilities: list[list[float]] = []
    for record, label in joined:
        try:
            if classes is not None:
                given = record["probabilities"]
                row = [float(given[str(label_)]) for label_ in classes]
                probabilities.append(row)
            elif isinstance(record["prediction"], bool) or isinstance(label, bool):
                raise TypeError("a boolean is not a number")
            else:
                label = float(label)
                float(record["prediction"])
        except (KeyError, TypeError, ValueError):
            counts["bad_labelled_rows"] += 1
            continue
        truth.append(label)
        predicted.append(record["prediction"])
    counts["labelled"] = len(truth)
    if not truth:
        return {}
    if classes is None:
        return task.metrics(np.asarray(truth, dtype=float), _values(predicted))
    answers = Predictions(
        labels=np.asarray(predicted, dtype=object),
        probabilities=np.asarray(probabilities, dtype=float),
        classes=classes,
    )
    return task.metrics(np.asarray(truth, dtype=object), answers)


def _values(values: list[Any]) -> Predictions:
    return Predictions(labels=np.asarray(values, dtype=float))
