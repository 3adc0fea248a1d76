"""The evaluation report: metrics against a baseline, slices, plots and a model card."""

import json

import pytest

from {{ cookiecutter.package_name }}.errors import DataError
from {{ cookiecutter.package_name }}.evaluate import (
    METRICS_FILE,
    MODEL_CARD_FILE,
    PLOT_FILES,
    baseline_model,
    compute_metrics,
    evaluate,
)
from {{ cookiecutter.package_name }}.workflows import evaluate_artifact

METRIC_NAMES = {{ '{"accuracy", "f1", "roc_auc", "log_loss"}' if cookiecutter.ml_task == 'classification' else '{"rmse", "mae", "r2"}' }}


@pytest.fixture(scope="module")
def report(artifact, tmp_path_factory):
    output = tmp_path_factory.mktemp("report") / "out"
    run = evaluate_artifact(artifact, output_dir=output)
    return run, output


def test_report_files_exist_and_hold_the_numbers(report, artifact, holdout_frame):
    run, output = report
    assert sorted(p.name for p in output.iterdir()) == sorted(
        [METRICS_FILE, MODEL_CARD_FILE, *PLOT_FILES]
    )
    written = json.loads((output / METRICS_FILE).read_text(encoding="utf-8"))
    assert set(written["metrics"]) == METRIC_NAMES
    assert written["metrics"] == run.evaluation.metrics
    assert written["n_rows"] == len(holdout_frame)
    assert written["gate"]["passed"] is True
    features, target = artifact.schema.split_training(holdout_frame)
{%- if cookiecutter.ml_task == "classification" %}
    expected = compute_metrics(
        target,
        artifact.model.predict(features),
        artifact.model.predict_proba(features),
        artifact.model.classes_,
    )
{%- else %}
    expected = compute_metrics(target, artifact.model.predict(features))
{%- endif %}
    assert written["metrics"] == pytest.approx(expected)
    for name in PLOT_FILES:
        assert (output / name).read_bytes().startswith(b"\x89PNG"), name


def test_model_card_states_metrics_baseline_slices_and_versions(report, artifact):
    run, output = report
    card = (output / MODEL_CARD_FILE).read_text(encoding="utf-8")
    for heading in ["## Intended use", "## Holdout metrics", "## Slices", "## Versions"]:
        assert heading in card
    assert artifact.metadata["training_data_sha256"] in card
    name, value = next(iter(run.evaluation.metrics.items()))
    assert f"| {name} | {value:.4f} | {run.evaluation.baseline[name]:.4f} |" in card


def test_slices_cover_every_value_of_each_slice_column(report, holdout_frame):
    run, _ = report
    assert set(run.evaluation.slices) == set(["contract", "region"])
    contract = run.evaluation.slices["contract"]
    assert {group["value"] for group in contract} == set(holdout_frame["contract"].unique())
    assert sum(group["rows"] for group in contract) == len(holdout_frame)


def test_numeric_slices_use_quartiles(artifact, holdout_frame):
    evaluation = evaluate(artifact.model, artifact.schema, holdout_frame, ["tenure_months"])
    groups = evaluation.slices["tenure_months"]
    assert len(groups) == 4
    assert sum(group["rows"] for group in groups) == len(holdout_frame)


def test_baseline_is_the_training_prior(artifact, holdout_frame):
    baseline = baseline_model(artifact.schema)
    prediction = baseline.predict(holdout_frame.head(3))
{%- if cookiecutter.ml_task == "classification" %}
    counts = dict(zip(artifact.schema.target.classes, artifact.schema.target.class_counts))
    assert set(prediction) == {max(counts, key=counts.get)}
{%- else %}
    assert prediction.tolist() == [pytest.approx(artifact.schema.target.mean)] * 3
{%- endif %}


def test_evaluation_errors(artifact, holdout_frame, write_csv):
    with pytest.raises(DataError, match="slice column.*nope"):
        evaluate(artifact.model, artifact.schema, holdout_frame, ["nope"])
    unlabelled = holdout_frame.assign(**{artifact.schema.target.name: None})
    with pytest.raises(DataError, match="no labelled rows"):
        evaluate(artifact.model, artifact.schema, unlabelled)
    with pytest.raises(DataError, match="target column"):
        evaluate_artifact(
            artifact, write_csv(holdout_frame.drop(columns=[artifact.schema.target.name]))
        )
