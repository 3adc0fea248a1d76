"""The ``serve`` command, added to the project's CLI because this subpackage exists.

Only click is imported here; gunicorn, Flask and the model load when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..options import model_option, resolve_model_dir
from . import MICROBATCH_MAX_ROWS as DEFAULT_MAX_ROWS
from . import MICROBATCH_MAX_WAIT_MS as DEFAULT_MAX_WAIT_MS

_PREFIX = __name__.partition(".")[0].upper()
DEFAULT_THREADS = 16
"""Request threads per worker: up to this many concurrent requests share one model call."""


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
    default=DEFAULT_THREADS,
    show_default=True,
    help="Threads per worker that run requests; slow clients never hold one (they are "
    "read ahead in the worker's event loop). Concurrent requests of a worker are scored "
    "together (micro-batching), so more threads mean larger batches.",
)
@click.option(
    "--batch-max-rows",
    type=click.IntRange(min=0),
    default=None,
    help="Most rows of concurrent requests scored in one model call; 0 scores every "
    f"request alone [default: ${_PREFIX}_MICROBATCH_MAX_ROWS, else {DEFAULT_MAX_ROWS}].",
)
@click.option(
    "--batch-max-wait-ms",
    type=click.FloatRange(min=0),
    default=None,
    help="Most milliseconds a batch waits for more requests: for those already being read "
    "and, under load, for as many as the last batch held; a request arriving after a batch "
    f"of one never waits [default: ${_PREFIX}_MICROBATCH_MAX_WAIT_MS, else "
    f"{DEFAULT_MAX_WAIT_MS:g}].",
)
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Seconds before a silent worker is restarted (also the graceful-shutdown grace).",
)
@click.option(
    "--prediction-log",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Log every scored row with an id to JSON lines files in this directory (one per "
    "worker) and accept delayed labels on POST /feedback, for `monitor` "
    f"[default: ${_PREFIX}_PREDICTION_LOG_DIR, else off].",
)
@click.option(
    "--candidate",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A candidate model artifact to score every batch beside the live model, in the "
    "background; clients get the live model's answers, /metrics the disagreement. It must "
    "have the live model's data contract.",
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
    batch_max_rows: int | None,
    batch_max_wait_ms: float | None,
    prediction_log: Path | None,
    candidate: Path | None,
    dev: bool,
) -> None:
    """Serve the model over HTTP with gunicorn."""
    from .server import run_dev_server, run_gunicorn

    model_path = resolve_model_dir(model_dir).resolve()
    config: dict[str, int | float | str] = {}
    if prediction_log is not None:
        config["PREDICTION_LOG_DIR"] = str(prediction_log.resolve())
    if candidate is not None:
        from ..artifact import read_metadata
        from .shadow import check_candidate

        # Refused here, in one line, before any worker starts.
        check_candidate(
            read_metadata(model_path).schema, read_metadata(candidate).schema, candidate
        )
        config["CANDIDATE_PATH"] = str(candidate.resolve())
    if batch_max_rows is not None:
        config["MICROBATCH_MAX_ROWS"] = batch_max_rows
    if batch_max_wait_ms is not None:
        config["MICROBATCH_MAX_WAIT_MS"] = batch_max_wait_ms
    if dev:
        run_dev_server(model_path, host, port, config)
    else:
        run_gunicorn(
            model_path,
            host,
            port,
            workers=workers,
            threads=threads,
            timeout=timeout,
            config=config,
        )


COMMANDS = (serve,)
"""The commands this subpackage adds to the CLI."""
