"""The data contract: inferred at training, enforced on every later input."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from ..errors import DataError
from ..schema import (
    CATEGORICAL,
    CLASSIFICATION,
    NUMERIC,
    REGRESSION,
    Schema,
    as_category_strings,
    coerce_target,
    infer_column_kinds,
    infer_schema,
)

TARGET = "y"


def labelled(task=CLASSIFICATION, rows=30, **columns):
    frame = pd.DataFrame(
        {
            "size": np.arange(rows, dtype=float),
            "colour": ["red", "blue", "green"] * (rows // 3),
            TARGET: [0, 1] * (rows // 2) if task == CLASSIFICATION else np.linspace(0, 10, rows),
        }
    )
    return frame.assign(**columns)


def test_schema_records_kinds_ranges_categories_and_missing(binary, binary_frames):
    schema, (train_frame, _) = binary.schema, binary_frames
    by_name = {spec.name: spec for spec in schema.features}
    assert by_name["tenure_months"].kind == NUMERIC
    assert by_name["tenure_months"].minimum == train_frame["tenure_months"].min()
    assert by_name["contract"].kind == CATEGORICAL
    assert set(by_name["contract"].categories) == set(train_frame["contract"].unique())
    assert by_name["monthly_charges"].nullable and not by_name["tenure_months"].nullable
    assert schema.target.name == "churned" and schema.task == CLASSIFICATION
    assert schema.target.classes == (0, 1)
    assert sum(schema.target.class_counts) == len(train_frame)
    assert "churned" not in schema.feature_names


def test_target_spec_of_each_task(models):
    multiclass = models.artifact("multiclass").schema.target
    assert multiclass.classes == ("bronze", "gold", "silver") and multiclass.mean is None
    regression = models.artifact("regression").schema
    train_frame = models.frame("regression", "train")
    assert regression.task == REGRESSION and regression.target.classes == ()
    assert regression.target.mean == pytest.approx(train_frame["lifetime_value"].mean())


def test_schema_survives_json(artifact):
    schema = artifact.schema
    assert Schema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema


def test_kinds_are_inferred_from_dtypes_when_not_listed():
    schema = infer_schema(labelled(flag=[True, False] * 15), TARGET)
    assert [spec.kind for spec in schema.features] == [NUMERIC, CATEGORICAL, "boolean"]
    assert schema.columns_of_kind(NUMERIC) == ["size", "flag"]  # booleans are 0/1 inputs
    assert schema.columns_of_kind(CATEGORICAL) == ["colour"]


def test_column_kinds_are_guessed_in_one_place():
    frame = pd.DataFrame({"n": [1.5], "i": [2], "b": [True], "s": ["x"]})
    assert infer_column_kinds(frame, frame.columns) == (["n", "i"], ["b", "s"])


@pytest.mark.parametrize(
    ("task", "frame", "kwargs", "message"),
    [
        (CLASSIFICATION, labelled().iloc[0:0], {}, "no rows"),
        (CLASSIFICATION, labelled().drop(columns=[TARGET]), {}, f"target column '{TARGET}' is"),
        (CLASSIFICATION, labelled().assign(**{TARGET: np.nan}), {}, "all missing"),
        (CLASSIFICATION, labelled(), {"min_rows": 100}, "at least 100"),
        (
            CLASSIFICATION,
            labelled(email="a@b.c"),
            {"forbidden_features": ["email"]},
            "forbidden feature.*email",
        ),
        (
            CLASSIFICATION,
            labelled(),
            {"numeric_features": ["size", "weight"]},
            "missing from the data: weight",
        ),
        (
            CLASSIFICATION,
            labelled(),
            {"numeric_features": ["size"], "categorical_features": ["size"]},
            "both numeric and categorical: size",
        ),
        (
            CLASSIFICATION,
            labelled(),
            {"numeric_features": ["size", "colour"]},
            "colour: expected numbers, got non-numeric values 'red'",
        ),
        (CLASSIFICATION, labelled(size=[np.inf, 1.0] * 15), {}, "size: contains non-finite"),
        (CLASSIFICATION, labelled(size=True), {"numeric_features": ["size"]}, "got booleans"),
        (CLASSIFICATION, labelled(), {"ignore_columns": ["size", "colour"]}, "no feature"),
        (CLASSIFICATION, labelled(**{TARGET: 1}), {}, "single class"),
        (REGRESSION, labelled(REGRESSION, **{TARGET: "high"}), {}, "must be numeric"),
    ],
)
def test_bad_training_data_is_refused_with_the_column_named(task, frame, kwargs, message):
    with pytest.raises(DataError, match=message) as raised:
        infer_schema(frame, TARGET, task=task, **{"min_rows": 10, **kwargs})
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("task", [CLASSIFICATION, REGRESSION])
def test_rows_without_target_are_dropped_for_training(task):
    frame = labelled(task)
    frame.loc[0, TARGET] = np.nan
    schema = infer_schema(frame, TARGET, task=task, min_rows=10)
    features, target = schema.split_training(frame)
    assert len(features) == len(target) == len(frame) - 1
    assert target.dtype == (np.int64 if task == CLASSIFICATION else np.float64)
    with pytest.raises(DataError, match="target column 'y' is missing"):
        schema.split_training(frame.drop(columns=[TARGET]))


def test_targets_are_read_as_the_task_says():
    assert coerce_target(pd.Series([1.0, 0.0]), CLASSIFICATION).tolist() == [1, 0]
    assert coerce_target(pd.Series([0.5, 1.0]), CLASSIFICATION).tolist() == [0.5, 1.0]
    assert coerce_target(pd.Series(["a", "b"]), CLASSIFICATION).dtype == object
    assert coerce_target(pd.Series(["1.5", 2]), REGRESSION).tolist() == [1.5, 2.0]
    with pytest.raises(DataError, match="'y' must be numeric for regression; got 'x'"):
        coerce_target(pd.Series(["x", 1], name="y"), REGRESSION)


def test_category_strings_print_whole_floats_as_integers():
    values = as_category_strings(pd.Series([1.0, np.nan, 3.0]))
    assert values.iloc[0] == "1" and values.iloc[2] == "3" and math.isnan(values.iloc[1])
    assert as_category_strings(pd.Series([1.5, 2.0])).tolist() == ["1.5", "2.0"]
    assert as_category_strings(pd.Series([True, False])).tolist() == ["True", "False"]


def test_validate_features_coerces_to_the_trained_representation(artifact, holdout_frame):
    schema = artifact.schema
    features = schema.validate_features(holdout_frame)
    assert list(features.columns) == schema.feature_names
    assert features.index.equals(holdout_frame.index)
    for name in schema.columns_of_kind(NUMERIC):
        assert features[name].dtype == np.float64
    for name in schema.columns_of_kind(CATEGORICAL):
        assert features[name].dtype == object


def test_validate_features_names_every_problem(binary, binary_frames):
    frame = binary_frames[1].head(3).drop(columns=["age", "churned"]).assign(shoe_size=1)
    frame["tenure_months"] = frame["tenure_months"].astype(object)
    frame.loc[frame.index[0], "tenure_months"] = "long"
    frame["contract"] = frame["contract"].astype(object)
    frame.loc[frame.index[0], "contract"] = True
    frame["region"] = True
    with pytest.raises(DataError) as raised:
        binary.schema.validate_features(frame, allow_extra=False, strict_types=True)
    assert raised.value.problems == {
        "age": "required feature is missing",
        "shoe_size": "unknown feature",
        "tenure_months": "expected numbers, got 'long'",
        "contract": "expected strings, got True",
        "region": "expected strings, got booleans",
    }
    assert str(raised.value).startswith("invalid data: age: required feature is missing; ")


def test_lenient_mode_parses_numbers_in_text(binary, binary_frames):
    holdout_frame = binary_frames[1]
    frame = holdout_frame.head(2).astype({"tenure_months": str})
    assert binary.schema.validate_features(frame)["tenure_months"].tolist() == [
        float(v) for v in holdout_frame["tenure_months"].head(2)
    ]


def test_example_row_is_valid_and_inside_the_ranges(artifact):
    schema = artifact.schema
    row = pd.DataFrame([schema.example_row()])
    assert schema.skew(schema.validate_features(row, allow_extra=False, strict_types=True)) == {}


def test_skew_counts_values_training_never_saw(binary, binary_frames):
    schema, (train_frame, holdout_frame) = binary.schema, binary_frames
    row = train_frame.head(1).copy()
    row["tenure_months"] = 10_000
    row["region"] = "atlantis"
    row["support_calls"] = math.nan
    skew = schema.skew(schema.validate_features(row))
    assert skew == {
        "tenure_months": {"out_of_range": 1},
        "support_calls": {"unexpected_missing": 1},
        "region": {"unseen_category": 1},
    }
    assert schema.skew(schema.validate_features(holdout_frame.head(0))) == {}
