"""Permutation importance through the whole model, the flag on useless features, their cost."""

import json

import numpy as np
import pytest

from ..importance import HELP_RULE, feature_importance
from ..schema import CATEGORICAL, infer_schema
from ..tasks import task_for
from .conftest import CATEGORICAL_FEATURES, NUMERIC_FEATURES


def with_noise(frame, seed):
    """``frame`` plus a numeric and a categorical column of pure noise."""
    rng = np.random.default_rng(seed)
    return frame.assign(
        noise=rng.normal(size=len(frame)), noise_level=rng.choice(list("abcde"), len(frame))
    )


def fit(config, train, numeric, categorical, **params):
    """A model of the task's kind on ``train``, with the config's hyperparameters."""
    schema = infer_schema(
        train,
        config.data.target,
        task=config.model.task,
        numeric_features=numeric,
        categorical_features=categorical,
    )
    task = task_for(schema)
    model = task.build(schema, {**config.model.params, **params}, random_state=0)
    return model.fit(*schema.split_training(train)), schema, task


def test_noise_is_flagged_and_an_informative_feature_is_not(
    task_config, train_frame, holdout_frame
):
    model, schema, task = fit(
        task_config,
        with_noise(train_frame, 3),
        [*NUMERIC_FEATURES, "noise"],
        [*CATEGORICAL_FEATURES, "noise_level"],
    )
    result = feature_importance(model, schema, task, with_noise(holdout_frame, 4), n_repeats=4)
    by_name = {feature.name: feature for feature in result.features}
    assert not by_name["noise"].helps and not by_name["noise_level"].helps
    assert {"noise", "noise_level"} <= set(result.not_helping)
    tenure = by_name["tenure_months"]  # drives the target of every task
    assert tenure.helps and tenure.importance > 2 * tenure.standard_error > 0
    assert "tenure_months" not in result.not_helping
    assert result.metric == ("log_loss" if task.is_classification else "r2")
    assert result.rule == HELP_RULE


def test_every_feature_gets_its_encoding_levels_missing_share_and_timings(artifact, holdout_frame):
    schema = artifact.schema
    result = feature_importance(
        artifact.model, schema, artifact.task, holdout_frame, n_repeats=2, random_state=3
    )
    assert sorted(feature.name for feature in result.features) == sorted(schema.feature_names)
    values = [feature.importance for feature in result.features]
    assert values == sorted(values, reverse=True)
    assert result.rows == len(holdout_frame) and result.n_repeats == 2
    specs = {spec.name: spec for spec in schema.features}
    for feature in result.features:
        spec = specs[feature.name]
        if spec.kind == CATEGORICAL:
            assert feature.encoding == "category codes" and feature.levels == len(spec.categories)
        else:
            assert feature.encoding == "number (passed through)" and feature.levels is None
        assert feature.model_inputs == 1
        assert feature.missing_share == pytest.approx(holdout_frame[feature.name].isna().mean())
        assert feature.helps == (feature.importance > 2 * feature.standard_error)
        assert feature.standard_error > 0 and feature.repeat_std >= 0
        assert feature.contract_ms_per_1000_rows > 0
    assert set(result.step_ms_per_1000_rows) == {"contract", "encode", "learner"}
    assert all(value > 0 for value in result.step_ms_per_1000_rows.values())
    written = json.loads(json.dumps(result.to_dict()))
    assert written["not_helping"] == result.not_helping
    assert [row["name"] for row in written["features"]] == [f.name for f in result.features]


def test_large_data_is_sampled_and_the_sample_is_seeded(binary, binary_frames):
    _, holdout = binary_frames
    runs = [
        feature_importance(
            binary.model, binary.schema, binary.task, holdout, n_repeats=1, max_rows=60
        )
        for _ in range(2)
    ]
    assert runs[0].rows == 60
    assert [f.importance for f in runs[0].features] == [f.importance for f in runs[1].features]


def test_a_wide_categorical_column_is_reported_as_target_encoded(
    task_name, task_config, train_frame, holdout_frame
):
    model, schema, task = fit(
        task_config, train_frame, NUMERIC_FEATURES, CATEGORICAL_FEATURES, max_bins=3
    )
    result = feature_importance(model, schema, task, holdout_frame, n_repeats=1)
    region = next(feature for feature in result.features if feature.name == "region")
    columns = 3 if task_name == "multiclass" else 1  # one per class of a multiclass target
    assert region.encoding == f"target-encoded ({columns} column(s))"
    assert region.model_inputs == columns and region.levels == 4
