"""Commands that use a model: ``predict`` (local or Spark), ``explain``, ``info``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..options import format_metric, load_model, model_option, resolve_model_dir, sep_option


@click.command()
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
    from ..data import table_size
    from ..predict import predict_csv

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
    from ..spark import predict_spark

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


@click.command()
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
    from ..data import read_table
    from ..explain import explain_row, format_explanation, parse_json_row, select_row

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


@click.command()
@model_option
@click.option("--json", "as_json", is_flag=True, help="Print the raw metadata as JSON.")
def info(model_dir: Path | None, as_json: bool) -> None:
    """Show a model artifact's metadata without loading the model."""
    from ..artifact import read_metadata

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
    lines += [(f"Holdout {name}", format_metric(value)) for name, value in holdout.items()]
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        click.echo(f"{label.ljust(width)}  {value}")


COMMANDS = (predict, explain, info)
