"""Command-line interface: ``train``, ``evaluate``, ``validate``, ``predict``, ``info``.

Only click and the standard library are imported at start-up; pandas, scikit-learn and
friends are imported inside the commands that need them, so ``--help`` stays fast.
Optional subpackages add their own commands (see :data:`OPTIONAL_COMMANDS`).
Expected failures (bad config, data or model files) print one line on stderr and exit 1;
``--log-level debug`` adds the traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import logging
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from . import DISTRIBUTION, __version__
from .errors import ProjectError
from .logging_config import FORMAT_ENV, FORMATS, LEVEL_ENV, LEVELS
from .options import DEFAULT_MODELS_DIR, load_model, model_option, resolve_model_dir

logger = logging.getLogger(__name__)

DEFAULT_REPORTS_DIR = Path("reports")
_VERBOSITY = ("error", "warning", "info", "debug")
OPTIONAL_COMMANDS = (".service.cli",)
"""Modules of optional subpackages whose ``COMMANDS`` join the CLI when the subpackage exists."""


sep_option = click.option(
    "--sep",
    default=None,
    metavar="CHAR",
    help="CSV separator [default: detected from each file's header line: comma, "
    "semicolon, tab or vertical bar].",
)


class Terminated(BaseException):
    """SIGTERM arrived: unwind, so that every cleanup runs, and exit 143."""


class Group(click.Group):
    """A click group that turns expected errors into a one-line message and exit code 1.

    While a command runs, SIGTERM (``docker stop``, ``kill``) raises :class:`Terminated` in
    it, so temporary files and directories are removed before the exit (code 143, 128 plus
    the signal number) instead of being left behind by an abrupt death.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with _terminate_on_sigterm():
                return super().invoke(ctx)
        except (ProjectError, OSError) as exc:
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                traceback.print_exc()
            click.echo(f"Error: {_one_line(exc)}", err=True)
            ctx.exit(1)
        except Terminated:
            click.echo("Error: terminated by SIGTERM", err=True)
            ctx.exit(128 + signal.SIGTERM)


@contextlib.contextmanager
def _terminate_on_sigterm() -> Iterator[None]:
    """Raise :class:`Terminated` on SIGTERM within the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the cleanup
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror}: {exc.filename}"
    return " ".join(str(exc).split())


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name=DISTRIBUTION)
@click.option(
    "--log-level",
    type=click.Choice(LEVELS, case_sensitive=False),
    default=None,
    help=f"Logging level [env: {LEVEL_ENV}; default: info]. 'debug' also shows tracebacks.",
)
@click.option(
    "--log-format",
    type=click.Choice(FORMATS, case_sensitive=False),
    default=None,
    help=f"Log line format [env: {FORMAT_ENV}; default: text].",
)
@click.option("-v", "--verbose", count=True, help="More logging (repeatable).")
@click.option("-q", "--quiet", count=True, help="Less logging (repeatable).")
def main(log_level: str | None, log_format: str | None, verbose: int, quiet: int) -> None:
    """Train, evaluate, validate and score the model."""
    from .logging_config import configure_logging, resolve

    try:
        level, fmt = resolve(log_level, log_format)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if verbose or quiet:
        index = _VERBOSITY.index(level) + verbose - quiet
        level = _VERBOSITY[max(0, min(index, len(_VERBOSITY) - 1))]
    configure_logging(level, fmt)


@main.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML config [default: the bundled config, which trains on the sample data].",
)
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=None,
    help="Training CSV. Without --config, features are inferred from its columns, 20% of "
    "its rows are held out for evaluation and the quality gate is: beat the dummy baseline.",
)
@click.option(
    "--target", default=None, help="Target column name (required with --data and no --config)."
)
@click.option(
    "--task",
    type=click.Choice(["classification", "regression"]),
    default=None,
    help="What to learn [default: model.task of the config].",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=DEFAULT_MODELS_DIR,
    show_default=True,
    help="Directory that receives the new versioned artifact.",
)
@sep_option
def train(
    config_path: Path | None,
    data: Path | None,
    target: str | None,
    task: str | None,
    output: Path,
    sep: str | None,
) -> None:
    """Train a model and save it as a new artifact; prints the artifact's path."""
    from .config import load_config
    from .workflows import train_and_save

    config = load_config(config_path)
    if data is not None and config_path is None:
        if target is None:
            raise click.UsageError("--data without --config needs --target (the column to learn)")
        config = _for_own_csv(config, data, target)
    config = config.with_overrides(
        data__train=data, data__target=target, model__task=task, data__sep=sep
    )
    artifact_dir = train_and_save(config, output)
    click.echo(str(artifact_dir))


def _for_own_csv(config: Any, data: Path, target: str) -> Any:
    """A config for the user's own CSV: the bundled config's model and runtime, nothing else.

    Its columns, holdout and absolute quality thresholds describe the sample data, so they
    are dropped: features are inferred from the CSV, a holdout is split off it and the
    quality gate is the task's default (beat the dummy baseline by a margin).
    """
    from .config import Config, DataConfig

    return Config(
        data=DataConfig(train=data, target=target),
        model=config.model,
        runtime=config.runtime,
    )


@main.command()
@model_option
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=None,
    help="Labelled CSV [default: the holdout the model was trained with].",
)
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
    """Write metrics.json, plots and a model card for a model on labelled data."""
    from .workflows import evaluate_artifact

    artifact = load_model(model_dir)
    report_dir = output or DEFAULT_REPORTS_DIR / artifact.version
    run = evaluate_artifact(artifact, data, report_dir, sep=sep)
    for name, value in run.evaluation.metrics.items():
        baseline = run.evaluation.baseline.get(name)
        click.echo(f"{name:>17}: {_fmt(value)}  (baseline {_fmt(baseline)})")
    click.echo(str(report_dir))


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


@main.command()
@model_option
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=None,
    help="Labelled CSV [default: the holdout the model was trained with].",
)
@sep_option
def validate(model_dir: Path | None, data: Path | None, sep: str | None) -> None:
    """Quality gate: exit 0 if the model meets its thresholds, 1 with the reasons if not.

    By default the model must beat the dummy baseline on the task's primary metric by a
    margin; absolute thresholds apply only when the training config set them.
    """
    from .workflows import evaluate_artifact

    run = evaluate_artifact(load_model(model_dir), data, sep=sep)
    for line in run.gate.checks:
        click.echo(line)
    for note in run.evaluation.notes:
        click.echo(f"NOTE {note}")
    if not run.gate.passed:
        click.echo(f"Quality gate FAILED ({len(run.gate.failures)} check(s))", err=True)
        sys.exit(1)
    click.echo("Quality gate passed")


@main.command()
@model_option
@click.option(
    "--input",
    "input_path",
    type=click.Path(path_type=Path),
    required=True,
    help="CSV of rows to score.",
)
@click.option(
    "--output",
    "output_path",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    required=True,
    help="CSV to write (one row per input row, same order): a file is replaced atomically "
    "(never the input), '-' is stdout, a device or FIFO is written through.",
)
@click.option(
    "--chunksize",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Rows per chunk; memory use depends on this, not on the file size.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Native threads for the model; 0 chooses from the chunk size and the CPUs.",
)
@sep_option
def predict(
    model_dir: Path | None,
    input_path: Path,
    output_path: Path,
    chunksize: int,
    threads: int,
    sep: str | None,
) -> None:
    """Score a CSV file of any size in constant memory."""
    from .predict import predict_csv

    artifact = load_model(model_dir)
    if sys.stderr.isatty() and input_path.is_file():
        with click.progressbar(
            length=input_path.stat().st_size, label="Scoring", file=sys.stderr
        ) as bar:
            seen = 0

            def advance(position: int) -> None:
                nonlocal seen
                bar.update(position - seen)
                seen = position

            rows = predict_csv(
                artifact,
                input_path,
                output_path,
                chunksize=chunksize,
                on_progress=advance,
                threads=threads,
                sep=sep,
            )
    else:
        rows = predict_csv(
            artifact, input_path, output_path, chunksize=chunksize, threads=threads, sep=sep
        )
    click.echo(f"{rows} rows -> {output_path}", err=str(output_path) == "-")


@main.command()
@model_option
@click.option("--json", "as_json", is_flag=True, help="Print the raw metadata as JSON.")
def info(model_dir: Path | None, as_json: bool) -> None:
    """Show a model artifact's metadata without loading the model."""
    from .artifact import read_metadata

    path = resolve_model_dir(model_dir)
    metadata = read_metadata(path)
    if as_json:
        click.echo(json.dumps(metadata.to_dict(), indent=2))
        return
    versions = metadata.versions
    lines = [
        ("Artifact", str(path)),
        ("Version", metadata.model_version),
        ("Model", f"{metadata.model_class} ({metadata.task})"),
        ("Created", metadata.created_at),
        ("Git commit", metadata.git_commit or "unknown"),
        ("Package", versions.get("package")),
        ("scikit-learn", versions.get("scikit-learn")),
        ("Python", versions.get("python")),
        ("Training data", metadata.training.path),
        ("Data SHA-256", metadata.training.sha256),
        ("Training rows", metadata.training.rows),
        ("Target", metadata.schema.target.name),
        ("Features", ", ".join(metadata.schema.feature_names)),
    ]
    holdout = metadata.metrics.holdout if metadata.metrics is not None else {}
    lines += [(f"Holdout {name}", _fmt(value)) for name, value in holdout.items()]
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        click.echo(f"{label.ljust(width)}  {value}")


def _add_optional_commands(group: click.Group) -> None:
    """Add the commands of optional subpackages that this project includes."""
    for name in OPTIONAL_COMMANDS:
        parent = importlib.util.resolve_name(name, __package__).rpartition(".")[0]
        if importlib.util.find_spec(parent) is None:
            continue
        module = importlib.import_module(name, __package__)
        for command in module.COMMANDS:
            group.add_command(command)


_add_optional_commands(main)


if __name__ == "__main__":  # pragma: no cover
    main()
