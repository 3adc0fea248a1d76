"""How many native threads training and batch prediction may use.

Gradient boosting parallelises with OpenMP, which by default starts one thread per core
and spins them while waiting. On small data the threads cost more than they save, and on
a machine that is busy with other work they fight it for the cores: training the 400-row
sample took 80 s instead of 0.25 s under contention. So small jobs run on one thread, big
ones on the CPUs this process may use (its affinity mask, which containers set), never on
more; ``runtime.threads`` in the config overrides the choice.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

logger = logging.getLogger(__name__)

SMALL_JOB_ROWS = 20_000
"""Below this many rows one thread is faster than several (measured on the sample's shape)."""


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def thread_count(rows: int, configured: int = 0) -> int:
    """Threads for a job of ``rows`` rows: ``configured`` when positive, else automatic."""
    if configured > 0:
        return configured
    return 1 if rows < SMALL_JOB_ROWS else usable_cpus()


@contextmanager
def limited_threads(threads: int) -> Iterator[None]:
    """Cap OpenMP and BLAS thread pools at ``threads`` inside the block (this thread only)."""
    logger.debug("native thread pools limited to %d", threads, extra={"threads": threads})
    with threadpool_limits(limits=threads):
        yield
