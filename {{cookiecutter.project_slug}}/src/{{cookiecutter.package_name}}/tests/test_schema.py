"""The data contract: inferred at training, enforced on every later input."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.errors import DataError
from {{ cookiecutter.package_name }}.schema import CATEGORICAL, NUMERIC, Schema, infer_schema

TARGET = "{{ 'churned' if cookiecutter.ml_task == 'classification' else 'lifetime_value' }}"


def labelled(rows=30, **columns):
    frame = pd.DataFrame(
        {
            "size": np.arange(rows, dtype=float),
            "colour": ["red", "blue", "green"] * (rows // 3),
{%- if cookiecutter.ml_task == "classification" %}
            TARGET: [0, 1] * (rows // 2),
{%- else %}
            TARGET: np.linspace(0.0, 10.0, rows),
{%- endif %}
        }
    )
    return frame.assign(**columns)


def test_schema_records_kinds_ranges_categories_and_missing(schema, train_frame):
    by_name = {spec.name: spec for spec in schema.features}
    assert by_name["tenure_months"].kind == NUMERIC
    assert by_name["tenure_months"].minimum == train_frame["tenure_months"].min()
    assert by_name["contract"].kind == CATEGORICAL
    assert set(by_name["contract"].categories) == set(train_frame["contract"].unique())
    assert by_name["monthly_charges"].nullable and not by_name["tenure_months"].nullable
    assert schema.target.name == TARGET
    assert TARGET not in schema.feature_names


def test_schema_survives_json(schema):
    assert Schema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema


def test_kinds_are_inferred_from_dtypes_when_not_listed():
    schema = infer_schema(labelled(), TARGET)
    assert schema.columns_of_kind(NUMERIC) == ["size"]
    assert schema.columns_of_kind(CATEGORICAL) == ["colour"]


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (labelled().iloc[0:0], {}, "no rows"),
        (labelled().drop(columns=[TARGET]), {}, f"target column '{TARGET}' is missing"),
        (labelled().assign(**{TARGET: np.nan}), {}, "all missing"),
        (labelled(), {"min_rows": 100}, "at least 100"),
        (labelled(email="a@b.c"), {"forbidden_features": ["email"]}, "forbidden feature.*email"),
        (labelled(), {"numeric_features": ["size", "weight"]}, "missing from the data: weight"),
        (
            labelled(),
            {"numeric_features": ["size", "colour"]},
            "colour: expected numbers, got non-numeric values 'red'",
        ),
        (labelled(size=np.inf), {}, "size: contains non-finite"),
{%- if cookiecutter.ml_task == "classification" %}
        (labelled(**{TARGET: 1}), {}, "single class"),
{%- else %}
        (labelled(**{TARGET: "high"}), {}, "must be numeric"),
{%- endif %}
    ],
)
def test_bad_training_data_is_refused_with_the_column_named(frame, kwargs, message):
    with pytest.raises(DataError, match=message) as raised:
        infer_schema(frame, TARGET, **{"min_rows": 10, **kwargs})
    assert "\n" not in str(raised.value)


def test_rows_without_target_are_dropped_for_training():
    frame = labelled()
    frame.loc[0, TARGET] = np.nan
    schema = infer_schema(frame, TARGET, min_rows=10)
    features, target = schema.split_training(frame)
    assert len(features) == len(target) == len(frame) - 1


def test_validate_features_coerces_to_the_trained_representation(schema, holdout_frame):
    features = schema.validate_features(holdout_frame)
    assert list(features.columns) == schema.feature_names
    for name in schema.columns_of_kind(NUMERIC):
        assert features[name].dtype == np.float64
    for name in schema.columns_of_kind(CATEGORICAL):
        assert features[name].dtype == object


def test_validate_features_names_every_problem(schema, holdout_frame):
    frame = holdout_frame.head(3).drop(columns=["age"]).assign(shoe_size=1)
    frame["tenure_months"] = frame["tenure_months"].astype(object)
    frame.loc[frame.index[0], "tenure_months"] = "long"
    frame["contract"] = frame["contract"].astype(object)
    frame.loc[frame.index[0], "contract"] = True
    with pytest.raises(DataError) as raised:
        schema.validate_features(
            frame.drop(columns=[TARGET]), allow_extra=False, strict_types=True
        )
    assert raised.value.problems == {
        "age": "required feature is missing",
        "shoe_size": "unknown feature",
        "tenure_months": "expected numbers, got 'long'",
        "contract": "expected strings, got True",
    }


def test_lenient_mode_parses_numbers_in_text(schema, holdout_frame):
    frame = holdout_frame.head(2).astype({"tenure_months": str})
    assert schema.validate_features(frame)["tenure_months"].tolist() == [
        float(v) for v in holdout_frame["tenure_months"].head(2)
    ]


def test_skew_counts_values_training_never_saw(schema, train_frame, holdout_frame):
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
