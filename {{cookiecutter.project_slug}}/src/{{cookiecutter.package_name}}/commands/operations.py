"""Commands that watch a model in production: ``monitor``, ``staleness``, ``readiness``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import ProjectError
from ..options import (
    DEFAULT_REPORTS_DIR,
    format_metric,
    load_model,
    model_option,
    resolve_model_dir,
    sep_option,
)


@click.command()
@model_option
@click.option(
    "--predictions",
    "log_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Prediction log directory (the HTTP service's --prediction-log), with feedback.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the report as JSON to this file.",
)
def monitor(model_dir: Path | None, log_dir: Path, as_json: bool, output: Path | None) -> None:
    """Online metrics: served predictions joined with delayed labels, next to the holdout's."""
    from ..files import output_file
    from ..monitoring import monitor as join_logs

    report = join_logs(log_dir, resolve_model_dir(model_dir))
    text = json.dumps(report.to_dict(), indent=2)
    if output is not None:
        with output_file(output) as out:
            out.write(text + "\n")
    if as_json:
        click.echo(text)
        return
    click.echo(f"Model {report.model_version} ({report.task})")
    names = list(dict.fromkeys([*report.offline, *report.online]))
    if names:
        width = max(len(name) for name in names)
        click.echo(f"{'metric'.ljust(width)}  {'offline':>10}  {'online':>10}")
        for name in names:
            offline = format_metric(report.offline.get(name))
            online = format_metric(report.online.get(name))
            click.echo(f"{name.ljust(width)}  {offline:>10}  {online:>10}")
    for name, count in report.counts.items():
        click.echo(f"{name}: {count}")


@click.command()
@model_option
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    required=True,
    help="Recent labelled CSV to compare the models on.",
)
@click.option(
    "--against",
    type=click.Path(path_type=Path),
    default=None,
    help="Another model directory (an older or a candidate model) to compare with.",
)
@click.option(
    "--retrain",
    is_flag=True,
    help="Compare with the current model retrained on part of the recent rows.",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=0.02,
    show_default=True,
    help="Stale when the comparison beats the current model by more than this on the "
    "primary metric.",
)
@click.option(
    "--holdout-fraction",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.3,
    show_default=True,
    help="With --retrain: share of the recent rows both models are scored on.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_REPORTS_DIR / "staleness.json",
    show_default=True,
    help="JSON report.",
)
@sep_option
def staleness(
    model_dir: Path | None,
    data: Path,
    against: Path | None,
    retrain: bool,
    tolerance: float,
    holdout_fraction: float,
    output: Path,
    sep: str | None,
) -> None:
    """Staleness: exit 1 when a fresher model does better on recent data.

    Compares the current model (--model) on recent labelled rows with another model
    (--against) or with itself retrained on part of those rows (--retrain), on the
    primary metric.
    """
    from ..artifact import load_artifact
    from ..staleness import against_artifact, against_retrained, write_staleness

    if (against is None) == (not retrain):
        raise click.UsageError("give exactly one of --against MODEL_DIR and --retrain")
    current = load_model(model_dir)
    if against is not None:
        result = against_artifact(current, load_artifact(against), data, tolerance, sep=sep)
    else:
        result = against_retrained(
            current, data, tolerance, holdout_fraction=holdout_fraction, sep=sep
        )
    for score in (result.current, result.comparison):
        value = format_metric(score.metrics.get(result.metric))
        click.echo(f"{score.role:>9}: {result.metric} = {value}  ({score.version})")
    click.echo(f"    delta: {result.delta:+.4f} (compared minus current)")
    click.echo(f"      age: {result.age_days:.1f} days (trained {result.current.created_at})")
    write_staleness(result, output)
    click.echo(str(output))
    if result.stale:
        click.echo(result.summary(), err=True)
        sys.exit(1)
    click.echo(result.summary())


@click.command()
@click.option(
    "--scorecard",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("readiness.toml"),
    show_default=True,
    help="The scorecard; evidence paths are relative to its directory.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_REPORTS_DIR / "readiness.md",
    show_default=True,
    help="Where to write the Markdown report.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the section and final scores as JSON."
)
@click.option("--no-floor", is_flag=True, help="Report only: exit 0 even below the floor.")
def readiness(scorecard: Path, output: Path, as_json: bool, no_floor: bool) -> None:
    """Score production readiness (the ML Test Score) from the evidence in the scorecard.

    Every cited test must be collected by pytest, every CI job, command and document must
    exist; unverified evidence earns nothing. Exits 1 when the score is below the floor.
    """
    from ..readiness import load_scorecard, render_table, verify, write_markdown

    root = click.get_current_context().find_root().command
    commands = set(root.commands) if isinstance(root, click.Group) else set()
    result = verify(load_scorecard(scorecard), commands=commands)
    write_markdown(result, output)
    if as_json:
        click.echo(json.dumps(result.to_json()))
    else:
        click.echo(render_table(result))
        click.echo(f"Report -> {output}")
    if result.below_floor and not no_floor:
        raise ProjectError(result.floor_message())


COMMANDS = (monitor, staleness, readiness)
