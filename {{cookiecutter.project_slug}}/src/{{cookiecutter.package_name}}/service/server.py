"""Run the service: gunicorn in production, Flask's development server on a laptop.

Nothing here imports the app at module level: gunicorn workers build it after they
fork, once :data:`~.MULTIPROCESS_ENV` is set.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from threadpoolctl import threadpool_limits

from .. import DISTRIBUTION
from ..logging_config import LEVELS, JsonFormatter, logging_config
from . import MULTIPROCESS_ENV
from .worker import ServiceWorker

logger = logging.getLogger(__name__)

PROC_NAME = DISTRIBUTION
SHARED_MEMORY = Path("/dev/shm")
# Settings that only newer gunicorn releases know; skipped on older ones.
_OPTIONAL_SETTINGS = frozenset({"control_socket_disable"})
_limited_threads = threading.local()


class ServiceApplication(BaseApplication):
    """gunicorn serving the app; every worker loads its own copy of the model.

    Parameters
    ----------
    model_path : Path
        The artifact directory to serve.
    options : dict
        gunicorn settings (see :func:`gunicorn_options`).
    """

    def __init__(
        self, model_path: Path, options: dict[str, Any], config: dict[str, Any] | None = None
    ) -> None:
        self.model_path = model_path
        self.options = options
        self.config = config or {}
        super().__init__()

    def load_config(self) -> None:
        """Apply :attr:`options` (called by gunicorn)."""
        for key, value in self.options.items():
            if key in self.cfg.settings or key not in _OPTIONAL_SETTINGS:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the app in a worker (called by gunicorn after the fork)."""
        from .app import create_app

        _limit_native_threads()
        return create_app(self.model_path, self.config)


def run_gunicorn(
    model_path: Path,
    host: str,
    port: int,
    *,
    workers: int | None,
    threads: int,
    timeout: int,
    config: dict[str, Any] | None = None,
) -> None:
    """Serve with gunicorn until SIGTERM or SIGINT, then shut down gracefully.

    Metrics are shared between workers through ``PROMETHEUS_MULTIPROC_DIR``: the
    directory given in the environment (which must be emptied between runs), or else a
    temporary one created for this run and removed after it.

    Parameters
    ----------
    model_path : Path
        The artifact directory to serve.
    host : str
        Interface to listen on.
    port : int
        Port to listen on.
    workers : int or None
        Worker processes; the number of CPUs when None.
    threads : int
        Threads per worker that handle requests once they have arrived (see
        :class:`~.worker.ServiceWorker`, which reads them ahead without a thread).
    timeout : int
        Seconds before a silent worker is restarted, and the graceful-shutdown grace.
    config : dict, optional
        App config values (for example ``MICROBATCH_MAX_ROWS``), over the environment's.
    """
    options = gunicorn_options(host, port, workers=workers, threads=threads, timeout=timeout)
    with _metrics_directory():
        ServiceApplication(model_path, options, config).run()


def run_dev_server(
    model_path: Path, host: str, port: int, config: dict[str, Any] | None = None
) -> None:
    """Serve with Flask's single-process development server, for local use only."""
    from .app import create_app

    logger.warning(
        "starting Flask's development server: not for production; "
        "run `serve` without --dev to use gunicorn"
    )
    app = create_app(model_path, config)
    app.run(host=host, port=port, debug=app.debug, use_reloader=False)


def gunicorn_options(
    host: str, port: int, *, workers: int | None, threads: int, timeout: int
) -> dict[str, Any]:
    """gunicorn settings for a CPU-bound model; arguments as in :func:`run_gunicorn`.

    The worker is :class:`~.worker.ServiceWorker`, gunicorn's threaded worker that reads
    requests ahead in its event loop: slow clients cost a socket, never a thread.
    """
    options: dict[str, Any] = {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers or os.cpu_count() or 1,
        "threads": threads,
        "worker_class": ServiceWorker,
        "timeout": timeout,
        "graceful_timeout": timeout,
        "keepalive": 5,
        "proc_name": PROC_NAME,
        "logconfig_dict": _logging_config(),
        "pre_request": _pre_request,
        "child_exit": _child_exit,
        # Runtime management goes through signals; no control socket in $HOME.
        "control_socket_disable": True,
    }
    if SHARED_MEMORY.is_dir():
        # Worker heartbeats on a memory filesystem never block on disk I/O.
        options["worker_tmp_dir"] = str(SHARED_MEMORY)
    return options


def _logging_config() -> dict[str, Any]:
    """The shared logging config, at the level and in the format the CLI set up.

    gunicorn's own access log is silenced: the app writes one line per request, with the
    request id and model version.
    """
    root = logging.getLogger()
    level = logging.getLevelName(root.level).lower()
    fmt = None
    if root.handlers:
        json_lines = any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers)
        fmt = "json" if json_lines else "text"
    config = logging_config(level if level in LEVELS else None, fmt)
    config["loggers"].update(
        {
            "gunicorn.error": {
                "level": config["root"]["level"],
                "handlers": [],
                "propagate": True,
            },
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            "werkzeug": {"level": "INFO"},
        }
    )
    return config


def _pre_request(worker: Any, request: Any) -> None:
    """gunicorn hook, in the thread about to handle a request."""
    _limit_native_threads()


def _limit_native_threads() -> None:
    """Give OpenMP and BLAS one thread in the calling thread (once per thread).

    The workers already use every CPU; more native threads would only compete for them.
    OpenMP's limit holds for the thread that sets it, so every request thread sets it.
    """
    if not getattr(_limited_threads, "done", False):
        threadpool_limits(limits=1)
        _limited_threads.done = True


def _child_exit(server: Any, worker: Any) -> None:
    """gunicorn hook, in the master: forget a dead worker's live gauges.

    Its counters and histograms stay: they still count in the totals. A failure is logged
    and never stops the master from replacing the worker.
    """
    # Imported here, not at the top: prometheus_client must see MULTIPROCESS_ENV first.
    from prometheus_client import multiprocess

    try:
        multiprocess.mark_process_dead(worker.pid)
    except Exception:
        logger.exception("could not mark worker %s dead in the metrics", worker.pid)


@contextmanager
def _metrics_directory() -> Iterator[str]:
    """The metrics directory of this run, set in the environment before workers fork.

    Only the process that created the directory removes it. gunicorn workers are forks of
    the master, and a worker that exits (SIGTERM, a timeout, ``max_requests``) leaves by
    raising ``SystemExit`` through the stack it inherited, this context manager included:
    without the owner check, the first worker to exit deleted the directory every other
    worker still writes to, and every request failed from then on.
    """
    configured = os.environ.get(MULTIPROCESS_ENV)
    if configured:
        os.makedirs(configured, exist_ok=True)
        yield configured
        return
    owner = os.getpid()
    directory = tempfile.mkdtemp(prefix=f"{PROC_NAME}-metrics-")
    os.environ[MULTIPROCESS_ENV] = directory
    try:
        yield directory
    finally:
        if os.getpid() == owner:
            del os.environ[MULTIPROCESS_ENV]
            shutil.rmtree(directory, ignore_errors=True)
