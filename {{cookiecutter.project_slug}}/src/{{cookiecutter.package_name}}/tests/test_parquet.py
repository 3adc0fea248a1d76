"""Parquet input and output for batch prediction: same checks, same answers as CSV."""

import os
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from .. import DISTRIBUTION
from ..cli import main
from ..data import CSV, PARQUET, read_table, require_pyarrow, table_format, table_size
from ..errors import DataError
from ..files import file_mode
from ..predict import predict_csv, predict_frame

pytest.importorskip(
    "pyarrow", reason=f"Parquet needs pyarrow: pip install '{DISTRIBUTION}[parquet]'"
)


@pytest.fixture
def binary_dir(models):
    return models.artifact_dir("binary")


def write_parts(frame, directory, parts=3):
    """``frame`` as ``parts`` Parquet files (plus files Spark leaves that readers skip)."""
    directory.mkdir(parents=True, exist_ok=True)
    size = -(-len(frame) // parts)
    for number in range(parts):
        chunk = frame.iloc[number * size : (number + 1) * size]
        chunk.to_parquet(directory / f"part-{number:05d}.parquet", index=False)
    (directory / "_SUCCESS").write_text("")
    (directory / ".part-00000.parquet.crc").write_bytes(b"\0garbage")
    return directory


def test_parquet_directory_scores_like_the_frame(artifact, holdout_frame, tmp_path):
    source = write_parts(holdout_frame, tmp_path / "rows")
    expected = predict_frame(artifact, holdout_frame).reset_index(drop=True)
    positions = []
    for output in (tmp_path / "out.parquet", tmp_path / "out.csv"):
        rows = predict_csv(artifact, source, output, chunksize=37, on_progress=positions.append)
        written = pd.read_parquet(output) if output.suffix == ".parquet" else pd.read_csv(output)
        assert rows == len(holdout_frame) == len(written)
        pd.testing.assert_frame_equal(written, expected, check_dtype=False)
    assert positions == sorted(positions[: len(positions) // 2]) + sorted(
        positions[len(positions) // 2 :]
    )
    assert positions[-1] == table_size(source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.parquet", "rows"]
    assert os.stat(tmp_path / "out.parquet").st_mode & 0o777 == file_mode()


def test_typed_and_dictionary_columns_score_like_csv(binary, binary_frames, write_csv, tmp_path):
    _, holdout = binary_frames
    typed = holdout.astype({"contract": "category", "region": "category"})
    typed.to_parquet(tmp_path / "rows.parquet", index=False)
    predict_csv(binary, tmp_path / "rows.parquet", tmp_path / "parquet.csv")
    predict_csv(binary, write_csv(holdout), tmp_path / "csv.csv")
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "parquet.csv"), pd.read_csv(tmp_path / "csv.csv")
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda frame: frame.drop(columns=["tenure_months"]), "tenure_months"),
        (lambda frame: frame.assign(age="old"), "expected numbers"),
    ],
)
def test_bad_parquet_rows_write_nothing(binary, binary_frames, tmp_path, change, message):
    _, holdout = binary_frames
    change(holdout).to_parquet(tmp_path / "rows.parquet", index=False)
    with pytest.raises(DataError, match=message):
        predict_csv(binary, tmp_path / "rows.parquet", tmp_path / "out.parquet", chunksize=50)
    assert [p.name for p in tmp_path.iterdir()] == ["rows.parquet"]


def test_unreadable_or_empty_parquet_is_one_clear_error(binary, binary_frames, tmp_path):
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match=r"bad.parquet is not a valid Parquet file"):
        predict_csv(binary, tmp_path / "bad.parquet", tmp_path / "out.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no Parquet files"):
        predict_csv(binary, tmp_path / "empty", tmp_path / "out.csv")
    binary_frames[1].head(0).to_parquet(tmp_path / "none.parquet", index=False)
    with pytest.raises(DataError, match="no rows"):
        predict_csv(binary, tmp_path / "none.parquet", tmp_path / "out.parquet")
    with pytest.raises(DataError, match="not found"):
        predict_csv(binary, tmp_path / "missing.parquet", tmp_path / "out.parquet")
    source = write_parts(binary_frames[1], tmp_path / "rows")
    with pytest.raises(DataError, match="inside the input directory"):
        predict_csv(binary, source, source / "out.parquet")
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.parquet").exists()


def test_format_is_decided_in_one_place(binary_frames, write_csv, tmp_path):
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    (csv_dir / "a.csv").write_text("x\n1\n")
    assert table_format(write_parts(binary_frames[1], tmp_path / "parts")) == PARQUET
    assert table_format(csv_dir) == CSV
    assert table_format(tmp_path / "rows.PARQUET") == PARQUET
    assert table_format("rows.csv") == CSV and table_format("rows.txt") == CSV
    assert table_format("s3a://bucket/scores") == PARQUET
    assert table_format("hdfs://nn/data/rows.csv") == CSV


def test_training_tables_can_be_parquet(binary_frames, tmp_path):
    train, _ = binary_frames
    train.to_parquet(tmp_path / "train.parquet", index=False)
    pd.testing.assert_frame_equal(read_table(tmp_path / "train.parquet"), train)


def test_missing_pyarrow_names_the_extra(binary_dir, binary_frames, monkeypatch, tmp_path):
    binary_frames[1].to_parquet(tmp_path / "rows.parquet", index=False)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(DataError, match=rf"pip install '{DISTRIBUTION}\[parquet\]'"):
        require_pyarrow()
    result = CliRunner().invoke(
        main,
        ["predict", "--model", str(binary_dir), "--input", str(tmp_path / "rows.parquet")]
        + ["--output", str(tmp_path / "out.csv")],
    )
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: reading or writing Parquet needs pyarrow: pip install '{DISTRIBUTION}[parquet]'"
    ]


def test_cli_scores_parquet_into_parquet(binary_dir, binary, binary_frames, tmp_path):
    source = write_parts(binary_frames[1], tmp_path / "rows")
    result = CliRunner().invoke(
        main,
        ["-q", "predict", "--model", str(binary_dir), "--input", str(source)]
        + ["--output", str(tmp_path / "out.parquet")],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"200 rows -> {tmp_path / 'out.parquet'}\n"
    expected = predict_frame(binary, binary_frames[1]).reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out.parquet"), expected)
