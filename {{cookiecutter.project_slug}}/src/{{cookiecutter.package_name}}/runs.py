"""Run observers: how ``train`` and ``evaluate`` report to an experiment tracker, if any.

The workflows (:mod:`.workflows`) describe each run to a :class:`RunObserver`: they start
it, log its parameters, metrics and files, and end it. The base class ignores everything,
so the core tracks nothing and imports no tracker; an entry point that wants tracking
passes an observer that records the run in an experiment tracker (projects made with
experiment tracking have one in their ``tracking`` subpackage).

Tracking is a convenience, the model is the product: :func:`observed_run` guards every
call, so an observer that fails (a tracking server that is down, a read-only store, a
tracker that is not installed) logs one warning and is not called again for that run,
and the command carries on as if nothing were tracked.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


class RunObserver:
    """Receives what one run did. This base class ignores all of it (nothing is tracked).

    Subclasses override the methods; any of them may raise, which :func:`observed_run`
    turns into a warning.
    """

    def start(self, kind: str, tags: Mapping[str, str]) -> str | None:
        """Begin a run of ``kind`` (``train``, ``evaluate``...) and return its id.

        ``None`` means that nothing is tracked; the other methods are then not called.
        """
        return None

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record the run's parameters (values are strings, numbers or booleans)."""

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        """Record the run's metrics (finite numbers only)."""

    def log_files(self, directory: Path, folder: str = "") -> None:
        """Record every file of ``directory``, under ``folder`` of the run's files."""

    def end(self, succeeded: bool) -> None:
        """Close the run, as succeeded or failed."""


class ObservedRun:
    """One run as the workflows see it: an observer whose failures never reach them."""

    def __init__(self, observer: RunObserver) -> None:
        self._observer = observer
        self.id: str | None = None
        self._failed = False

    @property
    def active(self) -> bool:
        """Whether the run is tracked (so that producing files for it is worth the time)."""
        return self.id is not None and not self._failed

    def attempt(self, action: str, call: Callable[[], Any]) -> Any:
        """Return ``call()``; if it raises, warn once, stop tracking this run, return None."""
        if self._failed:
            return None
        try:
            return call()
        except Exception as exc:  # whatever the tracker raises, the command carries on
            self._failed = True
            reason = " ".join(str(exc).split()) or type(exc).__name__
            logger.warning(
                "experiment tracking failed (%s: %s); this run is not tracked any further",
                action,
                reason[:500],
            )
            logger.debug("tracking failure", exc_info=True)
            return None

    def start(self, kind: str, tags: Mapping[str, str]) -> None:
        self.id = self.attempt("start", lambda: self._observer.start(kind, dict(tags)))

    def log_params(self, params: Mapping[str, Any]) -> None:
        if self.active and params:
            self.attempt("log_params", lambda: self._observer.log_params(dict(params)))

    def log_metrics(self, metrics: Mapping[str, float | None]) -> None:
        finite = {
            name: float(value)
            for name, value in metrics.items()
            if value is not None and math.isfinite(value)
        }
        if self.active and finite:
            self.attempt("log_metrics", lambda: self._observer.log_metrics(finite))

    def log_files(self, directory: Path, folder: str = "") -> None:
        if self.active:
            self.attempt("log_files", lambda: self._observer.log_files(Path(directory), folder))

    def end(self, succeeded: bool) -> None:
        """Close the run; one whose tracking failed is closed as failed, without a warning."""
        if self.active:
            self.attempt("end", lambda: self._observer.end(succeeded))
        elif self.id is not None:
            try:
                self._observer.end(False)  # so that the tracker does not show it running
            except Exception:  # already warned about this run
                logger.debug("closing the failed run failed too", exc_info=True)


@contextmanager
def observed_run(
    observer: RunObserver | None, kind: str, tags: Mapping[str, str] | None = None
) -> Iterator[ObservedRun]:
    """Start a run of ``observer`` (none: nothing is tracked), ended when the block exits.

    The run ends as failed when the block raises; the exception propagates unchanged.
    """
    run = ObservedRun(observer or RunObserver())
    run.start(kind, tags or {})
    try:
        yield run
    except BaseException:
        run.end(succeeded=False)
        raise
    run.end(succeeded=True)
