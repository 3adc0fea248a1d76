"""Scoring on Spark: the same answers as local predict, bad input refused before any write.

The functions the executors run are tested without Spark; the tests marked ``spark`` start
one local Spark session for the whole run (they need the spark extra and Java 17+).
"""

import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from .. import DISTRIBUTION
from .. import spark as spark_module
from ..cli import main
from ..errors import ArtifactError, DataError, ProjectError
from ..predict import predict_frame
from ..spark import (
    check_input_schema,
    check_output_columns,
    error_line,
    output_types,
    predict_spark,
    require_pyspark,
    score_batches,
)

FIELDS = {
    "tenure_months": "bigint",
    "monthly_charges": "string",
    "support_calls": "int",
    "age": "double",
    "contract": "string",
    "plan": "string",
    "region": "string",
}


@pytest.fixture
def binary_dir(models):
    return models.artifact_dir("binary")


def test_input_schema_is_checked_before_any_job(binary):
    check_input_schema(binary.schema, FIELDS)
    check_input_schema(binary.schema, {name.upper(): kind for name, kind in FIELDS.items()})
    broken = dict(FIELDS, age="boolean", plan="array<string>", region="timestamp")
    del broken["tenure_months"]
    with pytest.raises(DataError) as caught:
        check_input_schema(binary.schema, broken)
    assert caught.value.problems == {
        "tenure_months": "required feature is missing",
        "age": "expected numbers, got booleans",
        "plan": "expected a plain column, got array<string>",
        "region": "expected values, got timestamp",
    }
    with pytest.raises(DataError, match="Prediction clash"):
        check_output_columns(["id", "Prediction"], ["prediction", "probability_1"])


def test_output_columns_follow_the_task(artifact):
    types = output_types(artifact)
    if artifact.task.is_classification:
        classes = [str(label) for label in artifact.model.classes_]
        assert list(types) == ["prediction"] + [f"probability_{label}" for label in classes]
        assert set(list(types.values())[1:]) == {"double"}
        assert types["prediction"] in ("bigint", "string")
    else:
        assert types == {"prediction": "double"}


def test_executor_scoring_is_local_scoring_and_loads_the_model_once(
    artifact, artifact_dir, holdout_frame, monkeypatch
):
    loads = []
    real_load = spark_module.load_artifact
    monkeypatch.setattr(spark_module, "_ARTIFACTS", {})
    monkeypatch.setattr(
        spark_module, "load_artifact", lambda path: loads.append(path) or real_load(path)
    )
    sha = artifact.metadata.model_sha256
    output = output_types(artifact)
    for _ in range(2):  # two partitions in one Python worker
        batches = [holdout_frame.iloc[start : start + 30] for start in range(0, 200, 30)]
        scored = pd.concat(score_batches(iter(batches), artifact_dir, sha, output=output))
        expected = predict_frame(artifact, holdout_frame)
        pd.testing.assert_frame_equal(scored[list(output)], expected, check_dtype=False)
        pd.testing.assert_frame_equal(scored[holdout_frame.columns], holdout_frame)
    assert loads == [artifact_dir]
    with pytest.raises(ArtifactError, match="not the model the driver verified"):
        list(score_batches(iter(batches), artifact_dir, "0" * 64, output=output))


def test_a_bad_partition_is_one_clear_error(binary, binary_dir, binary_frames):
    _, holdout = binary_frames
    text = holdout.astype(str).assign(age=["41"] * 60 + ["old"] * 140)
    batches = iter([text.iloc[:50], text.iloc[50:]])
    output = output_types(binary)
    sha = binary.metadata.model_sha256
    with pytest.raises(DataError, match=r"^partition 3, rows from 51: .*age.*'old'"):
        list(
            score_batches(
                batches, binary_dir, sha, output=output, text_columns=[], label="partition 3"
            )
        )


def test_failed_jobs_become_one_line():
    remote = (
        "An exception was thrown from the Python worker.\nTraceback (most recent call last):\n"
        '  File "x.py", line 1\nproj.errors.DataError: partition 0: age: expected numbers\n'
    )
    found = error_line(RuntimeError(remote))
    assert isinstance(found, DataError) and str(found) == "partition 0: age: expected numbers"
    other = error_line(RuntimeError("\nExecutor lost\n  at somewhere"))
    assert type(other) is ProjectError and str(other) == "Spark job failed: Executor lost"


def test_without_pyspark_the_engine_names_the_extra(binary_dir, monkeypatch, tmp_path):
    for name in ("pyspark", "pyspark.sql"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ProjectError, match=rf"pip install '{DISTRIBUTION}\[spark\]'"):
        require_pyspark()
    result = CliRunner().invoke(
        main,
        ["predict", "--engine", "spark", "--model", str(binary_dir)]
        + ["--input", str(tmp_path / "in.parquet"), "--output", str(tmp_path / "out")],
    )
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: --engine spark needs pyspark: pip install '{DISTRIBUTION}[spark]'"
    ]
    assert not (tmp_path / "out").exists()
    used = CliRunner().invoke(
        main, ["predict", "--master", "local[2]", "--input", "a.csv", "--output", "b.csv"]
    )
    assert used.exit_code == 2 and "--master needs --engine spark" in used.stderr


@pytest.mark.slow
def test_the_cli_never_imports_spark_by_itself():
    package = __package__.rpartition(".")[0]
    code = f"import sys, {package}.cli, {package}.spark; print('pyspark' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip(
        "pyspark", reason=f"needs the spark extra: pip install '{DISTRIBUTION}[spark]'"
    )
    session = spark_module.spark_session(
        "local[2]",
        {
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            "spark.driver.memory": "512m",
        },
    )
    yield session
    session.stop()


def parquet_parts(frame, directory, parts=3):
    directory.mkdir()
    frame = frame.assign(row_id=range(len(frame)))
    for number in range(parts):
        frame.iloc[number::parts].to_parquet(directory / f"part-{number}.parquet", index=False)
    return directory


@pytest.mark.slow
@pytest.mark.spark
def test_spark_predictions_equal_local_predict(
    spark, artifact, artifact_dir, holdout_frame, tmp_path
):
    source = parquet_parts(holdout_frame, tmp_path / "rows")
    stages = []
    rows = predict_spark(
        artifact_dir,
        str(source),
        str(tmp_path / "out"),
        session=spark,
        batch_rows=40,
        on_stage=stages.append,
    )
    scored = pd.read_parquet(tmp_path / "out").sort_values("row_id").reset_index(drop=True)
    expected = predict_frame(artifact, holdout_frame).reset_index(drop=True)
    assert rows == len(scored) == 200
    pd.testing.assert_frame_equal(scored[expected.columns], expected, check_dtype=False)
    pd.testing.assert_frame_equal(
        scored[holdout_frame.columns], holdout_frame.reset_index(drop=True), check_dtype=False
    )
    assert stages[0].startswith(f"reading {source}: 3 file(s), 9 column(s)")
    assert stages[-1].startswith(f"wrote 200 rows to {tmp_path / 'out'}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "rows"]


@pytest.mark.slow
@pytest.mark.spark
def test_spark_reads_csv_like_local_predict(spark, binary_dir, binary, binary_frames, tmp_path):
    _, holdout = binary_frames
    (tmp_path / "rows").mkdir()
    holdout.iloc[:120].to_csv(tmp_path / "rows" / "a.csv", index=False, sep=";")
    holdout.iloc[120:].to_csv(tmp_path / "rows" / "b.csv", index=False, sep=";")
    result = CliRunner().invoke(
        main,
        ["predict", "--engine", "spark", "--model", str(binary_dir), "--sep", ";"]
        + ["--input", str(tmp_path / "rows"), "--output", str(tmp_path / "out")],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"200 rows -> {tmp_path / 'out'}\n"
    scored = pd.read_parquet(tmp_path / "out")
    key = ["tenure_months", "monthly_charges", "age", "support_calls"]
    local = pd.concat([holdout, predict_frame(binary, holdout)], axis=1)
    merged = scored.astype({name: float for name in key}).merge(
        local, on=key + ["contract", "region"], suffixes=("", "_local")
    )
    assert len(merged) >= 190  # a few synthetic rows may share every key
    assert (merged["probability_1"] == merged["probability_1_local"]).all()


@pytest.mark.slow
@pytest.mark.spark
def test_spark_refuses_bad_input_and_writes_nothing(spark, binary_dir, binary_frames, tmp_path):
    _, holdout = binary_frames
    missing = parquet_parts(holdout.drop(columns=["region"]), tmp_path / "missing")
    wrong = parquet_parts(holdout.assign(age="old"), tmp_path / "wrong")
    out = str(tmp_path / "out")
    with pytest.raises(DataError, match="region: required feature is missing"):
        predict_spark(binary_dir, str(missing), out, session=spark)
    with pytest.raises(DataError, match=r"^partition \d+ of .*wrong, rows from 1: .*age"):
        predict_spark(binary_dir, str(wrong), out, session=spark)
    with pytest.raises(DataError, match="input not found"):
        predict_spark(binary_dir, str(tmp_path / "nowhere"), out, session=spark)
    with pytest.raises(DataError, match="already exists"):
        predict_spark(binary_dir, str(missing), str(wrong), session=spark)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["missing", "wrong"]
