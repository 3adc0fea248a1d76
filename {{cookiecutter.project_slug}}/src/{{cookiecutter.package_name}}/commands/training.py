"""Commands that make and judge a model: ``train``, ``tune``, ``evaluate``, ``validate``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..options import (
    DEFAULT_MODELS_DIR,
    DEFAULT_REPORTS_DIR,
    format_metric,
    load_model,
    model_option,
    run_observer,
    sep_option,
    training_options,
)

labelled_data_option = click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=None,
    help="Labelled CSV [default: the holdout the model was trained with].",
)
"""``--data`` of ``evaluate`` and ``validate``: the rows a model is judged on."""


@click.command()
@training_options
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=DEFAULT_MODELS_DIR,
    show_default=True,
    help="Directory that receives the new versioned artifact.",
)
def train(
    config_path: Path | None,
    data: Path | None,
    target: str | None,
    task: str | None,
    output: Path,
    sep: str | None,
) -> None:
    """Train a model and save it as a new artifact; prints the artifact's path."""
    from ..workflows import train_and_save

    config = _training_config(config_path, data, target, task, sep)
    artifact_dir = train_and_save(config, output, observer=run_observer())
    click.echo(str(artifact_dir))


def _training_config(
    config_path: Path | None,
    data: Path | None,
    target: str | None,
    task: str | None,
    sep: str | None,
) -> Any:
    """The config that :func:`training_options` describe."""
    from ..config import load_config

    config = load_config(config_path)
    if data is not None and config_path is None:
        if target is None:
            raise click.UsageError("--data without --config needs --target (the column to learn)")
        config = _for_own_csv(config, data, target)
    return config.with_overrides(
        data__train=data, data__target=target, model__task=task, data__sep=sep
    )


def _for_own_csv(config: Any, data: Path, target: str) -> Any:
    """A config for the user's own CSV: the bundled config's model and runtime, nothing else.

    Its columns, holdout and absolute quality thresholds describe the sample data, so they
    are dropped: features are inferred from the CSV, a holdout is split off it and the
    quality gate is the task's default (beat the dummy baseline by a margin).
    """
    from ..config import Config, DataConfig

    return Config(
        data=DataConfig(train=data, target=target),
        model=config.model,
        runtime=config.runtime,
    )


@click.command()
@training_options
@click.option(
    "--n-iter",
    type=click.IntRange(min=1),
    default=None,
    help="Candidates per learner family [default: tune.n_iter of the config, 10].",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_REPORTS_DIR / "tune",
    show_default=True,
    help="Directory for search.csv and tuned.toml.",
)
def tune(
    config_path: Path | None,
    data: Path | None,
    target: str | None,
    task: str | None,
    n_iter: int | None,
    output: Path,
    sep: str | None,
) -> None:
    """Search hyperparameters of boosting and a linear model; write the winner's config.

    Each learner family's candidates are cross-validated on the training rows (a holdout
    stays untouched); the family with the best score wins. Prints the ranking and the
    path of tuned.toml, which `train --config` trains.
    """
    from ..tune import tune_and_write

    config = _training_config(config_path, data, target, task, sep)
    result, table_path, tuned_path = tune_and_write(
        config, output, n_iter=n_iter, observer=run_observer()
    )
    click.echo(f"cross-validated {result.scoring} on {result.n_rows} rows:")
    for family, score in sorted(result.scores.items(), key=lambda item: -item[1]):
        rows = result.table[result.table["family"] == family]
        marker = "  <- best" if family == result.best_family else ""
        click.echo(f"{family:>22}: {score:.4f}  ({len(rows)} candidates){marker}")
    click.echo(f"search table: {table_path}")
    click.echo(str(tuned_path))


@click.command()
@model_option
@labelled_data_option
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Report directory [default: {DEFAULT_REPORTS_DIR}/<model version>].",
)
@sep_option
def evaluate(
    model_dir: Path | None, data: Path | None, output: Path | None, sep: str | None
) -> None:
    """Write metrics.json, plots, a model card, report.html and feature importance."""
    from ..workflows import evaluate_artifact

    artifact = load_model(model_dir)
    report_dir = output or DEFAULT_REPORTS_DIR / artifact.version
    run = evaluate_artifact(artifact, data, report_dir, sep=sep, observer=run_observer())
    for name, value in run.evaluation.metrics.items():
        baseline = run.evaluation.baseline.get(name)
        click.echo(f"{name:>17}: {format_metric(value)}  (baseline {format_metric(baseline)})")
    click.echo(str(report_dir))


@click.command()
@model_option
@labelled_data_option
@sep_option
def validate(model_dir: Path | None, data: Path | None, sep: str | None) -> None:
    """Quality gate: exit 0 if the model meets its thresholds, 1 with the reasons if not.

    By default the model must beat the dummy baseline on the task's primary metric by a
    margin; absolute thresholds apply only when the training config set them.
    """
    from ..workflows import evaluate_artifact

    run = evaluate_artifact(load_model(model_dir), data, sep=sep)
    for line in run.gate.checks:
        click.echo(line)
    for note in run.evaluation.notes:
        click.echo(f"NOTE {note}")
    if not run.gate.passed:
        click.echo(f"Quality gate FAILED ({len(run.gate.failures)} check(s))", err=True)
        sys.exit(1)
    click.echo("Quality gate passed")


COMMANDS = (train, tune, evaluate, validate)
