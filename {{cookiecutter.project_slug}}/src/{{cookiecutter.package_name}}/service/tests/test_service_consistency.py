"""The service agrees with batch prediction and with what MLflow's client sends.

- JSON ``NaN`` (what pandas and MLflow's ``ScoringServerClient`` write for a missing value)
  is a missing value on both prediction endpoints, exactly like ``null``.
- A CSV file gets the same answer from ``/invocations`` as from the ``predict`` command
  (:func:`~.predict.predict_csv`, which the command runs; a ``DataError`` there is its
  one-line error and exit code 1): both accept it, ignoring ids and the target, or both
  refuse it, naming the same column.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ...errors import DataError
from ...predict import predict_csv
from ...sample_data import TARGETS, make_customers
from ...schema import Schema
from ..batching import as_frame, combine
from ..payloads import JSON, NON_FINITE, parse_predict

ID_COLUMN = "customer_id"


def mlflow_split(rows):
    """The body MLflow's client sends for a DataFrame: ``split`` orientation, literal NaN."""
    return json.dumps({"dataframe_split": rows.to_dict(orient="split")})


def test_mlflow_client_body_with_nan_matches_the_in_process_model(client, rows, expected):
    body = mlflow_split(rows)
    assert "NaN" in body, "the rows should have missing values"
    response = client.post("/invocations", data=body, content_type="application/json")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"predictions": expected}


@pytest.mark.parametrize("kind", ["numeric", "categorical"])
def test_nan_means_the_same_as_null(client, instances, request, kind):
    name = request.getfixturevalue(kind)
    with_null = [{**instance, name: None} for instance in instances[:3]]
    with_nan = json.dumps({"instances": [{**row, name: float("nan")} for row in with_null]})
    assert "NaN" in with_nan
    by_null = client.post("/predict", json={"instances": with_null}).get_json()
    by_nan = client.post("/predict", data=with_nan, content_type="application/json")
    assert by_nan.status_code == 200, by_nan.get_json()
    assert by_nan.get_json() == by_null


def test_plainly_valid_rows_get_the_frame_of_the_full_validation(schema, instances, monkeypatch):
    # Rows of the right columns and JSON types skip Schema.validate_features (its pandas
    # calls cost more than a 1-row model call); the frame must be the one it builds.
    body = json.dumps({"instances": instances}).encode()
    full = schema.validate_features(pd.DataFrame(instances), allow_extra=False, strict_types=True)
    validations = []
    monkeypatch.setattr(Schema, "validate_features", lambda *args, **kw: validations.append(1))
    shortcut = parse_predict(body, JSON, schema, len(instances))
    assert validations == [], "the shortcut was not taken"
    pd.testing.assert_frame_equal(as_frame(shortcut), full)
    # Requests batched together: one frame, the rows of each in order.
    halves = [
        parse_predict(json.dumps({"instances": part}).encode(), JSON, schema, len(instances))
        for part in (instances[:3], instances[3:])
    ]
    pd.testing.assert_frame_equal(combine(halves), full)


def test_an_integer_category_gets_the_answer_of_its_string_alone_and_in_a_batch(
    client, instances, categorical
):
    # Integers are categories too (converted by the full validation, not the shortcut).
    plain, as_int, as_str = instances[0], {**instances[1], categorical: 1}, {**instances[1]}
    as_str[categorical] = "1"
    alone = client.post("/predict", json={"instances": [as_int]}).get_json()
    assert alone == client.post("/predict", json={"instances": [as_str]}).get_json()
    mixed = client.post("/predict", json={"instances": [plain, as_int]}).get_json()
    assert mixed == client.post("/predict", json={"instances": [plain, as_str]}).get_json()
    assert mixed["predictions"][1:] == alone["predictions"]


def test_infinity_next_to_nan_is_still_refused(client, rows, numeric):
    frame = rows.head(3).copy()
    frame[numeric] = [np.nan, np.inf, 1.0]
    response = client.post(
        "/invocations", data=mlflow_split(frame), content_type="application/json"
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"] == {numeric: NON_FINITE}


@pytest.fixture
def scored_file(tmp_path, rows, task):
    """``rows`` as a CSV file the way data arrives: an id first, the target last."""
    frame = rows.copy()
    frame.insert(0, ID_COLUMN, [f"c{i:04d}" for i in range(len(frame))])
    target = TARGETS[task]
    frame[target] = make_customers(len(frame), seed=7, task=task)[target].to_numpy()
    path = tmp_path / "input.csv"
    frame.to_csv(path, index=False)
    return path


def test_the_same_file_gets_the_same_predictions(
    client, artifact, scored_file, tmp_path, expected
):
    output = tmp_path / "predictions.csv"
    # Small chunks: each chunk is read on its own, as in a large file.
    predict_csv(artifact, scored_file, output, chunksize=7)
    response = client.post("/invocations", data=scored_file.read_bytes(), content_type="text/csv")
    assert response.status_code == 200, response.get_json()
    served = response.get_json()["predictions"]
    assert served == expected
    # Compared as the text the file holds: both write a value's shortest round-trip form.
    assert pd.read_csv(output, dtype=str)["prediction"].tolist() == [str(v) for v in served]


@pytest.mark.parametrize(
    "bad",
    ["not a number", "inf", "1" + "0" * 400, "drop the column"],
    ids=["text", "inf", "huge-integer", "missing-column"],
)
def test_a_file_refused_by_one_is_refused_by_the_other(
    client, artifact, scored_file, tmp_path, numeric, bad
):
    frame = pd.read_csv(scored_file, dtype=str)
    if bad == "drop the column":
        frame = frame.drop(columns=numeric)
    else:
        frame.loc[1, numeric] = bad
    frame.to_csv(scored_file, index=False)
    output = tmp_path / "predictions.csv"
    with pytest.raises(DataError) as refused:
        predict_csv(artifact, scored_file, output, chunksize=7)
    assert list(refused.value.problems) == [numeric] and not output.exists()
    response = client.post("/invocations", data=scored_file.read_bytes(), content_type="text/csv")
    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == [numeric]
