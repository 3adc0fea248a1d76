"""Predictions holding NaN or infinity are refused by the one scoring path, never returned."""

import copy
import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ..cli import main
from ..commands import scoring
from ..errors import PredictionError
from ..predict import predict_csv
from ..scoring import score_rows


def broken(artifact, value=np.inf, rows=(1,), on_call=None):
    """A copy of ``artifact`` whose learner answers ``value`` for ``rows`` of each call.

    With ``on_call``, only that call (0-based) is broken.
    """
    model = copy.deepcopy(artifact.model)
    method = "predict_proba" if artifact.task.is_classification else "predict"
    original = getattr(model.learner_, method)
    calls = itertools.count()

    def answer(encoded):
        result = np.array(original(encoded), dtype=float)
        if on_call is None or next(calls) == on_call:
            result[list(rows)] = value
        return result

    setattr(model.learner_, method, answer)
    return dataclasses.replace(artifact, model=model)


def test_infinite_predictions_are_refused_naming_the_rows(artifact, holdout_frame):
    with pytest.raises(PredictionError) as raised:
        score_rows(broken(artifact, rows=(1, 3)), holdout_frame.head(5))
    assert raised.value.rows == (1, 3)
    message = str(raised.value)
    assert f"model {artifact.version} produced non-finite predictions" in message
    assert "for 2 row(s): row 2, 4" in message


def test_nan_probabilities_are_refused(binary, binary_frames):
    _, holdout = binary_frames
    with pytest.raises(PredictionError, match="for 1 row"):
        score_rows(broken(binary, value=np.nan, rows=(0,)), holdout.head(3))


def test_finite_predictions_pass(artifact, holdout_frame):
    scored = score_rows(artifact, holdout_frame.head(5))
    assert len(scored.predictions.labels) == 5


def test_batch_prediction_fails_on_the_chunk_and_writes_nothing(binary, write_csv, tmp_path):
    source = write_csv(_rows(binary, 120))
    target = tmp_path / "out.csv"
    bad = broken(binary, rows=(1,), on_call=1)  # the second chunk's second row
    with pytest.raises(PredictionError, match=r"for 1 row\(s\): row 52\b"):
        predict_csv(bad, source, target, chunksize=50)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [source]


def test_cli_predict_says_so_in_one_line(binary, write_csv, tmp_path, monkeypatch):
    source, target = write_csv(_rows(binary, 10)), tmp_path / "out.csv"
    monkeypatch.setattr(scoring, "load_model", lambda model_dir: broken(binary))
    result = CliRunner().invoke(main, ["predict", "--input", str(source), "--output", str(target)])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ")
    assert "non-finite predictions" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not target.exists()


def _rows(artifact, count):
    """``count`` valid rows of the artifact's features (the example row, repeated)."""
    return pd.DataFrame([artifact.schema.example_row()] * count)
