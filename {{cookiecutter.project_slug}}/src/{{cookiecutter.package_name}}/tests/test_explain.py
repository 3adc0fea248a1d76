"""``explain``: one row through the data contract, the encoder and the learner."""

import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner

from ..cli import main
from ..errors import DataError
from ..explain import explain_row, format_explanation, parse_json_row, select_row
from ..scoring import score_rows
from .test_importance import fit

STEPS = ["1. Raw input", "2. Data contract", "3. Encoder", "4. Learner input", "5. Prediction"]


def test_every_step_is_shown_and_the_prediction_is_the_scored_one(artifact, holdout_frame):
    row = holdout_frame.iloc[[4]]
    explanation = explain_row(artifact, row, source="row 5")
    scored = score_rows(artifact, row).predictions.to_json()
    assert explanation.prediction["prediction"] == scored["predictions"][0]
    if "probabilities" in scored:
        assert explanation.prediction["probabilities"] == scored["probabilities"][0]
    schema, model = artifact.schema, artifact.model
    assert [entry["feature"] for entry in explanation.contract] == schema.feature_names
    assert explanation.ignored == [schema.target.name]
    names = [str(name) for name in model.preprocessor_.get_feature_names_out()]
    assert [entry["column"] for entry in explanation.encoded] == names
    vector = model.preprocessor_.transform(schema.validate_features(row))[0]
    learner = explanation.learner
    assert np.allclose(
        [np.nan if value is None else value for value in learner["vector"]], vector, equal_nan=True
    )
    assert learner["type"] == model.learner_.__class__.__name__
    assert learner["categorical"] == list(model.preprocessor_.categorical_features_)
    text = format_explanation(explanation)
    positions = [text.index(step) for step in STEPS]
    assert positions == sorted(positions)
    json.dumps(explanation.to_dict(), allow_nan=False)


def test_coercions_unseen_levels_and_skew_are_explained(binary, binary_frames):
    row = binary_frames[1].iloc[[0]].copy()
    row["contract"], row["plan"] = "lifetime", np.nan
    row["tenure_months"] = "10000"  # text, as a CSV cell may be, and far out of range
    explanation = explain_row(binary, row)
    notes = {entry["feature"]: " ".join(entry["notes"]) for entry in explanation.contract}
    assert "text '10000' read as the number 10000" in notes["tenure_months"]
    assert "outside the training range" in notes["tenure_months"]
    assert "level 'lifetime' never seen in training" in notes["contract"]
    assert notes["plan"].startswith("missing")
    assert notes["region"] == "ok"
    assert explanation.skew["tenure_months"] == {"out_of_range": 1}
    assert explanation.skew["contract"] == {"unseen_category": 1}
    encoded = {entry["column"]: entry for entry in explanation.encoded}
    assert encoded["contract"]["value"] is None
    assert "unseen level 'lifetime'" in encoded["contract"]["meaning"]
    assert encoded["region"]["meaning"] == f"level {row['region'].iloc[0]!r}"
    assert explanation.prediction == {
        "prediction": score_rows(binary, row).predictions.to_json()["predictions"][0],
        "probabilities": score_rows(binary, row).predictions.to_json()["probabilities"][0],
    }


def test_a_target_encoded_level_is_explained(models, task_name, holdout_frame):
    from .conftest import CATEGORICAL_FEATURES, NUMERIC_FEATURES

    config = models.config(task_name)
    train = models.frame(task_name, "train")
    model, schema, _ = fit(config, train, NUMERIC_FEATURES, CATEGORICAL_FEATURES, max_bins=3)
    artifact = models.artifact(task_name)
    artifact = dataclasses.replace(
        artifact, model=model, metadata=dataclasses.replace(artifact.metadata, schema=schema)
    )
    row = holdout_frame.iloc[[0]]
    explanation = explain_row(artifact, row)
    region = [entry for entry in explanation.encoded if entry["feature"] == "region"]
    assert region and all(entry["encoding"] == "target encoding" for entry in region)
    assert all(f"of level {row['region'].iloc[0]!r}" in entry["meaning"] for entry in region)
    scored = score_rows(artifact, row).predictions.to_json()
    assert explanation.prediction["prediction"] == scored["predictions"][0]


def test_rows_are_selected_from_one_and_out_of_range_is_an_error(binary_frames):
    holdout = binary_frames[1]
    assert select_row(holdout, 1, "x.csv").index.tolist() == [holdout.index[0]]
    with pytest.raises(DataError, match=rf"row {len(holdout) + 1} is out of range: x.csv has"):
        select_row(holdout, len(holdout) + 1, "x.csv")
    for text in ["[1, 2]", "{", "{}"]:
        with pytest.raises(DataError, match="JSON row"):
            parse_json_row(text)


@pytest.fixture
def holdout_csv(binary_frames, write_csv):
    return write_csv(binary_frames[1], "holdout.csv")


def invoke(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def test_the_command_explains_a_csv_row_and_a_json_row(binary, binary_frames, holdout_csv):
    result = invoke("explain", "--model", binary.path, "--input", holdout_csv, "--row", 3)
    assert result.exit_code == 0, result.output
    assert all(step in result.output for step in STEPS)
    result = invoke(
        "explain", "--model", binary.path, "--input", holdout_csv, "--row", 3, "--json"
    )
    assert result.exit_code == 0, result.output
    explained = json.loads(result.output)
    expected = score_rows(binary, binary_frames[1].iloc[[2]]).predictions.to_json()
    assert explained["prediction"]["prediction"] == expected["predictions"][0]
    assert explained["source"] == f"row 3 of {holdout_csv}"
    row = binary.schema.example_row()
    result = invoke("explain", "--model", binary.path, "--json-row", json.dumps(row), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["raw"] == row


@pytest.mark.parametrize(
    "args, error",
    [
        (["--row", 1000], "Error: row 1000 is out of range"),
        (["--json-row", '{"age": 41}'], "tenure_months: required feature is missing"),
        (["--json-row", "[1]"], "Error: the JSON row must be an object"),
    ],
)
def test_command_errors_are_one_line(binary, holdout_csv, args, error):
    if args[0] == "--row":
        args = ["--input", holdout_csv, *args]
    result = invoke("explain", "--model", binary.path, *args)
    assert result.exit_code == 1, result.output
    assert error in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_command_needs_exactly_one_source(binary, holdout_csv):
    for args in ([], ["--input", holdout_csv, "--json-row", "{}"]):
        result = invoke("explain", "--model", binary.path, *args)
        assert result.exit_code == 2 and "either --input" in result.output
