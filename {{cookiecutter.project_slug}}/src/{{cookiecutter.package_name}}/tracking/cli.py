"""The ``runs`` command, and the run observer the core commands report to.

Imported when the command line starts, so only click is imported here; MLflow is imported
when a run is logged or listed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click

from ..runs import RunObserver


def run_observer() -> RunObserver:
    """The observer ``train`` and ``evaluate`` report their runs to: MLflow's."""
    from .observer import MlflowObserver

    return MlflowObserver()


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """An unreadable store or an unknown run: ``Error: ...`` on one line, exit code 1."""
    from . import TrackingError

    try:
        yield
    except TrackingError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(invoke_without_command=True)
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Runs to show."
)
@click.option("--kind", default=None, help="Only runs of this kind (train, evaluate...).")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.pass_context
def runs(ctx: click.Context, limit: int, kind: str | None, as_json: bool) -> None:
    """List the latest tracked runs with their metrics and the parameters that vary.

    Runs are read from MLFLOW_TRACKING_URI, by default the project's SQLite store
    (mlruns.db). A run is named by its id or any unique start of it.
    """
    if ctx.invoked_subcommand is not None:
        return
    from .store import format_table, recent_runs, runs_table

    with _one_line_errors():
        found = recent_runs(limit=limit, kind=kind)
    if as_json:
        click.echo(json.dumps([run.to_dict() for run in found], indent=2))
    elif not found:
        click.echo("No tracked runs yet: train a model first.")
    else:
        click.echo(format_table(runs_table(found)))


@runs.command()
@click.argument("first")
@click.argument("second")
@click.option("--json", "as_json", is_flag=True, help="Print both runs as JSON.")
def compare(first: str, second: str, as_json: bool) -> None:
    """Show two runs side by side: parameters and metrics, differences marked."""
    from .store import comparison_table, find_run, format_table

    with _one_line_errors():
        a, b = find_run(first), find_run(second)
    if as_json:
        click.echo(json.dumps({"first": a.to_dict(), "second": b.to_dict()}, indent=2))
    else:
        click.echo(format_table(comparison_table(a, b)))


COMMANDS = [runs]
"""Commands this subpackage adds to the command line."""
