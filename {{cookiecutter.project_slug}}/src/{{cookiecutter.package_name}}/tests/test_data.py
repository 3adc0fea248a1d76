"""Reading CSV files and the bundled synthetic sample."""

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import file_sha256, load_csv
from {{ cookiecutter.package_name }}.errors import DataError
from {{ cookiecutter.package_name }}.sample_data import (
    HOLDOUT_ROWS,
    HOLDOUT_SEED,
    TARGET,
    TRAIN_ROWS,
    TRAIN_SEED,
    make_customers,
    write_sample,
)


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "is empty"), ("a,b\n", "no rows"), ('a,b\n1,"unterminated\n', "not a valid CSV")],
)
def test_bad_csv_files_get_one_line_errors(write_csv, content, message):
    with pytest.raises(DataError, match=message) as raised:
        load_csv(write_csv(content))
    assert "\n" not in str(raised.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_csv(tmp_path / "absent.csv")


def test_file_hash_changes_with_content(write_csv):
    first = file_sha256(write_csv("a\n1\n", "one.csv"))
    assert first == file_sha256(write_csv("a\n1\n", "two.csv"))
    assert first != file_sha256(write_csv("a\n2\n", "three.csv"))
    assert len(first) == 64


def test_bundled_sample_is_reproducible_from_code(config, tmp_path):
    write_sample(tmp_path)
    assert (tmp_path / "train.csv").read_bytes() == config.data.train.read_bytes()
    assert (tmp_path / "holdout.csv").read_bytes() == config.data.holdout.read_bytes()


def test_sample_has_mixed_types_missing_values_and_a_target(train_frame, holdout_frame):
    assert len(train_frame) == TRAIN_ROWS and len(holdout_frame) == HOLDOUT_ROWS
    assert train_frame.isna().any().any(), "the sample exercises imputation"
    assert train_frame[TARGET].notna().all()
{%- if cookiecutter.ml_task == "classification" %}
    assert set(train_frame[TARGET]) == {0, 1}
{%- else %}
    assert pd.api.types.is_float_dtype(train_frame[TARGET])
{%- endif %}
    assert make_customers(5, TRAIN_SEED).equals(make_customers(5, TRAIN_SEED))
    assert not make_customers(50, TRAIN_SEED).equals(make_customers(50, HOLDOUT_SEED))
    assert isinstance(train_frame, pd.DataFrame)
