"""Native categorical encoding: numbers pass through, categories become fixed codes."""

import pickle

import numpy as np
import pandas as pd
import pytest

from ..features import TabularPreprocessor
from ..schema import as_category_strings

NUMERIC = ["tenure_months", "monthly_charges", "support_calls", "age"]
CATEGORICAL = ["contract", "plan", "region"]


@pytest.fixture
def features(binary, binary_frames):
    """The binary task's training features, as the data contract delivers them."""
    return binary.schema.validate_features(binary_frames[0])


@pytest.fixture
def fitted(features):
    return TabularPreprocessor(NUMERIC, CATEGORICAL).fit(features)


def test_numbers_pass_through_unscaled_with_their_missing_values(fitted, features):
    encoded = fitted.transform(features)
    assert encoded.dtype == np.float64 and encoded.shape == (len(features), 7)
    np.testing.assert_array_equal(encoded[:, :4], features[NUMERIC].to_numpy(dtype=float))
    assert np.isnan(encoded[:, 1]).sum() == features["monthly_charges"].isna().sum() > 0


def test_output_is_numeric_columns_then_category_codes(fitted):
    assert fitted.categorical_mask_.tolist() == [False] * 4 + [True] * 3
    assert fitted.get_feature_names_out().tolist() == NUMERIC + CATEGORICAL
    assert fitted.numeric_features_ == NUMERIC and fitted.categorical_features_ == CATEGORICAL


def test_categories_are_fixed_at_fit(fitted, features):
    encoded = fitted.transform(features)
    contract = dict(zip(features["contract"], encoded[:, 4]))
    assert sorted(contract.values()) == [0.0, 1.0, 2.0]
    one_row = features.head(1).assign(contract="two-year")
    assert fitted.transform(one_row)[0, 4] == contract["two-year"]
    plan = encoded[:, 5]
    assert np.isnan(plan[features["plan"].isna().to_numpy()]).all(), "missing stays missing"


def test_unseen_category_becomes_missing(fitted, features):
    unseen = features.head(2).assign(region="atlantis")
    encoded = fitted.transform(unseen)
    assert np.isnan(encoded[:, 6]).all()
    assert not np.isnan(encoded[:, 4]).any()


def test_rare_levels_beyond_max_categories_share_a_code():
    frame = pd.DataFrame({"level": [f"l{i}" for i in range(10) for _ in range(10 - i)]})
    encoded = TabularPreprocessor(max_categories=3).fit_transform(frame)
    codes = set(encoded[:, 0].tolist())
    assert len(codes) <= 3 and codes <= {0.0, 1.0, 2.0}
    full = TabularPreprocessor().fit_transform(frame)
    assert len(set(full[:, 0].tolist())) == 10


@pytest.mark.parametrize("max_categories", [255, 3])
def test_codes_are_those_of_the_fitted_encoder(max_categories):
    # transform looks codes up in dictionaries built from encoder_: they must agree with the
    # encoder itself on known, infrequent, unseen, missing and whole-float values.
    levels = [f"l{i}" for i in range(8) for _ in range(8 - i)]
    train = pd.DataFrame({"level": levels, "code": [i % 4 for i in range(len(levels))]})
    train.loc[0, "level"] = None
    preprocessor = TabularPreprocessor(categorical_features=["level", "code"])
    preprocessor.set_params(max_categories=max_categories).fit(train)
    later = pd.DataFrame(
        {
            "level": ["l0", "l7", "unseen", None, "l3", np.nan],
            "code": [0.0, 3.0, np.nan, 9.0, 1.0, 2.0],
        }
    )
    strings = later.apply(as_category_strings)
    expected = preprocessor.encoder_.transform(strings)
    np.testing.assert_array_equal(preprocessor.transform(later), expected)
    assert np.isnan(expected[[2, 3, 5], 0]).all() and np.isnan(expected[[2, 3], 1]).all()
    if max_categories == 3:
        assert expected[1, 0] == expected[4, 0], "l7 and l3 share the infrequent code"


def test_encoding_adds_no_state_to_the_saved_model(fitted, features):
    # The code dictionaries live beside the encoder, so a saved model is what fit made.
    state = pickle.dumps(fitted)
    fitted.transform(features.head(3))
    assert pickle.dumps(fitted) == state
    assert set(vars(fitted)) == set(vars(pickle.loads(state)))


def test_kinds_are_inferred_from_dtypes_without_lists():
    frame = pd.DataFrame({"n": [1.0, np.nan, 3.0], "code": [1.0, np.nan, 2.0], "s": list("aba")})
    preprocessor = TabularPreprocessor(categorical_features=["code", "s"]).fit(frame)
    assert preprocessor.numeric_features_ == [] and preprocessor.categorical_features_ == [
        "code",
        "s",
    ]
    inferred = TabularPreprocessor().fit(frame)
    assert inferred.numeric_features_ == ["n", "code"] and inferred.categorical_features_ == ["s"]
    assert inferred.transform(frame)[:, 2].tolist() == [0.0, 1.0, 0.0]


def test_whole_float_codes_match_their_integer_category():
    train = pd.DataFrame({"code": [1, 2, 1]})
    preprocessor = TabularPreprocessor(categorical_features=["code"]).fit(train)
    later = pd.DataFrame({"code": [1.0, np.nan, 2.0]})
    assert preprocessor.transform(later)[[0, 2], 0].tolist() == [0.0, 1.0]


def test_arrays_are_all_numeric():
    X = np.array([[1.0, np.nan], [3.0, 4.0]])
    preprocessor = TabularPreprocessor().fit(X)
    np.testing.assert_array_equal(preprocessor.transform(X), X)
    assert preprocessor.encoder_ is None and not preprocessor.categorical_mask_.any()
    assert preprocessor.get_feature_names_out().tolist() == ["x0", "x1"]


def test_empty_frames_and_infinities_are_refused(features):
    with pytest.raises(ValueError, match="0 sample"):
        TabularPreprocessor().fit(features.head(0))
    with pytest.raises(ValueError, match="[Ii]nfinity"):
        TabularPreprocessor().fit(np.array([[np.inf]]))
