"""Column types on real tables: codes, booleans, dates, free text, ids, junk cells."""

import json
import logging

import numpy as np
import pandas as pd
import pytest

from ..artifact import load_artifact
from ..config import Config, DataConfig, ModelConfig, RuntimeConfig
from ..errors import DataError
from ..metadata import ArtifactMetadata
from ..predict import predict_csv
from ..schema import BOOLEAN, CATEGORICAL, DATETIME, NUMERIC, infer_schema
from ..scoring import score_rows
from ..workflows import train_and_save

ROWS = 120


def table(seed=0, rows=ROWS):
    """Codes that look like numbers, booleans written three ways, dates and a number."""
    rng = np.random.default_rng(seed)
    dept = rng.choice(["007", "010", "A12", "003"], rows)
    active = rng.choice(["true", "True", "FALSE", "false"], rows)
    x = rng.normal(size=rows).round(3)
    days = rng.integers(0, 700, rows)
    signup = (pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d")
    score = (np.isin(dept, ["007", "A12"]) * 2.0 + (np.char.lower(active) == "true") + x).round(3)
    return pd.DataFrame(
        {
            "dept": dept,
            "active": active,
            "x": x,
            "signup": signup,
            "label": np.where(score > 1.5, "001", "002"),
        }
    )


def fit(tmp_path, frame, **data):
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    config = Config(
        data=DataConfig(train=path, target="label", **data),
        model=ModelConfig(params={"max_iter": 30, "min_samples_leaf": 5}),
        runtime=RuntimeConfig(threads=1),
    )
    return load_artifact(train_and_save(config, tmp_path / "models"))


@pytest.fixture(scope="module")
def typed(tmp_path_factory):
    return fit(tmp_path_factory.mktemp("typed"), table())


def test_kinds_are_inferred_from_the_text(typed):
    kinds = {spec.name: spec.kind for spec in typed.schema.features}
    assert kinds == {"dept": CATEGORICAL, "active": BOOLEAN, "x": NUMERIC, "signup": DATETIME}
    dept = next(spec for spec in typed.schema.features if spec.name == "dept")
    assert set(dept.categories) == {"007", "010", "A12", "003"}
    assert "signup__year" in typed.schema.columns_of_kind(NUMERIC)


def test_predictions_do_not_depend_on_the_chunk_size(typed, tmp_path):
    rows = table(seed=1, rows=60)
    # Chunks of 3 hold runs of codes that all look like numbers ('007', '010', '003').
    rows = rows.sort_values("dept", key=lambda d: d == "A12", kind="stable")
    source = tmp_path / "rows.csv"
    rows.drop(columns=["label"]).to_csv(source, index=False)
    predict_csv(typed, source, tmp_path / "small.csv", chunksize=3)
    predict_csv(typed, source, tmp_path / "large.csv", chunksize=1000)
    small = pd.read_csv(tmp_path / "small.csv", dtype=str)
    large = pd.read_csv(tmp_path / "large.csv", dtype=str)
    pd.testing.assert_frame_equal(small, large)
    expected = score_rows(typed, rows.reset_index(drop=True)).predictions.to_frame(None)
    assert small["prediction"].tolist() == list(expected["prediction"])


def test_code_like_labels_come_back_unchanged(typed, tmp_path):
    assert typed.schema.target.classes == ("001", "002")
    source = tmp_path / "rows.csv"
    table(seed=2, rows=20).to_csv(source, index=False)
    predict_csv(typed, source, tmp_path / "out.csv")
    assert set(pd.read_csv(tmp_path / "out.csv", dtype=str)["prediction"]) <= {"001", "002"}
    assert "probability_001" in pd.read_csv(tmp_path / "out.csv").columns


def test_booleans_are_one_value_whatever_the_spelling(typed):
    row = table(seed=3, rows=1).drop(columns=["label"])
    spellings = ["true", "True", "TRUE", "yes"]
    text = pd.concat([row.assign(active=value) for value in spellings], ignore_index=True)
    scored = score_rows(typed, text)
    assert len(set(scored.predictions.labels)) == 1
    assert "active" not in typed.schema.skew(scored.features)
    typed_json = row.assign(active=[True]).astype({"active": object})
    from_json = score_rows(typed, typed_json, strict_types=True)
    assert from_json.predictions.labels[0] == scored.predictions.labels[0]
    np.testing.assert_allclose(
        from_json.predictions.probabilities[0], scored.predictions.probabilities[0]
    )
    with pytest.raises(DataError, match="active: expected true or false, got 'maybe'"):
        score_rows(typed, row.assign(active="maybe"))


def test_dates_are_checked_raw_and_encoded_as_parts(typed):
    row = table(seed=4, rows=1).drop(columns=["label"])
    features = typed.schema.validate_features(row.assign(signup="2024-02-29"))
    assert features.loc[0, "signup__year"] == 2024 and features.loc[0, "signup__weekday"] == 3
    with pytest.raises(DataError, match="signup: expected dates \\(%Y-%m-%d\\), got '29/02/2024'"):
        typed.schema.validate_features(row.assign(signup="29/02/2024"))
    assert isinstance(typed.schema.example_row()["signup"], str)
    typed.schema.validate_features(pd.DataFrame([typed.schema.example_row()]))


def test_the_contract_with_new_kinds_survives_metadata_json(typed):
    raw = json.loads(json.dumps(typed.metadata.to_dict()))
    assert ArtifactMetadata.from_dict(raw).schema == typed.schema
    for spec in raw["schema"]["features"]:  # format-2 files written before these fields
        del spec["date_format"], spec["invalid_as_missing"]
    raw["schema"]["features"] = [s for s in raw["schema"]["features"] if s["name"] == "x"]
    assert ArtifactMetadata.from_dict(raw).schema.features[0].invalid_as_missing is False


def frame_with(**columns):
    base = table().drop(columns=["signup", "active"])
    return base.assign(**columns)


def test_free_text_is_refused_by_name_or_left_out_on_request(caplog):
    words = ["the", "customer", "asked", "about", "billing", "again", "today", "late"]
    rng = np.random.default_rng(0)
    notes = [" ".join(rng.choice(words, 6)) + f" #{i}" for i in range(ROWS)]
    with pytest.raises(DataError, match="column\\(s\\) notes hold free text.*ignore_columns"):
        infer_schema(frame_with(notes=notes), "label")
    with caplog.at_level(logging.WARNING):
        schema = infer_schema(frame_with(notes=notes), "label", drop_text_columns=True)
    assert "notes" not in schema.feature_names and "free-text column(s) notes" in caplog.text
    listed = infer_schema(frame_with(notes=notes), "label", categorical_features=["notes"])
    assert listed.feature_names == ["notes"]


def test_id_like_and_constant_columns_are_left_out_by_name(caplog):
    frame = frame_with(customer=[f"C{i:05d}" for i in range(ROWS)], country="NL")
    with caplog.at_level(logging.WARNING):
        schema = infer_schema(frame, "label")
    assert schema.feature_names == ["dept", "x"]
    assert "left out id-like column(s) customer" in caplog.text
    assert "left out constant column(s) country" in caplog.text
    kept = infer_schema(frame, "label", categorical_features=["customer", "country"])
    assert kept.feature_names == ["customer", "country"]


def test_junk_cells_in_a_numeric_column_are_an_error_showing_them(caplog):
    x = table()["x"].astype(object)
    x[[3, 9, 40, 41]] = ["#REF!", "n/a?", "12,5", "oops"]
    frame = frame_with(x=x)
    with pytest.raises(DataError) as raised:
        infer_schema(frame, "label")
    message = str(raised.value)
    assert "x: expected numbers, got non-numeric values '#REF!', 'n/a?', '12,5' and 1 more" in (
        message
    )
    assert "data.coerce_to_missing" in message
    with caplog.at_level(logging.WARNING):
        schema = infer_schema(frame, "label", coerce_to_missing=["x"])
    assert "column 'x': read 4 invalid cell(s) as missing" in caplog.text
    spec = next(spec for spec in schema.features if spec.name == "x")
    assert spec.kind == NUMERIC and spec.nullable and spec.invalid_as_missing
    features = schema.validate_features(frame)
    assert features["x"].isna().sum() == 4
    with pytest.raises(DataError, match="not numeric or date features: dept"):
        infer_schema(frame, "label", coerce_to_missing=["x", "dept"])


def test_rows_without_a_target_are_counted_in_the_log(caplog):
    frame = frame_with()
    frame.loc[[1, 2, 3], "label"] = np.nan
    schema = infer_schema(frame, "label")
    with caplog.at_level(logging.WARNING):
        features, target = schema.split_training(frame)
    assert len(target) == ROWS - 3
    assert "dropped 3 of 120 rows whose target 'label' is missing" in caplog.text
