"""Adaptive micro-batching: concurrent requests of one worker scored in one model call.

For a request of a few rows nearly all of a model call is fixed overhead (pandas, the
column handling, the learner's set-up), so scoring each request on its own caps a worker
at one request per call. A :class:`MicroBatcher` queues the requests that are scored at
the same time and scores them together, then gives each request its own rows back.

It needs no thread of its own (leader and followers): the request thread that finds
nobody scoring becomes the scorer, takes every queued request (up to ``max_rows`` rows),
scores them in one call and hands out the answers; the others wait for theirs. Alone, a
request is scored at once. The scorer waits (at most ``max_wait`` seconds) only for
requests that are known to be on their way: already being parsed by another thread.

Each request is validated on its own before it is queued, so a bad request gets its own
error and never enters a batch. Should a batch fail anyway, each of its requests is
scored again on its own, so that one request's failure stays its own.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..tasks import Predictions
from . import MICROBATCH_MAX_ROWS as DEFAULT_MAX_ROWS
from . import MICROBATCH_MAX_WAIT_MS as DEFAULT_MAX_WAIT_MS

Score = Callable[[pd.DataFrame], Predictions]
ObserveBatch = Callable[[int, int, list[float]], None]
"""Called after each batch with its requests, its rows and each request's queue wait."""


@dataclass
class _Pending:
    """One request's features, waiting for its predictions."""

    features: pd.DataFrame
    queued: float
    answer: Future[Predictions] = field(default_factory=Future)


class MicroBatcher:
    """Score concurrent requests together; see the module documentation.

    Parameters
    ----------
    score : callable
        Scores validated features, ``DataFrame -> Predictions`` (one model call).
    max_rows : int, default DEFAULT_MAX_ROWS
        Most rows in one call; a larger request is scored alone. 0 or 1 turns batching
        off: every request is scored on its own, in its own thread.
    max_wait : float, default DEFAULT_MAX_WAIT_MS / 1000
        Most seconds the scorer waits for requests already on their way.
    observe : callable, optional
        Told about each batch (see :data:`ObserveBatch`); never fails a request.
    """

    def __init__(
        self,
        score: Score,
        *,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_wait: float = DEFAULT_MAX_WAIT_MS / 1000,
        observe: ObserveBatch | None = None,
    ) -> None:
        self._score = score
        self.max_rows = max_rows
        self.max_wait = max_wait
        self._observe = observe
        self._queue: deque[_Pending] = deque()
        self._queued_rows = 0
        self._arriving = 0
        self._scoring = False
        self._changed = threading.Condition()

    @property
    def enabled(self) -> bool:
        """Whether requests are batched at all."""
        return self.max_rows > 1

    def submit(self, prepare: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame, Predictions]:
        """Validate one request with ``prepare`` and score it, batched with others.

        Parameters
        ----------
        prepare : callable
            Parses and validates the request: returns its features or raises; its error
            is this request's alone.

        Returns
        -------
        tuple of (pandas.DataFrame, Predictions)
            The request's features and their predictions, exactly as if scored alone.
        """
        if not self.enabled:
            features = prepare()
            return features, self._score(features)
        with self._changed:
            self._arriving += 1
        try:
            features = prepare()
        except BaseException:
            with self._changed:
                self._arriving -= 1
                self._changed.notify_all()
            raise
        pending = _Pending(features, time.perf_counter())
        with self._changed:
            self._arriving -= 1
            self._queue.append(pending)
            self._queued_rows += len(features)
            self._changed.notify_all()
            while self._scoring and not pending.answer.done():
                self._changed.wait()
            leader = not pending.answer.done()
            if leader:
                self._scoring = True
        if leader:
            try:
                while not pending.answer.done():
                    self._score_next_batch()
            finally:
                with self._changed:
                    self._scoring = False
                    self._changed.notify_all()
        return features, pending.answer.result()

    def _score_next_batch(self) -> None:
        """Take the next batch off the queue (waiting for arriving requests) and score it."""
        with self._changed:
            deadline = time.perf_counter() + self.max_wait
            while self._arriving and self._queued_rows < self.max_rows:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            batch = [self._queue.popleft()]
            rows = len(batch[0].features)
            while self._queue and rows + len(self._queue[0].features) <= self.max_rows:
                batch.append(self._queue.popleft())
                rows += len(batch[-1].features)
            self._queued_rows -= rows
        started = time.perf_counter()
        try:
            self._answer(batch)
        except BaseException as error:  # e.g. KeyboardInterrupt: no follower may wait forever
            for pending in batch:
                if not pending.answer.done():
                    pending.answer.set_exception(error)
            raise
        if self._observe is not None:
            self._observe(len(batch), rows, [started - pending.queued for pending in batch])
        with self._changed:
            self._changed.notify_all()

    def _answer(self, batch: list[_Pending]) -> None:
        """Score ``batch`` in one call and give each request its rows; never raises."""
        if len(batch) > 1:
            frames = [pending.features for pending in batch]
            try:
                predictions: Predictions | None = self._score(pd.concat(frames, ignore_index=True))
            except Exception:  # each request is scored again, on its own, below
                predictions = None
            if predictions is not None:
                for pending, part in zip(batch, split(predictions, [len(f) for f in frames])):
                    pending.answer.set_result(part)
                return
        for pending in batch:
            try:
                pending.answer.set_result(self._score(pending.features))
            except Exception as error:
                pending.answer.set_exception(error)


def split(predictions: Predictions, sizes: list[int]) -> list[Predictions]:
    """Cut the predictions of concatenated requests back into one per request.

    Parameters
    ----------
    predictions : Predictions
        Predictions for all rows, in order.
    sizes : list of int
        Rows of each request, in order; they add up to the rows of ``predictions``.
    """
    bounds = np.cumsum([0, *sizes])
    return [
        Predictions(
            labels=predictions.labels[start:stop],
            probabilities=(
                None
                if predictions.probabilities is None
                else predictions.probabilities[start:stop]
            ),
            classes=predictions.classes,
        )
        for start, stop in zip(bounds[:-1], bounds[1:])
    ]
