"""Native threads: one for small jobs, the usable CPUs for big ones, never more."""

import os

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from ..threads import SMALL_JOB_ROWS, limited_threads, thread_count, usable_cpus


def test_usable_cpus_follow_the_affinity_mask(monkeypatch):
    assert 1 <= usable_cpus() <= (os.cpu_count() or 1)
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert usable_cpus() == 1


@pytest.mark.parametrize(
    ("rows", "configured", "expected"),
    [
        (10, 0, 1),
        (SMALL_JOB_ROWS - 1, 0, 1),
        (SMALL_JOB_ROWS, 0, "cpus"),
        (10, 3, 3),
        (10**7, 2, 2),
    ],
)
def test_thread_count(rows, configured, expected):
    wanted = usable_cpus() if expected == "cpus" else expected
    assert thread_count(rows, configured) == wanted


def native_pools():
    return {
        pool["filepath"]: pool["num_threads"]
        for pool in threadpool_info()
        if pool["user_api"] in ("openmp", "blas")
    }


def test_limited_threads_limits_the_native_pools():
    import numpy  # noqa: F401 - loads BLAS
    import sklearn.ensemble  # noqa: F401 - loads the OpenMP runtime

    # The tests run with OMP_NUM_THREADS=1: widen the pools first so the limit shows.
    with threadpool_limits(limits=2):
        before = native_pools()
        assert before and set(before.values()) == {2}
        with limited_threads(1):
            assert set(native_pools().values()) == {1}
        assert native_pools() == before, "the limit ends with the block"
