"""The ``serve`` command, added to the project's CLI because this subpackage exists.

Only click is imported here; gunicorn, Flask and the model load when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..options import model_option, resolve_model_dir


@click.command()
@model_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes [default: number of CPUs].",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Threads per worker that run requests; slow clients never hold one (they are "
    "read ahead in the worker's event loop). More than 1 only helps when requests wait on "
    "I/O: scoring holds the GIL.",
)
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Seconds before a silent worker is restarted (also the graceful-shutdown grace).",
)
@click.option(
    "--dev", is_flag=True, help="Run Flask's development server instead (never in production)."
)
def serve(
    model_dir: Path | None,
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    timeout: int,
    dev: bool,
) -> None:
    """Serve the model over HTTP with gunicorn."""
    from .server import run_dev_server, run_gunicorn

    model_path = resolve_model_dir(model_dir).resolve()
    if dev:
        run_dev_server(model_path, host, port)
    else:
        run_gunicorn(model_path, host, port, workers=workers, threads=threads, timeout=timeout)


COMMANDS = (serve,)
"""The commands this subpackage adds to the CLI."""
