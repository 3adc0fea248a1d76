"""Adaptive micro-batching: concurrent requests of one worker scored in one model call.

For a request of a few rows nearly all of a model call is fixed overhead (pandas, the
column handling, the learner's set-up), so scoring each request on its own caps a worker
at one request per call. A :class:`MicroBatcher` queues the requests that are scored at
the same time and scores them together, then gives each request its own rows back.

It needs no thread of its own (leader and followers): the request thread that finds
nobody scoring becomes the scorer, takes every queued request (up to ``max_rows`` rows),
scores them in one call and hands out the answers; the others wait for theirs. When its
own request is answered, the scorer hands the role to the oldest request still queued.
Each waiting request sleeps on its own event, woken only for its answer or for the role:
with dozens of request threads, waking them all at every change costs more than the
model call.

The window adapts to the load. Before scoring, the scorer waits (at most ``max_wait``
seconds) for requests already being parsed by another thread, and for as many requests
as the last batch held: under load, the clients answered by one batch send their next
requests while it is being answered, and scoring the first of them alone would make the
batches smaller and smaller, each paying the model call's fixed cost. A request arriving
after a batch of one (low load) is scored at once; when the load drops, one batch waits
for requests that do not come, then batches shrink to what arrives.

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
from typing import Any, TypeAlias, cast

import numpy as np
import pandas as pd

from ..tasks import Predictions
from . import MICROBATCH_MAX_ROWS as DEFAULT_MAX_ROWS
from . import MICROBATCH_MAX_WAIT_MS as DEFAULT_MAX_WAIT_MS

Score = Callable[[pd.DataFrame], Predictions]
ObserveBatch = Callable[[int, int, list[float]], None]
"""Called after each batch with its requests, its rows and each request's queue wait."""


@dataclass(frozen=True)
class Columns:
    """Validated rows as one plain array per feature, not yet a DataFrame.

    For a request of a few rows, building a DataFrame costs more than checking the rows;
    the batcher builds one frame per model call from the columns of all its requests
    (:func:`as_frame`, :func:`combine`). Numeric arrays are ``float64``; ``object``
    arrays (categories) stay ``object`` columns.

    Attributes
    ----------
    arrays : dict of str to numpy.ndarray
        The model's input columns, in training order, each ``rows`` long.
    rows : int
        Number of rows.
    """

    arrays: dict[str, np.ndarray]
    rows: int

    def __len__(self) -> int:
        return self.rows


Features: TypeAlias = pd.DataFrame | Columns
"""Validated features of one request: a DataFrame, or :class:`Columns`."""


def as_frame(features: Features) -> pd.DataFrame:
    """The features as a DataFrame (indexed 0, 1, ...)."""
    return features if isinstance(features, pd.DataFrame) else combine([features])


def combine(parts: list[Features]) -> pd.DataFrame:
    """The rows of several requests, in order, as one DataFrame indexed 0, 1, ..."""
    if not all(isinstance(part, Columns) for part in parts):
        return pd.concat([as_frame(part) for part in parts], ignore_index=True)
    columns = cast(list[Columns], parts)
    rows = sum(part.rows for part in columns)
    merged: dict[str, Any] = {}
    for name in columns[0].arrays:
        values = np.concatenate([part.arrays[name] for part in columns])
        # A Series keeps the object dtype (pandas 3 would read an object array as "str").
        merged[name] = (
            pd.Series(values, dtype=object, copy=False) if values.dtype == object else values
        )
    return pd.DataFrame(merged, index=pd.RangeIndex(rows))


@dataclass
class _Pending:
    """One request's features, waiting for its predictions."""

    features: Features
    queued: float
    answer: Future[Predictions] = field(default_factory=Future)
    woken: threading.Event = field(default_factory=threading.Event)
    """Set when ``answer`` is done, or when this request's thread becomes the scorer."""


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
        Most seconds the scorer waits for more requests before a model call.
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
        self._expected = 1
        """Requests in the last batch: as many are awaited for the next one."""
        self._scoring = False
        self._changed = threading.Condition()

    @property
    def enabled(self) -> bool:
        """Whether requests are batched at all."""
        return self.max_rows > 1

    def submit(self, prepare: Callable[[], Features]) -> tuple[Features, Predictions]:
        """Validate one request with ``prepare`` and score it, batched with others.

        Parameters
        ----------
        prepare : callable
            Parses and validates the request: returns its features or raises; its error
            is this request's alone.

        Returns
        -------
        tuple of (DataFrame or Columns, Predictions)
            What ``prepare`` returned and its predictions, exactly as if scored alone.
        """
        if not self.enabled:
            features = prepare()
            return features, self._score(as_frame(features))
        with self._changed:
            self._arriving += 1
        try:
            features = prepare()
        except BaseException:
            with self._changed:
                self._arriving -= 1
                self._wake_scorer_when_due()
            raise
        pending = _Pending(features, time.perf_counter())
        with self._changed:
            self._arriving -= 1
            self._queue.append(pending)
            self._queued_rows += len(features)
            leader = not self._scoring
            self._scoring = True
            self._wake_scorer_when_due()
        if not leader:
            pending.woken.wait()
            leader = not pending.answer.done()  # else the scorer handed its role over
        if leader:
            try:
                while not pending.answer.done():
                    self._score_next_batch()
            finally:
                with self._changed:
                    successor = next((p for p in self._queue if not p.answer.done()), None)
                    if successor is None:
                        self._scoring = False
                    else:
                        successor.woken.set()
        return features, pending.answer.result()

    def _worth_waiting(self) -> bool:
        """Whether the scorer should wait for more requests (called holding the lock)."""
        if self._queued_rows >= self.max_rows:
            return False
        return self._arriving > 0 or len(self._queue) < self._expected

    def _wake_scorer_when_due(self) -> None:
        """Wake a scorer waiting for requests once it has nothing more to wait for.

        Only the scorer waits on the condition; waking it at every arrival would hand it
        the interpreter lock as often, for nothing (called holding the lock).
        """
        if not self._worth_waiting():
            self._changed.notify_all()

    def _score_next_batch(self) -> None:
        """Take the next batch off the queue (waiting for requests, see the module) and score it."""
        with self._changed:
            deadline = time.perf_counter() + self.max_wait
            while self._worth_waiting():
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
            self._expected = len(batch)
        started = time.perf_counter()
        try:
            self._answer(batch)
        except BaseException as error:  # e.g. KeyboardInterrupt: no follower may wait forever
            for pending in batch:
                if not pending.answer.done():
                    pending.answer.set_exception(error)
            raise
        finally:
            for pending in batch:
                pending.woken.set()
        if self._observe is not None:
            self._observe(len(batch), rows, [started - pending.queued for pending in batch])

    def _answer(self, batch: list[_Pending]) -> None:
        """Score ``batch`` in one call and give each request its rows; never raises."""
        if len(batch) > 1:
            parts = [pending.features for pending in batch]
            try:
                predictions: Predictions | None = self._score(combine(parts))
            except Exception:  # each request is scored again, on its own, below
                predictions = None
            if predictions is not None:
                for pending, part in zip(batch, split(predictions, [len(p) for p in parts])):
                    pending.answer.set_result(part)
                return
        for pending in batch:
            try:
                pending.answer.set_result(self._score(as_frame(pending.features)))
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
