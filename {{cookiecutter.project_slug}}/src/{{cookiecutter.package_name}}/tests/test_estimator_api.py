"""The transformer and the models honour scikit-learn's developer contract."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from ..features import TabularPreprocessor
from ..model import TabularClassifier, TabularModel, TabularRegressor


@parametrize_with_checks(
    [
        TabularPreprocessor(),
        TabularClassifier(learner=HistGradientBoostingClassifier(max_iter=10)),
        TabularRegressor(learner=HistGradientBoostingRegressor(max_iter=10)),
    ]
)
def test_scikit_learn_conventions(estimator, check):
    check(estimator)


@pytest.fixture
def binary_data(binary, binary_frames):
    return binary.schema.split_training(binary_frames[0])


def test_the_learner_treats_the_codes_as_categories(artifact):
    model = artifact.model
    mask = model.preprocessor_.categorical_mask_
    assert mask.tolist() == [False] * 4 + [True] * 3
    np.testing.assert_array_equal(model.learner_.categorical_features, mask)
    np.testing.assert_array_equal(model.learner_.is_categorical_, mask)
    assert model.learner is not model.learner_, "the unfitted learner is left untouched"
    assert not isinstance(model.learner.categorical_features, np.ndarray)
    assert model.n_iter_ == model.learner_.n_iter_ == 50


def test_without_categorical_columns_the_learner_gets_none(binary_data):
    features, target = binary_data
    numeric = features[["tenure_months", "age"]]
    model = TabularClassifier(learner=HistGradientBoostingClassifier(max_iter=5)).fit(
        numeric, target
    )
    assert model.learner_.categorical_features is None
    assert model.preprocessor_.numeric_features_ == ["tenure_months", "age"]


@pytest.mark.parametrize(
    "params", [{"learner__max_iter": 7}, {"learner__learning_rate": 0.5, "learner__max_iter": 3}]
)
def test_hyperparameters_reach_the_learner(binary_data, params):
    features, target = binary_data
    model = TabularClassifier(learner=HistGradientBoostingClassifier()).set_params(**params)
    assert {key: model.get_params()[key] for key in params} == params
    model.fit(features, target)
    learner_params = model.learner_.get_params()
    assert all(learner_params[key.removeprefix("learner__")] == v for key, v in params.items())
    assert model.n_iter_ == params["learner__max_iter"]
    assert clone(model).get_params()["learner__max_iter"] == params["learner__max_iter"]


def test_the_learners_bin_limit_caps_the_category_codes(binary_data):
    features, target = binary_data
    learner = HistGradientBoostingRegressor(max_iter=3, max_bins=3)
    model = TabularRegressor(learner=learner).fit(features, target.astype(float))
    assert model.preprocessor_.max_categories == 3
    assert model.preprocessor_.target_encoded_features_ == ["region"], "4 levels > 3 bins"
    codes = model.preprocessor_.transform(features)[:, 4:6]
    assert set(codes[~np.isnan(codes)].tolist()) <= {0.0, 1.0, 2.0}


def test_default_learners():
    assert isinstance(TabularClassifier.default_learner(), HistGradientBoostingClassifier)
    assert isinstance(TabularRegressor.default_learner(), HistGradientBoostingRegressor)
    with pytest.raises(NotImplementedError):
        TabularModel.default_learner()


def test_a_classifier_needs_two_classes(binary_data):
    features, _ = binary_data
    with pytest.raises(ValueError, match="y has 1 class"):
        TabularClassifier().fit(features, np.zeros(len(features), dtype=int))


@pytest.mark.parametrize("name", ["binary", "multiclass"])
def test_predict_with_proba_matches_predict_and_predict_proba(models, name):
    artifact = models.artifact(name)
    features = artifact.schema.validate_features(models.frame(name, "holdout"))
    predictions, probabilities = artifact.model.predict_with_proba(features)
    assert (predictions == artifact.model.predict(features)).all()
    assert (probabilities == artifact.model.predict_proba(features)).all()
    assert probabilities.shape == (len(features), len(artifact.model.classes_))
