"""Training is reproducible and produces a model worth shipping; the quality gate decides."""

import numpy as np
import pytest

from ..config import QualityConfig
from ..quality import quality_gate
from ..train import infer_training_schema, train

PRIMARY = "roc_auc"


def test_same_data_and_seed_give_identical_predictions(task_config, holdout_frame, artifact):
    first, second = train(task_config), train(task_config)
    features = first.schema.validate_features(holdout_frame)
    np.testing.assert_array_equal(first.model.predict(features), second.model.predict(features))
    if first.task.is_classification:
        np.testing.assert_array_equal(
            first.model.predict_proba(features), second.model.predict_proba(features)
        )
    assert first.data_sha256 == second.data_sha256
    assert first.n_rows == 400 and first.train_path == task_config.data.train
    assert first.task is artifact.task
    assert first.model.n_iter_ == task_config.model.params["max_iter"]


def test_a_different_seed_gives_a_different_model(models):
    config = models.config("binary")
    features = models.artifact("binary").schema.validate_features(
        models.frame("binary", "holdout")
    )
    params = {**config.model.params, "max_features": 0.5}
    first = train(config.with_overrides(model__params=params))
    other = train(config.with_overrides(model__params=params, model__random_state=1))
    assert not np.array_equal(
        first.model.predict_proba(features), other.model.predict_proba(features)
    )


def test_training_schema_follows_the_config(task_config, train_frame):
    schema = infer_training_schema(task_config, train_frame)
    assert schema.task == task_config.model.task
    assert schema.feature_names == list(task_config.data.numeric_features) + list(
        task_config.data.categorical_features
    )


def test_trained_model_meets_the_configured_quality_gate(artifact):
    metrics = artifact.metadata.metrics
    primary = artifact.task.primary_metric
    gate = quality_gate(
        metrics.holdout, metrics.baseline, artifact.metadata.settings.quality, primary
    )
    assert gate.passed, gate.failures
    assert metrics.holdout[primary] > metrics.baseline[primary]


def test_gate_fails_with_reasons_when_thresholds_are_missed():
    thresholds = QualityConfig(minimum={"a": 0.9}, maximum={"b": 0.1}, baseline_margin=0.2)
    metrics = {"a": 0.5, "b": 0.5, PRIMARY: 0.6}
    gate = quality_gate(metrics, {PRIMARY: 0.5}, thresholds, PRIMARY)
    assert not gate.passed
    assert [line.split()[0] for line in gate.failures] == ["a", "b", PRIMARY]
    assert len(gate.checks) == 3


def test_gate_treats_an_unreported_metric_as_a_failure():
    thresholds = QualityConfig(minimum={"x": 0}, maximum={"y": 1})
    gate = quality_gate({PRIMARY: 0.9}, {PRIMARY: 0.5}, thresholds, PRIMARY)
    assert not gate.passed and "not reported" in gate.failures[0]
    assert gate.failures[1] == "y: not reported, required <= 1"
    gate = quality_gate({}, {}, QualityConfig(), PRIMARY)
    assert not gate.passed and "missing" in gate.failures[0]
    gate = quality_gate({"r2": 0.5}, {"r2": None}, QualityConfig(), "r2")
    assert not gate.passed, "an undefined baseline metric cannot be beaten"


@pytest.mark.parametrize("primary", ["roc_auc", "r2"])
def test_gate_passes_when_every_check_holds(primary):
    thresholds = QualityConfig(minimum={"a": 0.5}, maximum={"b": 0.5}, baseline_margin=0.1)
    gate = quality_gate({"a": 0.5, "b": 0.5, primary: 0.7}, {primary: 0.6}, thresholds, primary)
    assert gate.passed and not gate.failures
    assert all(line.startswith("PASS") for line in gate.checks)
    assert gate.checks[-1].startswith(f"PASS {primary} = 0.7000 vs dummy baseline 0.6000")
