"""Batch scoring: streamed, order-preserving, atomic, through the one scoring path."""

import pandas as pd
import pytest

from ..errors import DataError
from ..predict import DEFAULT_CHUNKSIZE, predict_csv, predict_frame
from ..scoring import score_features, score_rows
from ..tasks import PREDICTION_COLUMN


def test_streaming_in_chunks_equals_scoring_at_once(artifact, task_config, tmp_path):
    output = tmp_path / "out" / "predictions.csv"
    positions = []
    rows = predict_csv(
        artifact, task_config.data.holdout, output, chunksize=7, on_progress=positions.append
    )
    whole = predict_frame(artifact, pd.read_csv(task_config.data.holdout))
    streamed = pd.read_csv(output)
    assert rows == len(whole) == len(streamed) == 200
    pd.testing.assert_frame_equal(streamed, whole.reset_index(drop=True), check_dtype=False)
    assert positions == sorted(positions) and len(positions) == -(-rows // 7)
    if artifact.task.is_classification:
        probabilities = streamed.drop(columns=[PREDICTION_COLUMN])
        assert list(probabilities.columns) == [f"probability_{c}" for c in artifact.model.classes_]
        assert probabilities.sum(axis=1).round(6).eq(1).all()
        assert set(streamed[PREDICTION_COLUMN]) <= set(artifact.model.classes_)
    else:
        assert list(streamed.columns) == [PREDICTION_COLUMN]


def test_batch_output_is_the_one_scoring_path(artifact, holdout_frame, write_csv, tmp_path):
    output = tmp_path / "predictions.csv"
    predict_csv(artifact, write_csv(holdout_frame), output, chunksize=DEFAULT_CHUNKSIZE)
    scored = score_rows(artifact, holdout_frame)
    expected = scored.predictions.to_frame(holdout_frame.index)
    pd.testing.assert_frame_equal(pd.read_csv(output), expected, check_dtype=False)
    assert list(scored.features.columns) == artifact.schema.feature_names
    again = score_features(artifact, scored.features)
    assert again.to_json() == scored.predictions.to_json()


def test_score_rows_strict_mode_refuses_text_and_extra_columns(binary, binary_frames):
    rows = binary_frames[1].head(2)
    with pytest.raises(DataError, match="churned: unknown feature"):
        score_rows(binary, rows, allow_extra=False)
    typed = rows.drop(columns=["churned"]).astype({"age": str})
    assert len(score_rows(binary, typed).predictions.labels) == 2
    with pytest.raises(DataError, match="age: expected numbers"):
        score_rows(binary, typed, strict_types=True)


def test_row_order_is_kept(artifact, holdout_frame, write_csv, tmp_path):
    reversed_rows = holdout_frame.iloc[::-1]
    output = tmp_path / "reversed.csv"
    predict_csv(artifact, write_csv(reversed_rows), output, chunksize=50)
    expected = predict_frame(artifact, reversed_rows)[PREDICTION_COLUMN].tolist()
    assert pd.read_csv(output)[PREDICTION_COLUMN].tolist() == pytest.approx(expected)


def test_a_bad_chunk_fails_without_touching_the_output(binary, binary_frames, write_csv, tmp_path):
    broken = binary_frames[1].astype({"tenure_months": object})
    broken.loc[150, "tenure_months"] = "many"
    output = tmp_path / "predictions.csv"
    output.write_text("previous results\n", encoding="utf-8")
    with pytest.raises(DataError, match="rows from 151: .*tenure_months") as raised:
        predict_csv(binary, write_csv(broken), output, chunksize=50)
    assert raised.value.problems == {
        "tenure_months": "expected numbers, got non-numeric values 'many'"
    }
    assert output.read_text(encoding="utf-8") == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "predictions.csv"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "input file {path} is empty"),
        ("tenure_months,age\n", "input file {path} has a header but no rows"),
        ('a,b\n1,"unterminated\n', "input file {path} is not a valid CSV file"),
        ("a\n1\n", "rows from 1: invalid data: tenure_months: required feature is missing"),
    ],
)
def test_bad_inputs(binary, write_csv, tmp_path, content, message):
    output = tmp_path / "out.csv"
    path = write_csv(content)
    with pytest.raises(DataError) as raised:
        predict_csv(binary, path, output)
    assert str(raised.value).startswith(message.format(path=path))
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_missing_input_and_bad_chunk_size(binary, tmp_path, binary_frames, write_csv):
    with pytest.raises(DataError, match="input file not found"):
        predict_csv(binary, tmp_path / "absent.csv", tmp_path / "out.csv")
    with pytest.raises(DataError, match="chunk size must be positive, got 0"):
        predict_csv(binary, write_csv(binary_frames[1]), tmp_path / "out.csv", chunksize=0)
