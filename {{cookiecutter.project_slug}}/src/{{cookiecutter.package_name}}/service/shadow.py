"""Shadow scoring: a candidate model scores what the live model scored, off the request path.

With ``serve --candidate DIR`` every batch the live model scores is handed, after its
answer is computed, to a background thread of the worker that scores it again with the
candidate and records how the two disagree (see
:meth:`~.metrics.ServiceMetrics.observe_shadow`). Clients only ever get the live model's
answer, and never wait for the candidate: when the candidate falls behind, batches are
skipped and counted, and a candidate failure is counted, never raised.

The candidate must have the live model's data contract (the same features of the same
kinds, the same kind of task), since it scores the features validated for the live model;
:func:`check_candidate` refuses any other at start-up.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable

import pandas as pd

from ..artifact import Artifact
from ..errors import ConfigError
from ..schema import Schema
from ..scoring import score_features
from ..tasks import Predictions
from ..threads import limited_threads

logger = logging.getLogger(__name__)

MAX_PENDING = 64
"""Batches waiting for the candidate; beyond this, batches are skipped (and counted)."""

Compare = Callable[[Predictions, Predictions], None]
"""Records one batch's live and candidate predictions."""
Count = Callable[[int], None]
"""Records a number of rows (failed or skipped)."""


def check_candidate(live: Schema, candidate: Schema, path: object) -> None:
    """Refuse a candidate whose data contract differs from the live model's.

    Raises
    ------
    ConfigError
        One line naming what differs.
    """
    if live.task != candidate.task:
        raise ConfigError(
            f"candidate model {path} is a {candidate.task} model; the live model is {live.task}"
        )
    expected = [(spec.name, spec.kind) for spec in live.features]
    given = [(spec.name, spec.kind) for spec in candidate.features]
    if expected != given:
        missing = sorted(set(expected) - set(given))
        extra = sorted(set(given) - set(expected))
        what = "; ".join(
            part
            for part in (
                (
                    f"missing {', '.join(f'{name} ({kind})' for name, kind in missing)}"
                    if missing
                    else ""
                ),
                f"extra {', '.join(f'{name} ({kind})' for name, kind in extra)}" if extra else "",
            )
            if part
        )
        raise ConfigError(
            f"candidate model {path} has another data contract than the live model: "
            f"{what or 'features in another order'}"
        )


class Shadow:
    """Scores the live model's batches with a candidate in a background thread.

    Parameters
    ----------
    candidate : Artifact
        The loaded, self-checked candidate.
    compare : callable
        Told each batch's live and candidate predictions.
    failed : callable
        Told the rows of each batch the candidate failed to score.
    skipped : callable
        Told the rows of each batch skipped because the candidate fell behind.
    max_pending : int, default MAX_PENDING
        Batches that may wait for the candidate.
    """

    def __init__(
        self,
        candidate: Artifact,
        *,
        compare: Compare,
        failed: Count,
        skipped: Count,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.candidate = candidate
        self._compare = compare
        self._failed = failed
        self._skipped = skipped
        self._queue: queue.Queue[tuple[pd.DataFrame, Predictions]] = queue.Queue(max_pending)
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        """The candidate's model version."""
        return self.candidate.version

    def submit(self, features: pd.DataFrame, live: Predictions) -> None:
        """Queue a scored batch for the candidate; never blocks, never raises."""
        try:
            self._ensure_thread()
            self._queue.put_nowait((features, live))
        except queue.Full:
            self._skipped(len(features))
        except Exception:  # the live answer stands whatever happens here
            logger.exception("could not queue a batch for the candidate model")
            self._failed(len(features))

    def drain(self) -> None:
        """Wait until every queued batch has been compared (for tests and shutdown)."""
        self._queue.join()

    def _ensure_thread(self) -> None:
        """Start the scoring thread in this process (again after a fork)."""
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="candidate-model", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        with limited_threads(1):  # the request threads already use every CPU
            while True:
                features, live = self._queue.get()
                try:
                    self.compare(features, live)
                finally:
                    self._queue.task_done()

    def compare(self, features: pd.DataFrame, live: Predictions) -> None:
        """Score ``features`` with the candidate and record the comparison; never raises."""
        try:
            candidate = score_features(self.candidate, features)
        except Exception as error:
            logger.warning(
                "candidate model %s failed on a batch of %d rows: %s",
                self.version,
                len(features),
                " ".join(str(error).split()) or type(error).__name__,
                extra={"candidate_version": self.version},
            )
            self._failed(len(features))
            return
        self._compare(live, candidate)
