"""The one table reader and the bundled synthetic sample."""

import io

import pandas as pd
import pytest

from ..data import file_sha256, iter_table_chunks, parse_csv, read_table
from ..errors import DataError
from ..sample_data import (
    HOLDOUT_ROWS,
    HOLDOUT_SEED,
    TARGETS,
    TRAIN_ROWS,
    TRAIN_SEED,
    make_customers,
    write_sample,
)

GARBAGE = [
    ('a,b\n1,"unterminated\n', "is not a valid CSV file: "),
    (b"a,b\n\xff\xfe,1\n", "is not a valid CSV file: "),
    ("a,b\n1,2\n3,4,5,6\n", "is not a valid CSV file: Error tokenizing data"),
]


@pytest.mark.parametrize(
    ("content", "message"), [("", "is empty"), ("a,b\n", "has a header but no rows"), *GARBAGE]
)
def test_read_table_names_the_file_in_one_line(write_csv, content, message):
    path = write_csv(content) if isinstance(content, str) else None
    if path is None:
        path = write_csv("")
        path.write_bytes(content)
    with pytest.raises(DataError, match=message) as raised:
        read_table(path)
    assert str(raised.value).startswith(f"data file {path} ")
    assert "\n" not in str(raised.value)


def test_read_table_of_a_missing_file(tmp_path):
    with pytest.raises(DataError, match=f"data file not found: {tmp_path / 'absent.csv'}"):
        read_table(tmp_path / "absent.csv")
    with pytest.raises(DataError, match="data file not found"):
        read_table(tmp_path)


def test_read_table_infers_numbers(write_csv):
    frame = read_table(write_csv("a,b\n1,x\n2.5,\n"))
    assert frame["a"].tolist() == [1.0, 2.5]
    assert frame["b"].isna().tolist() == [False, True]


@pytest.mark.parametrize(("content", "message"), [("", "is empty"), *GARBAGE])
def test_parse_csv_names_the_body(content, message):
    body = content.encode() if isinstance(content, str) else content
    with pytest.raises(DataError, match=message) as raised:
        parse_csv(body)
    assert str(raised.value).startswith("body ")


def test_parse_csv_reads_at_most_max_rows():
    assert parse_csv(b"a,b\n1,2\n3,4\n5,6\n", max_rows=2)["a"].tolist() == [1, 3]
    header_only = parse_csv(b"a,b\n")
    assert header_only.empty and list(header_only.columns) == ["a", "b"]


@pytest.mark.parametrize(("content", "message"), [("", "is empty"), *GARBAGE])
def test_chunks_name_the_input_file(content, message):
    body = content.encode() if isinstance(content, str) else content
    with pytest.raises(DataError, match=message) as raised:
        list(iter_table_chunks(io.BytesIO(body), "in.csv", 10))
    assert str(raised.value).startswith("input file in.csv ")


def test_chunks_keep_order_and_size():
    body = "a\n" + "".join(f"{i}\n" for i in range(25))
    chunks = list(iter_table_chunks(io.BytesIO(body.encode()), "in.csv", 10))
    assert [len(chunk) for chunk in chunks] == [10, 10, 5]
    assert pd.concat(chunks)["a"].tolist() == list(range(25))


def test_unreadable_input_is_a_data_error():
    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise OSError(5, "Input/output error")

    with pytest.raises(DataError, match="cannot read input file in.csv: Input/output error"):
        list(iter_table_chunks(io.BufferedReader(Broken()), "in.csv", 10))


def test_file_hash_changes_with_content(write_csv):
    first = file_sha256(write_csv("a\n1\n", "one.csv"))
    assert first == file_sha256(write_csv("a\n1\n", "two.csv"))
    assert first != file_sha256(write_csv("a\n2\n", "three.csv"))
    assert len(first) == 64


def test_bundled_sample_is_reproducible_from_code(config, tmp_path):
    write_sample(config.model.task, tmp_path)
    assert (tmp_path / "train.csv").read_bytes() == config.data.train.read_bytes()
    assert (tmp_path / "holdout.csv").read_bytes() == config.data.holdout.read_bytes()


def test_bundled_sample_has_mixed_types_missing_values_and_a_target(config):
    train, holdout = read_table(config.data.train), read_table(config.data.holdout)
    assert len(train) == TRAIN_ROWS and len(holdout) == HOLDOUT_ROWS
    assert train.drop(columns=[config.data.target]).isna().any().any()
    assert train[config.data.target].notna().all()


@pytest.mark.parametrize("task", sorted(TARGETS))
def test_generated_customers(task):
    frame = make_customers(300, TRAIN_SEED, task)
    target = frame[TARGETS[task]]
    assert len(frame) == 300 and frame.columns[-1] == TARGETS[task]
    assert frame[["monthly_charges", "age", "plan"]].isna().any().all()
    assert frame.select_dtypes("number").shape[1] == 5
    assert not pd.api.types.is_numeric_dtype(frame["plan"])
    if task == "classification":
        assert set(target) == {0, 1}
    else:
        assert pd.api.types.is_float_dtype(target) and target.nunique() > 250
    assert make_customers(5, TRAIN_SEED, task).equals(make_customers(5, TRAIN_SEED, task))
    assert not make_customers(50, TRAIN_SEED, task).equals(make_customers(50, HOLDOUT_SEED, task))
    with pytest.raises(ValueError, match="task must be one of"):
        make_customers(5, task="ranking")
