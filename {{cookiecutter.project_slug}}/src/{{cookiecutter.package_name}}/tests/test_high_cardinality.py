"""Categorical columns with more levels than the learner's bins: target-encoded, never densified."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from ..artifact import load_artifact
from ..features import TabularPreprocessor
from ..model import TabularClassifier, TabularRegressor
from ..scoring import score_rows
from ..workflows import train_and_save
from .conftest import CATEGORICAL_FEATURES

LEVELS = 60
MAX_BINS = 15


def wide_table(rows, seed=0):
    """A ``city`` column of ``LEVELS`` equally frequent levels that decides the label."""
    rng = np.random.default_rng(seed)
    level = rng.integers(0, LEVELS, rows)
    frame = pd.DataFrame(
        {
            "noise": rng.normal(size=rows),
            "city": [f"city{index:02d}" for index in level],
            "plan": rng.choice(["basic", "pro"], rows),
        }
    )
    return frame, (level % 2 == 0).astype(int)


@pytest.fixture
def table():
    return wide_table(1200)


def classifier(**params):
    learner = HistGradientBoostingClassifier(max_bins=MAX_BINS, max_iter=30, random_state=0)
    return TabularClassifier(learner=learner.set_params(**params))


def test_a_column_wider_than_the_bins_is_target_encoded(table):
    frame, target = table
    model = classifier().fit(frame, target)
    preprocessor = model.preprocessor_
    assert preprocessor.target_encoded_features_ == ["city"]
    assert preprocessor.categorical_features_ == ["plan"]
    assert preprocessor.categorical_mask_.tolist() == [False, True, False]
    assert preprocessor.get_feature_names_out().tolist() == ["noise", "plan", "city"]
    np.testing.assert_array_equal(model.learner_.is_categorical_, [False, True, False])


def test_its_levels_keep_their_signal(table):
    frame, target = table
    holdout, expected = wide_table(600, seed=1)
    accuracy = (classifier().fit(frame, target).predict(holdout) == expected).mean()
    assert accuracy > 0.95, "frequent levels plus 'other' would lose most of the 60 levels"


def test_training_rows_are_encoded_cross_fitted(table):
    frame, _ = table
    target = np.random.default_rng(2).integers(0, 2, len(frame))  # pure noise
    preprocessor = TabularPreprocessor(max_categories=MAX_BINS, random_state=0)
    cross_fitted = preprocessor.fit_transform(frame, target)[:, 2]
    in_sample = preprocessor.transform(frame)[:, 2]
    assert not np.allclose(cross_fitted, in_sample), "a row's own label must not encode it"
    learned = pd.Series(in_sample).groupby(frame["city"].to_numpy()).nunique()
    assert (learned == 1).all(), "rows to score get one value per level, from all rows"
    again = TabularPreprocessor(max_categories=MAX_BINS, random_state=0)
    np.testing.assert_array_equal(again.fit_transform(frame, target)[:, 2], cross_fitted)


def test_an_unseen_level_scores_as_the_targets_mean(table):
    frame, target = table
    model = classifier().fit(frame, target)
    unseen = frame.head(3).assign(city=["atlantis", None, "city00"])
    encoded = model.preprocessor_.transform(unseen)[:, 2]
    assert encoded[0] == pytest.approx(target.mean())
    assert not np.isnan(encoded).any()
    probabilities = model.predict_proba(unseen)
    assert np.isfinite(probabilities).all() and probabilities.shape == (3, 2)


def test_without_a_target_the_rarest_levels_share_a_code(table):
    frame, _ = table
    preprocessor = TabularPreprocessor(max_categories=MAX_BINS).fit(frame)
    assert preprocessor.target_encoded_features_ == []
    codes = preprocessor.transform(frame)[:, 1]
    assert set(codes.tolist()) == set(range(MAX_BINS))


def test_a_multiclass_target_encodes_one_column_per_class(table):
    frame, target = table
    labels = np.array(["low", "mid", "high"])[(target + (frame["noise"] > 0)).to_numpy()]
    model = classifier().fit(frame, labels)
    names = model.preprocessor_.get_feature_names_out().tolist()
    assert names[:2] == ["noise", "plan"] and len(names) == 5
    assert model.preprocessor_.categorical_mask_.tolist() == [False, True, False, False, False]
    assert set(model.predict(frame.head(20))) <= set(labels)


def test_a_whole_number_regression_target_is_encoded_as_continuous(table):
    frame, target = table
    learner = HistGradientBoostingRegressor(max_bins=MAX_BINS, max_iter=30)
    model = TabularRegressor(learner=learner).fit(frame, target * 10)
    assert model.preprocessor_.target_encoder_.target_type_ == "continuous"
    assert model.preprocessor_.get_feature_names_out().tolist() == ["noise", "plan", "city"]


def test_a_column_beyond_255_levels_trains_saves_and_scores(models, task_name, tmp_path):
    frame = models.frame(task_name, "train")
    frame["zip"] = [f"Z{index:04d}" for index in range(len(frame))]  # one level per row
    frame.to_csv(tmp_path / "train.csv", index=False)
    holdout = models.frame(task_name, "holdout")
    holdout["zip"] = [f"Z{index:04d}" for index in range(0, 2 * len(holdout), 2)]
    holdout.to_csv(tmp_path / "holdout.csv", index=False)
    config = models.config(task_name).with_overrides(
        data__train=tmp_path / "train.csv",
        data__holdout=tmp_path / "holdout.csv",
        data__categorical_features=[*CATEGORICAL_FEATURES, "zip"],
    )
    artifact = load_artifact(train_and_save(config, tmp_path / "models"))
    assert artifact.model.preprocessor_.target_encoded_features_ == ["zip"]
    zip_spec = next(spec for spec in artifact.schema.features if spec.name == "zip")
    assert len(zip_spec.categories) == len(frame), "the contract keeps every level"
    rows = holdout.head(5).assign(zip=["Z0000", "never", *"abc"])
    scored = score_rows(artifact, rows)
    assert len(scored.predictions.labels) == 5
    assert pd.notna(pd.Series(scored.predictions.labels)).all()
    assert artifact.schema.skew(scored.features)["zip"] == {"unseen_category": 4}
