"""The transformer and the estimator honour scikit-learn's developer contract."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from {{ cookiecutter.package_name }}.features import TabularPreprocessor
from {{ cookiecutter.package_name }}.model import Model


@parametrize_with_checks([TabularPreprocessor(), Model(max_iter=20)])
def test_scikit_learn_conventions(estimator, check):
    check(estimator)


def test_set_output_pandas_keeps_readable_feature_names(train_frame, schema):
    features = schema.validate_features(train_frame)
    preprocessor = TabularPreprocessor().set_output(transform="pandas")
    encoded = preprocessor.fit_transform(features)
    assert list(encoded.columns) == list(preprocessor.get_feature_names_out())
    assert "tenure_months" in encoded.columns
    assert {"contract_month-to-month", "contract_one-year", "contract_two-year"} <= set(
        encoded.columns
    )
    assert not encoded.isna().any().any(), "imputation must leave no missing values"


def test_unknown_category_is_tolerated(train_frame, schema):
    features = schema.validate_features(train_frame)
    preprocessor = TabularPreprocessor().fit(features)
    unseen = features.head(1).assign(region="atlantis")
    encoded = preprocessor.transform(unseen)
    region_columns = [
        i
        for i, name in enumerate(preprocessor.get_feature_names_out())
        if name.startswith("region_")
    ]
    assert encoded[0, region_columns].sum() == 0


@pytest.mark.parametrize("params", [{"max_iter": 5}, {"learning_rate": 0.5, "max_leaf_nodes": 4}])
def test_hyperparameters_reach_the_learner(params):
    model = Model(**params)
    assert model.get_params()[next(iter(params))] == next(iter(params.values()))
{%- if cookiecutter.ml_task == "classification" %}


def test_predict_with_proba_matches_predict_and_predict_proba(artifact, holdout_frame):
    features = artifact.schema.validate_features(holdout_frame)
    predictions, probabilities = artifact.model.predict_with_proba(features)
    assert (predictions == artifact.model.predict(features)).all()
    assert (probabilities == artifact.model.predict_proba(features)).all()
{%- endif %}
