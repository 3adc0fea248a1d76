"""Batch scoring on Spark: the same scoring core, run on the executors with ``mapInPandas``.

``predict --engine spark`` reads Parquet or CSV (files or directories, local paths or any
Hadoop URI such as ``s3a://`` or ``hdfs://``), checks the input's schema against the
model's data contract on the driver, scores every partition as pandas batches through
:func:`.scoring.score_rows` (so a row gets the same prediction as from local ``predict``)
and writes Parquet: the input's columns followed by ``prediction`` (and, for classifiers,
one ``probability_<class>`` column per class).

The model directory is shipped to the executors with ``SparkContext.addFile`` and loaded
once per executor Python process (hash verified, trusted types only; Spark reuses its
Python workers), not once per batch. The output directory is written beside its
destination under a hidden name and renamed into place only when the job succeeded.

pyspark is an optional dependency (the ``spark`` extra): nothing here imports it at
module import time.
"""

from __future__ import annotations

import atexit
import logging
import re
import shutil
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from . import DISTRIBUTION
from .artifact import Artifact, load_artifact
from .columns import parse_numbers
from .data import CSV, is_uri, sniff_separator, table_format
from .errors import ArtifactError, DataError, ProjectError
from .schema import Schema
from .scoring import score_rows
from .threads import limited_threads

logger = logging.getLogger(__name__)

APP_NAME = f"{DISTRIBUTION}-predict"
_COMPLEX = ("struct<", "array<", "map<", "binary")
_NUMBERS = ("tinyint", "smallint", "int", "bigint", "float", "double", "decimal")
_DATES = ("date", "timestamp", "timestamp_ntz")
_ARTIFACTS: dict[tuple[str, str], Artifact] = {}
_STAGED: dict[str, Path] = {}


def require_pyspark() -> Any:
    """Import pyspark's SQL module, or explain in one line which extra installs it."""
    try:
        import pyspark.sql
    except ImportError:
        raise ProjectError(
            f"--engine spark needs pyspark: pip install '{DISTRIBUTION}[spark]'"
        ) from None
    return pyspark.sql


def check_input_schema(schema: Schema, fields: Mapping[str, str]) -> None:
    """Refuse an input whose columns cannot hold the model's features, before any job runs.

    Parameters
    ----------
    schema : Schema
        The model's data contract.
    fields : mapping of str to str
        The input's columns and their Spark types (``DataType.simpleString()``).

    Raises
    ------
    DataError
        Naming every missing feature, every feature of an unusable type and every input
        column that clashes with an output column.
    """
    lower = {name.lower(): name for name in fields}
    problems: dict[str, str] = {}
    for spec in schema.features:
        name = lower.get(spec.name.lower())
        if name is None:
            problems[spec.name] = "required feature is missing"
            continue
        problem = _type_problem(spec.kind, fields[name])
        if problem:
            problems[spec.name] = problem
    if problems:
        details = "; ".join(f"{name}: {problem}" for name, problem in problems.items())
        raise DataError(f"input does not match the model's data contract: {details}", problems)


def _type_problem(kind: str, spark_type: str) -> str | None:
    """Why a Spark column type cannot hold a feature of ``kind``, or None."""
    if spark_type.startswith(_COMPLEX):
        return f"expected a plain column, got {spark_type}"
    if kind == "numeric" and spark_type == "boolean":
        return "expected numbers, got booleans"
    if kind in ("numeric", "categorical", "boolean") and spark_type in _DATES:
        return f"expected {'numbers' if kind == 'numeric' else 'values'}, got {spark_type}"
    if kind == "datetime" and spark_type.startswith(_NUMBERS + ("boolean",)):
        return f"expected dates, got {spark_type}"
    return None


def check_output_columns(input_columns: list[str], output_columns: list[str]) -> None:
    """Refuse input columns that the prediction columns would duplicate (Spark ignores case)."""
    taken = {name.lower() for name in output_columns}
    clashes = [name for name in input_columns if name.lower() in taken]
    if clashes:
        raise DataError(
            f"input column(s) {', '.join(clashes)} clash with the output columns; rename them"
        )


def output_types(artifact: Artifact) -> dict[str, str]:
    """The prediction columns and their Spark types, from scoring the contract's example row."""
    example = pd.DataFrame([artifact.schema.example_row()])
    scored = score_rows(artifact, example).predictions.to_frame(example.index)
    return {str(name): _spark_type(scored[name]) for name in scored.columns}


def _spark_type(column: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(column):
        return "boolean"
    if pd.api.types.is_integer_dtype(column):
        return "bigint"
    if pd.api.types.is_float_dtype(column):
        return "double"
    return "string"


def cached_artifact(path: str | Path, model_sha256: str) -> Artifact:
    """The artifact at ``path``, loaded (and its hash verified) once per Python process.

    Raises
    ------
    ArtifactError
        When the model file there is not the one the driver verified.
    """
    key = (str(path), model_sha256)
    if key not in _ARTIFACTS:
        artifact = load_artifact(path)
        if artifact.metadata.model_sha256 != model_sha256:
            raise ArtifactError(f"model at {path} is not the model the driver verified")
        _ARTIFACTS[key] = artifact
    return _ARTIFACTS[key]


def score_batches(
    batches: Iterator[pd.DataFrame],
    artifact_path: str | Path,
    model_sha256: str,
    *,
    output: Mapping[str, str],
    text_columns: list[str] | None = None,
    threads: int = 1,
    label: str = "partition",
) -> Iterator[pd.DataFrame]:
    """Score one partition's pandas batches: the function each executor runs.

    Parameters
    ----------
    batches : iterator of pandas.DataFrame
        The partition, as Arrow record batches turned into pandas.
    artifact_path, model_sha256 : str
        Where the executor finds the model, and its verified hash.
    output : mapping of str to str
        The prediction columns and their Spark types (see :func:`output_types`).
    text_columns : list of str, optional
        For CSV input (every cell text): the contract's text columns, the others being
        parsed like a local CSV file's (see :func:`.columns.parse_numbers`).
    threads : int, default 1
        Native threads per batch; Spark already runs one task per core.
    label : str
        Names the partition in error messages.

    Yields
    ------
    pandas.DataFrame
        Each batch's columns followed by its prediction columns.

    Raises
    ------
    DataError
        When a batch breaks the data contract.
    """
    artifact = cached_artifact(artifact_path, model_sha256)
    rows = 0
    with limited_threads(max(threads, 1)):
        for batch in batches:
            if batch.empty:
                continue
            frame = batch if text_columns is None else parse_numbers(batch.copy(), text_columns)
            try:
                scored = score_rows(artifact, frame).predictions.to_frame(batch.index)
            except DataError as exc:
                raise DataError(f"{label}, rows from {rows + 1}: {exc}", exc.problems) from None
            for name, kind in output.items():
                if kind == "string":
                    scored[name] = scored[name].astype(str)
            rows += len(batch)
            yield pd.concat([batch, scored], axis=1)


_REMOTE_ERROR = re.compile(r"\b(DataError|ArtifactError): (.+)")


def error_line(exc: BaseException) -> ProjectError:
    """The project error a failed Spark job carries (raised in a Python worker), or a summary."""
    text = str(exc)
    found = _REMOTE_ERROR.search(text)
    if found:
        kind = DataError if found.group(1) == "DataError" else ArtifactError
        return kind(found.group(2).strip())
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return ProjectError(f"Spark job failed: {lines[0] if lines else type(exc).__name__}")


def spark_session(master: str | None = None, config: Mapping[str, str] | None = None) -> Any:
    """Get or start a Spark session (``master`` None: spark-submit's, or ``local[*]``)."""
    sql = require_pyspark()
    # pyspark 4.x warns on every pandas call that it is not yet tested with pandas 3.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
    # The stage lines replace Spark's console progress bar.
    builder = sql.SparkSession.builder.appName(APP_NAME).config(
        "spark.ui.showConsoleProgress", "false"
    )
    if master:
        builder = builder.master(master)
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # Java missing, a bad master URL...
        raise ProjectError(
            f"cannot start Spark ({_first_line(exc)}); is Java 17 or later on the PATH?"
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def predict_spark(
    artifact_dir: str | Path,
    input_uri: str,
    output_uri: str,
    *,
    master: str | None = None,
    batch_rows: int = 10_000,
    threads: int = 0,
    sep: str | None = None,
    session: Any = None,
    on_stage: Callable[[str], None] | None = None,
) -> int:
    """Score a table on Spark into a new Parquet directory; returns the number of rows.

    Parameters
    ----------
    artifact_dir : str or Path
        The model directory (on the driver; it is shipped to the executors).
    input_uri : str
        Parquet or CSV: a file, a directory or a glob, local or any Hadoop URI.
    output_uri : str
        The Parquet directory to create; it must not exist.
    master : str, optional
        Spark master URL (``local[4]``, ``yarn``, ``k8s://...``, ``spark://...``).
    batch_rows : int, default 10000
        Rows per pandas batch (``spark.sql.execution.arrow.maxRecordsPerBatch``).
    threads : int, default 0
        Native threads per task; 0 means 1 (Spark runs one task per core).
    sep : str, optional
        CSV separator; detected from a local file's header line, else a comma.
    session : SparkSession, optional
        A running session to use instead of :func:`spark_session`.
    on_stage : callable, optional
        Called with a line per stage (reading, validating, scoring, writing).

    Raises
    ------
    DataError
        When the input is missing or breaks the data contract; nothing is written.
    """
    stage = on_stage or logger.info
    warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
    started = time.perf_counter()
    artifact = load_artifact(artifact_dir)
    spark = session or spark_session(master)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch_rows))
    fs = _FileSystem(spark)
    if not fs.exists(input_uri):
        raise DataError(f"input not found: {input_uri}")
    if fs.exists(output_uri):
        raise DataError(f"output {output_uri} already exists; remove it or choose another path")
    frame, is_csv = _read(spark, input_uri, sep)
    text_columns = artifact.schema.text_columns() if is_csv else None
    fields = {field.name: field.dataType.simpleString() for field in frame.schema.fields}
    stage(f"reading {input_uri}: {len(frame.inputFiles())} file(s), {len(fields)} column(s)")
    check_input_schema(artifact.schema, fields)
    output = output_types(artifact)
    check_output_columns(list(fields), list(output))
    stage(f"validated the input's schema against {len(artifact.schema.features)} features")
    name = _ship(spark, artifact_dir, artifact)
    sha = artifact.metadata.model_sha256
    ddl = ", ".join(
        [f"`{field.name}` {field.dataType.simpleString()}" for field in frame.schema.fields]
        + [f"`{column}` {kind}" for column, kind in output.items()]
    )

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from pyspark import SparkFiles, TaskContext

        context = TaskContext.get()
        label = f"partition {context.partitionId() if context else 0} of {input_uri}"
        return score_batches(
            batches,
            SparkFiles.get(name),
            sha,
            output=output,
            text_columns=text_columns,
            threads=threads,
            label=label,
        )

    staging = fs.staging(output_uri)
    stage(f"scoring and writing to {output_uri}")
    try:
        try:
            frame.mapInPandas(score, ddl).write.parquet(staging)
            rows = int(spark.read.parquet(staging).count())
        except Exception as exc:
            raise error_line(exc) from None
        if rows == 0:
            raise DataError(f"input {input_uri} has no rows")
        fs.rename(staging, output_uri)
    finally:
        fs.delete(staging)
    elapsed = time.perf_counter() - started
    stage(f"wrote {rows} rows to {output_uri} in {elapsed:.1f} s")
    return rows


def _read(spark: Any, input_uri: str, sep: str | None) -> tuple[Any, bool]:
    """The input as a Spark DataFrame, and whether it is CSV (every cell text)."""
    if table_format(input_uri) != CSV:
        try:
            return spark.read.parquet(input_uri), False
        except Exception as exc:
            raise DataError(f"cannot read {input_uri} as Parquet: {_first_line(exc)}") from None
    if sep is None:
        sep = _local_separator(input_uri)
    reader = spark.read.options(header="true", sep=sep, escape='"', inferSchema="false")
    try:
        frame = reader.csv(input_uri)
    except Exception as exc:
        raise DataError(f"cannot read {input_uri} as CSV: {_first_line(exc)}") from None
    return frame, True


def _local_separator(input_uri: str) -> str:
    """The separator of a local CSV file (a directory's first), else a comma."""
    if is_uri(input_uri):
        return ","
    path = Path(input_uri)
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    if not files or not files[0].is_file():
        return ","
    with open(files[0], "rb") as handle:
        return sniff_separator(handle.read(1 << 16))


def _ship(spark: Any, artifact_dir: str | Path, artifact: Artifact) -> str:
    """Send the model directory to every executor under a name unique to its hash."""
    sha = artifact.metadata.model_sha256
    name = f"model-{sha[:16]}"
    if sha not in _STAGED:
        root = Path(tempfile.mkdtemp(prefix=f"{APP_NAME}-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        shutil.copytree(artifact_dir, root / name)
        _STAGED[sha] = root / name
        spark.sparkContext.addFile(str(_STAGED[sha]), recursive=True)
    return name


class _FileSystem:
    """Hadoop's FileSystem API through the JVM: the same calls for local paths and URIs."""

    def __init__(self, spark: Any) -> None:
        self._jvm = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()

    def _path(self, uri: str) -> tuple[Any, Any]:
        path = self._jvm.org.apache.hadoop.fs.Path(uri)
        return path, path.getFileSystem(self._conf)

    def exists(self, uri: str) -> bool:
        path, fs = self._path(uri)
        if any(char in uri for char in "*?["):
            return bool(fs.globStatus(path))
        return bool(fs.exists(path))

    def staging(self, uri: str) -> str:
        """A hidden sibling of ``uri`` (Spark and Hadoop skip names starting with ``.``)."""
        path, _ = self._path(uri)
        parent = path.getParent()
        name = f".{path.getName()}.{uuid.uuid4().hex[:12]}.tmp"
        return str(self._jvm.org.apache.hadoop.fs.Path(parent, name).toString())

    def rename(self, source: str, target: str) -> None:
        source_path, fs = self._path(source)
        target_path, _ = self._path(target)
        if fs.exists(target_path) or not fs.rename(source_path, target_path):
            raise OSError(17, "cannot move the predictions into place", target)

    def delete(self, uri: str) -> None:
        path, fs = self._path(uri)
        if fs.exists(path):
            fs.delete(path, True)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
