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
OPTIONAL_COMMANDS = (".service.cli", ".tracking.cli")
"""Modules of optional subpackages whose ``COMMANDS`` join the CLI when the subpackage exists.

A module with a ``run_observer()`` function also gets the runs of ``train`` and
``evaluate`` reported to the observer it returns (see :mod:`.runs`).
"""
_OBSERVER_FACTORIES: list[Any] = []


sep_option = click.option(
    "--sep",
    default=None,
    metavar="CHAR",
    help="CSV separator [default: detected from each file's header line: comma, "
    "semicolon, tab or vertical bar].",
)


def training_options(command: Any) -> Any:
    """``--config``, ``--data``, ``--target``, ``--task`` and ``--sep``: what to learn from.

    Shared by ``train`` and ``tune``; :func:`_training_config` turns them into a config.
    """
    options = [
        click.option(
            "--config",
            "config_path",
            type=click.Path(path_type=Path),
            default=None,
            help="TOML config [default: the bundled config, which trains on the sample data].",
        ),
        click.option(
            "--data",
            type=click.Path(path_type=Path),
            default=None,
            help="Training CSV. Without --config, features are inferred from its columns, 20% "
            "of its rows are held out for evaluation and the quality gate is: beat the dummy "
            "baseline.",
        ),
        click.option(
            "--target",
            default=None,
            help="Target column name (required with --data and no --config).",
        ),
        click.option(
            "--task",
            type=click.Choice(["classification", "regression"]),
            default=None,
            help="What to learn [default: model.task of the config].",
        ),
        sep_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


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
    from .workflows import train_and_save

    config = _training_config(config_path, data, target, task, sep)
    artifact_dir = train_and_save(config, output, observer=_run_observer())
    click.echo(str(artifact_dir))


def _training_config(
    config_path: Path | None,
    data: Path | None,
    target: str | None,
    task: str | None,
    sep: str | None,
) -> Any:
    """The config that :func:`training_options` describe."""
    from .config import load_config

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
    """Write metrics.json, plots, a model card, report.html and feature importance."""
    from .workflows import evaluate_artifact

    artifact = load_model(model_dir)
    report_dir = output or DEFAULT_REPORTS_DIR / artifact.version
    run = evaluate_artifact(artifact, data, report_dir, sep=sep, observer=_run_observer())
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
    "input_uri",
    type=click.Path(),
    required=True,
    help="Rows to score: a CSV file, or Parquet (a .parquet file or a directory of them); "
    "with --engine spark also a directory of CSV files or any Hadoop URI (s3a://, hdfs://).",
)
@click.option(
    "--output",
    "output_uri",
    type=click.Path(dir_okay=False, allow_dash=True),
    required=True,
    help="File to write (one row per input row, same order), Parquet if it ends in "
    ".parquet, else CSV: a file is replaced atomically (never the input), '-' is stdout, a "
    "device or FIFO is written through. With --engine spark: a new Parquet directory.",
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
@click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="'spark' scores on a Spark cluster (or local Spark) and writes a Parquet directory; "
    "needs the spark extra.",
)
@click.option(
    "--master",
    default=None,
    metavar="URL",
    help="Spark master with --engine spark (local[4], yarn, k8s://..., spark://...) "
    "[default: spark-submit's, else local[*]].",
)
@sep_option
def predict(
    model_dir: Path | None,
    input_uri: str,
    output_uri: str,
    chunksize: int,
    threads: int,
    engine: str,
    master: str | None,
    sep: str | None,
) -> None:
    """Score a CSV or Parquet table of any size in constant memory (or on Spark)."""
    if engine == "spark":
        _predict_on_spark(model_dir, input_uri, output_uri, chunksize, threads, master, sep)
        return
    if master is not None:
        raise click.UsageError("--master needs --engine spark")
    from .data import table_size
    from .predict import predict_csv

    input_path, output_path = Path(input_uri), Path(output_uri)
    artifact = load_model(model_dir)
    if sys.stderr.isatty() and table_size(input_path):
        with click.progressbar(
            length=table_size(input_path), label="Scoring", file=sys.stderr
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


def _predict_on_spark(
    model_dir: Path | None,
    input_uri: str,
    output_uri: str,
    chunksize: int,
    threads: int,
    master: str | None,
    sep: str | None,
) -> None:
    """``predict --engine spark``: pyspark is imported here only."""
    from .spark import predict_spark

    if output_uri == "-":
        raise click.UsageError("--engine spark writes a Parquet directory, not stdout")
    rows = predict_spark(
        resolve_model_dir(model_dir),
        input_uri,
        output_uri,
        master=master,
        batch_rows=chunksize,
        threads=threads,
        sep=sep,
    )
    click.echo(f"{rows} rows -> {output_uri}")


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


@main.command()
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
    from .files import output_file
    from .monitoring import monitor as join_logs

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
            offline, online = _fmt(report.offline.get(name)), _fmt(report.online.get(name))
            click.echo(f"{name.ljust(width)}  {offline:>10}  {online:>10}")
    for name, count in report.counts.items():
        click.echo(f"{name}: {count}")


@main.command()
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
    from .tune import tune_and_write

    config = _training_config(config_path, data, target, task, sep)
    result, table_path, tuned_path = tune_and_write(
        config, output, n_iter=n_iter, observer=_run_observer()
    )
    click.echo(f"cross-validated {result.scoring} on {result.n_rows} rows:")
    for family, score in sorted(result.scores.items(), key=lambda item: -item[1]):
        rows = result.table[result.table["family"] == family]
        marker = "  <- best" if family == result.best_family else ""
        click.echo(f"{family:>22}: {score:.4f}  ({len(rows)} candidates){marker}")
    click.echo(f"search table: {table_path}")
    click.echo(str(tuned_path))


@main.command()
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
    from .readiness import load_scorecard, render_table, verify, write_markdown

    result = verify(load_scorecard(scorecard), commands=set(main.commands))
    write_markdown(result, output)
    if as_json:
        click.echo(json.dumps(result.to_json()))
    else:
        click.echo(render_table(result))
        click.echo(f"Report -> {output}")
    if result.below_floor and not no_floor:
        raise ProjectError(result.floor_message())


@main.command()
@model_option
@click.option(
    "--input",
    "input_path",
    type=click.Path(path_type=Path),
    default=None,
    help="CSV (or Parquet) file holding the row.",
)
@click.option(
    "--row",
    "row_number",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Which data row of --input: 1 is the first row after the header.",
)
@click.option(
    "--json-row",
    default=None,
    metavar="JSON",
    help='The row as a JSON object instead of --input, e.g. \'{"age": 41, "plan": "pro"}\'; '
    "typed like a service request.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@sep_option
def explain(
    model_dir: Path | None,
    input_path: Path | None,
    row_number: int,
    json_row: str | None,
    as_json: bool,
    sep: str | None,
) -> None:
    """Show one row through every pipeline step, from raw values to the prediction.

    Steps: the raw values, the data contract's result (coercions, unseen levels, skew),
    the encoder's output per learner input, the learner's input vector and the prediction.
    """
    from .data import read_table
    from .explain import explain_row, format_explanation, parse_json_row, select_row

    if (input_path is None) == (json_row is None):
        raise click.UsageError("give either --input (with --row) or --json-row")
    artifact = load_model(model_dir)
    if input_path is not None:
        frame = read_table(input_path, text_columns=artifact.schema.text_columns(), sep=sep)
        source = f"row {row_number} of {input_path}"
        row, strict = select_row(frame, row_number, str(input_path)), False
    else:
        row, source, strict = parse_json_row(json_row or ""), "--json-row", True
    explanation = explain_row(artifact, row, source=source, strict_types=strict)
    if as_json:
        click.echo(json.dumps(explanation.to_dict(), indent=2))
    else:
        click.echo(format_explanation(explanation))


@main.command()
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
    from .artifact import load_artifact
    from .staleness import against_artifact, against_retrained, write_staleness

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
        value = _fmt(score.metrics.get(result.metric))
        click.echo(f"{score.role:>9}: {result.metric} = {value}  ({score.version})")
    click.echo(f"    delta: {result.delta:+.4f} (compared minus current)")
    click.echo(f"      age: {result.age_days:.1f} days (trained {result.current.created_at})")
    write_staleness(result, output)
    click.echo(str(output))
    if result.stale:
        click.echo(result.summary(), err=True)
        sys.exit(1)
    click.echo(result.summary())


def _add_optional_commands(group: click.Group) -> None:
    """Add the commands of optional subpackages that this project includes."""
    for name in OPTIONAL_COMMANDS:
        parent = importlib.util.resolve_name(name, __package__).rpartition(".")[0]
        if importlib.util.find_spec(parent) is None:
            continue
        module = importlib.import_module(name, __package__)
        for command in module.COMMANDS:
            group.add_command(command)
        if hasattr(module, "run_observer"):
            _OBSERVER_FACTORIES.append(module.run_observer)


def _run_observer() -> Any:
    """The run observer of an optional subpackage (experiment tracking), if there is one."""
    return _OBSERVER_FACTORIES[0]() if _OBSERVER_FACTORIES else None


_add_optional_commands(main)


if __name__ == "__main__":  # pragma: no cover
    main()
