"""Batch scoring: streamed, order-preserving, atomic."""

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.errors import DataError
from {{ cookiecutter.package_name }}.predict import PREDICTION_COLUMN, predict_csv, predict_frame


def test_streaming_in_chunks_equals_scoring_at_once(artifact, config, tmp_path):
    output = tmp_path / "out" / "predictions.csv"
    positions = []
    rows = predict_csv(
        artifact, config.data.holdout, output, chunksize=7, on_progress=positions.append
    )
    whole = predict_frame(artifact, pd.read_csv(config.data.holdout))
    streamed = pd.read_csv(output)
    assert rows == len(whole) == len(streamed)
    pd.testing.assert_frame_equal(streamed, whole.reset_index(drop=True), check_dtype=False)
    assert positions == sorted(positions) and len(positions) == -(-rows // 7)
{%- if cookiecutter.ml_task == "classification" %}
    probabilities = streamed.drop(columns=[PREDICTION_COLUMN])
    assert list(probabilities.columns) == [f"probability_{c}" for c in artifact.model.classes_]
    assert probabilities.sum(axis=1).round(6).eq(1).all()
{%- else %}
    assert list(streamed.columns) == [PREDICTION_COLUMN]
{%- endif %}


def test_row_order_is_kept(artifact, holdout_frame, write_csv, tmp_path):
    reversed_rows = holdout_frame.iloc[::-1]
    output = tmp_path / "reversed.csv"
    predict_csv(artifact, write_csv(reversed_rows), output, chunksize=50)
    expected = predict_frame(artifact, reversed_rows)[PREDICTION_COLUMN].tolist()
    assert pd.read_csv(output)[PREDICTION_COLUMN].tolist() == pytest.approx(expected)


def test_a_bad_chunk_fails_without_touching_the_output(
    artifact, holdout_frame, write_csv, tmp_path
):
    broken = holdout_frame.astype({"tenure_months": object})
    broken.loc[150, "tenure_months"] = "many"
    output = tmp_path / "predictions.csv"
    output.write_text("previous results\n", encoding="utf-8")
    with pytest.raises(DataError, match="rows from 151: .*tenure_months"):
        predict_csv(artifact, write_csv(broken), output, chunksize=50)
    assert output.read_text(encoding="utf-8") == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "predictions.csv"]


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "is empty"), ("tenure_months,age\n", "no rows"), ("a\n1\n", "age: required feature")],
)
def test_bad_inputs(artifact, write_csv, tmp_path, content, message):
    output = tmp_path / "out.csv"
    with pytest.raises(DataError, match=message):
        predict_csv(artifact, write_csv(content), output)
    assert not output.exists()


def test_missing_input_and_bad_chunk_size(artifact, tmp_path, config):
    with pytest.raises(DataError, match="not found"):
        predict_csv(artifact, tmp_path / "absent.csv", tmp_path / "out.csv")
    with pytest.raises(DataError, match="chunk size"):
        predict_csv(artifact, config.data.holdout, tmp_path / "out.csv", chunksize=0)
