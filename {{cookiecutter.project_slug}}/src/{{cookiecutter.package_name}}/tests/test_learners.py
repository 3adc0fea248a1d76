"""The linear learners: scikit-learn's contract, the encoded table, and saving with skops."""

import json

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from ..artifact import METADATA_FILE, MODEL_FILE, load_artifact
from ..config import LEARNERS
from ..errors import ArtifactError, ConfigError
from ..learners import LinearClassifier, LinearRegressor
from ..model import TabularClassifier, TabularRegressor
from ..tasks import BINARY, REGRESSION_TASK
from ..workflows import train_and_save


@parametrize_with_checks([LinearClassifier(), LinearRegressor()])
def test_scikit_learn_conventions(estimator, check):
    check(estimator)


def test_category_codes_are_one_hot_encoded_and_numbers_scaled():
    X = np.array([[1.0, 0.0], [np.nan, 1.0], [3.0, np.nan], [5.0, 1.0]])
    learner = LinearRegressor(categorical_features=[False, True]).fit(X, [1.0, 2.0, 3.0, 4.0])
    design = learner._design(X).toarray()
    # scaled number, its missing indicator, then one column per code with missing as a level
    assert design.shape == (4, 2 + 3)
    np.testing.assert_allclose(design[:, 0].mean(), 0.0, atol=1e-12)
    indicator = [-1 / np.sqrt(3), np.sqrt(3), -1 / np.sqrt(3), -1 / np.sqrt(3)]
    np.testing.assert_allclose(design[:, 1], indicator)
    assert design[:, 2:].tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]
    unseen = learner._design(np.array([[1.0, 7.0]])).toarray()
    assert unseen[0, 2:].tolist() == [0, 0, 0], "a code never seen in training is all zeros"
    by_position = LinearRegressor(categorical_features=[1]).fit(X, [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(by_position.predict(X), learner.predict(X))


@pytest.mark.parametrize(
    "mask, message",
    [([True], "has 1 entries but X has 2 columns"), ([5], "positions outside 0..1")],
)
def test_a_wrong_categorical_mask_is_refused(mask, message):
    with pytest.raises(ValueError, match=message):
        LinearClassifier(categorical_features=mask).fit(np.eye(2), [0, 1])


def test_the_linear_family_builds_for_each_task(binary):
    schema = binary.schema
    model = BINARY.build(schema, {"C": 0.5}, 3, "linear")
    assert isinstance(model, TabularClassifier)
    assert isinstance(model.learner, LinearClassifier)
    assert model.get_params()["learner__C"] == 0.5
    assert model.learner.random_state == 3
    regressor = REGRESSION_TASK.build(schema, {"alpha": 2.0}, 0, "linear")
    assert isinstance(regressor, TabularRegressor)
    assert isinstance(regressor.learner, LinearRegressor)
    assert REGRESSION_TASK.new_learner(LEARNERS[0]).__class__.__name__.startswith("HistGradient")
    with pytest.raises(ConfigError, match="model.params.alpha is not a hyperparameter of Linear"):
        BINARY.build(schema, {"alpha": 2.0}, 0, "linear")
    with pytest.raises(ConfigError, match="model.learner must be one of hist_gradient_boosting"):
        BINARY.new_learner("forest")


@pytest.mark.parametrize("task_name", ["binary", "regression"])
def test_a_linear_model_trains_saves_and_loads(models, task_name, tmp_path):
    config = models.config(task_name)
    config = config.with_overrides(model__learner="linear", model__params={})
    directory = train_and_save(config, tmp_path)
    loaded = load_artifact(directory)
    assert type(loaded.model.learner_).__name__.startswith("Linear")
    features = loaded.schema.validate_features(models.frame(task_name, "holdout"))
    assert loaded.model.predict(features).shape == (len(features),)
    holdout = loaded.metadata.metrics.holdout
    primary = "r2" if task_name == "regression" else "balanced_accuracy"
    assert holdout[primary] > loaded.metadata.metrics.baseline[primary] + 0.1
    hyperparameters = json.loads((directory / METADATA_FILE).read_text())["hyperparameters"]
    assert "learner__C" in hyperparameters or "learner__alpha" in hyperparameters

    with open(directory / MODEL_FILE, "ab") as handle:  # the hash check still guards it
        handle.write(b"\0")
    with pytest.raises(ArtifactError, match="does not match the SHA-256"):
        load_artifact(directory)
