"""Training is reproducible and produces a model worth shipping."""

import numpy as np

from {{ cookiecutter.package_name }}.config import QualityConfig
from {{ cookiecutter.package_name }}.quality import PRIMARY_METRIC, quality_gate
from {{ cookiecutter.package_name }}.train import train


def test_same_data_and_seed_give_identical_predictions(config, holdout_frame):
    first, second = train(config), train(config)
    features = first.schema.validate_features(holdout_frame)
    np.testing.assert_array_equal(first.model.predict(features), second.model.predict(features))
{%- if cookiecutter.ml_task == "classification" %}
    np.testing.assert_array_equal(
        first.model.predict_proba(features), second.model.predict_proba(features)
    )
{%- endif %}
    assert first.data_sha256 == second.data_sha256
    assert first.n_rows == 400


def test_trained_model_meets_the_configured_quality_gate(artifact):
    metrics = artifact.metadata["metrics"]
    thresholds = QualityConfig(**artifact.metadata["settings"]["quality"])
    gate = quality_gate(metrics["holdout"], metrics["baseline"], thresholds)
    assert gate.passed, gate.failures
    assert metrics["holdout"][PRIMARY_METRIC] > metrics["baseline"][PRIMARY_METRIC]


def test_gate_fails_with_reasons_when_thresholds_are_missed():
    thresholds = QualityConfig(minimum={"a": 0.9}, maximum={"b": 0.1}, baseline_margin=0.2)
    metrics = {"a": 0.5, "b": 0.5, PRIMARY_METRIC: 0.6}
    gate = quality_gate(metrics, {PRIMARY_METRIC: 0.5}, thresholds)
    assert not gate.passed
    assert [line.split()[0] for line in gate.failures] == ["a", "b", PRIMARY_METRIC]
    assert len(gate.checks) == 3


def test_gate_treats_an_unreported_metric_as_a_failure():
    gate = quality_gate(
        {PRIMARY_METRIC: 0.9}, {PRIMARY_METRIC: 0.5}, QualityConfig(minimum={"x": 0})
    )
    assert not gate.passed and "not reported" in gate.failures[0]
    gate = quality_gate({}, {}, QualityConfig())
    assert not gate.passed and "missing" in gate.failures[0]


def test_gate_passes_when_every_check_holds():
    thresholds = QualityConfig(minimum={"a": 0.5}, maximum={"b": 0.5}, baseline_margin=0.1)
    gate = quality_gate(
        {"a": 0.5, "b": 0.5, PRIMARY_METRIC: 0.7}, {PRIMARY_METRIC: 0.6}, thresholds
    )
    assert gate.passed and not gate.failures
    assert all(line.startswith("PASS") for line in gate.checks)
