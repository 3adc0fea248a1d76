"""Task definitions: what differs between binary, multiclass and regression lives here."""

import numpy as np
import pandas as pd
import pytest

from ..errors import ConfigError
from ..model import TabularClassifier, TabularRegressor
from ..schema import CLASSIFICATION, REGRESSION, TargetSpec, infer_schema
from ..tasks import (
    BINARY,
    MULTICLASS,
    REGRESSION_TASK,
    TASKS,
    Predictions,
    task_for,
)
from ..train import train


def frame_with(labels):
    rows = len(labels)
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"x": rng.normal(size=rows), "colour": rng.choice(["a", "b"], rows), "y": labels}
    )


@pytest.mark.parametrize(
    ("labels", "kind", "expected"),
    [
        ([0, 1] * 15, CLASSIFICATION, BINARY),
        (["no", "yes"] * 15, CLASSIFICATION, BINARY),
        (["a", "b", "c"] * 10, CLASSIFICATION, MULTICLASS),
        ([0, 1, 2] * 10, REGRESSION, REGRESSION_TASK),
        (np.linspace(0, 1, 30), REGRESSION, REGRESSION_TASK),
    ],
)
def test_task_for_reads_the_kind_and_the_classes(labels, kind, expected):
    schema = infer_schema(frame_with(labels), "y", task=kind, min_rows=10)
    assert task_for(schema) is expected
    assert expected.kind == kind and expected.is_classification == (kind == CLASSIFICATION)


def test_trained_artifacts_have_their_task(artifact, task_name):
    assert artifact.task is TASKS[task_name]
    assert isinstance(artifact.model, artifact.task.estimator)


def test_task_definitions():
    assert list(TASKS) == ["binary", "multiclass", "regression"]
    assert BINARY.primary_metric == MULTICLASS.primary_metric == "balanced_accuracy"
    assert REGRESSION_TASK.primary_metric == "r2"
    assert BINARY.estimator is MULTICLASS.estimator is TabularClassifier
    assert REGRESSION_TASK.estimator is TabularRegressor
    assert [plot.filename for plot in BINARY.plots] == [
        "confusion_matrix.png",
        "roc_curve.png",
        "precision_recall.png",
        "calibration.png",
    ]
    assert [plot.filename for plot in MULTICLASS.plots] == [
        "confusion_matrix.png",
        "calibration.png",
    ]
    assert [plot.filename for plot in REGRESSION_TASK.plots] == [
        "predicted_vs_actual.png",
        "residuals.png",
    ]


def test_binary_metrics():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    predictions = Predictions(np.array([0, 1, 0, 1]), probabilities, (0, 1))
    metrics = BINARY.metrics([0, 1, 1, 0], predictions)
    assert set(metrics) == {
        "accuracy",
        "balanced_accuracy",
        "f1",
        "average_precision",
        "log_loss",
        "roc_auc",
    }
    assert metrics["accuracy"] == 0.5 and metrics["f1"] == 0.5
    assert metrics["balanced_accuracy"] == 0.5
    assert metrics["average_precision"] == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert metrics["roc_auc"] == 0.75
    assert metrics["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.4, 0.3])))
    one_class = BINARY.metrics([1, 1, 1, 1], predictions)
    assert one_class["roc_auc"] is None and one_class["accuracy"] == 0.5
    with pytest.raises(ValueError, match="need class probabilities"):
        BINARY.metrics([0, 1], Predictions(np.array([0, 1])))


def test_multiclass_metrics_are_macro_and_one_vs_rest():
    classes = ("a", "b", "c")
    probabilities = np.eye(3)[[0, 1, 2, 0]] * 0.7 + 0.1
    predictions = Predictions(np.array(["a", "b", "c", "a"]), probabilities, classes)
    metrics = MULTICLASS.metrics(["a", "b", "c", "b"], predictions)
    assert metrics["accuracy"] == 0.75
    assert metrics["f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert 0.5 < metrics["roc_auc"] < 1


def test_regression_metrics():
    predictions = Predictions(np.array([1.0, 2.0, 5.0]))
    metrics = REGRESSION_TASK.metrics([1.0, 3.0, 3.0], predictions)
    assert set(metrics) == {"rmse", "mae", "r2"}
    assert metrics["mae"] == 1.0 and metrics["rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert metrics["r2"] == pytest.approx(1 - 5 / (8 / 3))
    assert REGRESSION_TASK.metrics([2.0, 2.0, 2.0], predictions)["r2"] is None


def test_baselines_predict_the_training_prior_or_mean():
    binary = BINARY.baseline(TargetSpec("y", classes=(0, 1), class_counts=(3, 1)))
    X = np.zeros((2, 1))
    np.testing.assert_allclose(binary.predict_proba(X), [[0.75, 0.25]] * 2)
    multiclass = MULTICLASS.baseline(
        TargetSpec("y", classes=("a", "b", "c"), class_counts=(1, 5, 2))
    )
    assert multiclass.predict(X).tolist() == ["b", "b"]
    assert multiclass.classes_.tolist() == ["a", "b", "c"]
    regression = REGRESSION_TASK.baseline(TargetSpec("y", mean=4.5))
    assert regression.predict(X).tolist() == [4.5, 4.5]


def test_predictions_as_frame_and_json():
    classified = Predictions(np.array([1, 0]), np.array([[0.25, 0.75], [0.5, 0.5]]), (0, 1))
    frame = classified.to_frame(pd.Index([10, 11]))
    assert list(frame.columns) == ["prediction", "probability_0", "probability_1"]
    assert frame.index.tolist() == [10, 11]
    assert frame["probability_1"].tolist() == [0.75, 0.5]
    assert classified.to_json() == {
        "predictions": [1, 0],
        "probabilities": [{"0": 0.25, "1": 0.75}, {"0": 0.5, "1": 0.5}],
    }
    regressed = Predictions(np.array([1.5, 2.5]))
    assert list(regressed.to_frame(pd.RangeIndex(2)).columns) == ["prediction"]
    assert regressed.to_json() == {"predictions": [1.5, 2.5]}


def test_task_predict_gives_plain_labels(models):
    artifact = models.artifact("binary")
    features = artifact.schema.validate_features(models.frame("binary", "holdout").head(5))
    predictions = BINARY.predict(artifact.model, features)
    assert predictions.classes == (0, 1) and type(predictions.classes[0]) is int
    np.testing.assert_array_equal(predictions.labels, artifact.model.predict(features))
    multiclass = models.artifact("multiclass")
    rows = multiclass.schema.validate_features(models.frame("multiclass", "holdout").head(5))
    assert MULTICLASS.predict(multiclass.model, rows).classes == ("bronze", "gold", "silver")


def test_build_refuses_an_unknown_hyperparameter_naming_it(binary):
    with pytest.raises(ConfigError) as raised:
        BINARY.build(binary.schema, {"max_iter": 5, "learning_rat": 0.1}, 0)
    message = str(raised.value)
    assert message.startswith("model.params.learning_rat is not a hyperparameter")
    assert "learning_rate" in message and "categorical_features" not in message
    with pytest.raises(ConfigError, match="model.params.categorical_features"):
        BINARY.build(binary.schema, {"categorical_features": [0]}, 0)


def test_unknown_hyperparameter_in_the_config_stops_training(models):
    config = models.config("regression")
    broken = config.with_overrides(model__params={"learning_rat": 0.1})
    with pytest.raises(ConfigError, match="model.params.learning_rat"):
        train(broken)


def test_build_passes_hyperparameters_through_to_the_fitted_learner(models):
    binary, regression = models.artifact("binary"), models.artifact("regression")
    features, target = binary.schema.split_training(models.frame("binary", "train"))
    model = BINARY.build(binary.schema, {"class_weight": "balanced", "max_iter": 5}, 7)
    assert model.get_params()["learner__class_weight"] == "balanced"
    model.fit(features, target)
    assert model.learner_.class_weight == "balanced" and model.learner_.random_state == 7
    assert model.categorical_features == ["contract", "plan", "region"]

    features, target = regression.schema.split_training(models.frame("regression", "train"))
    params = {"early_stopping": True, "n_iter_no_change": 2, "max_iter": 500}
    model = REGRESSION_TASK.build(regression.schema, params, 0).fit(features, target)
    assert model.learner_.early_stopping is True
    assert model.n_iter_ < 500, "early stopping stopped it"
