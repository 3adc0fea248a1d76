"""``report.html``: self-contained (figures as data URIs, nothing fetched), values escaped."""

import base64
import dataclasses
import json
import re

import pandas as pd
import pytest

from .. import plots
from ..evaluate import evaluate
from ..importance import IMPORTANCE_FILE, FeatureCost, FeatureImportance
from ..quality import GateResult
from ..report import MODEL_CARD_FILE
from ..report_html import HTML_FILE, html_report
from ..tasks import Predictions
from ..workflows import evaluate_artifact

DATA_URI = "data:image/png;base64,"
HOSTILE = '<script>alert("x")</script>'


def assert_self_contained(page):
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert "javascript:" not in page.lower()
    for source in re.findall(r'src="([^"]*)"', page):
        assert source.startswith(DATA_URI), source[:40]


def test_evaluate_writes_a_self_contained_report(artifact, task_name, tmp_path):
    output = tmp_path / "report"
    run = evaluate_artifact(artifact, output_dir=output)
    page = (output / HTML_FILE).read_text(encoding="utf-8")
    assert_self_contained(page)
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == len(artifact.task.plots) + 1  # the task's plots and the importance
    assert all(base64.b64decode(image).startswith(b"\x89PNG") for image in images)
    for plot in artifact.task.plots:
        assert f">{plot.title}</figcaption>" in page
        assert (output / plot.filename).read_bytes().startswith(b"\x89PNG")
    expected = {
        "binary": {"confusion_matrix.png", "roc_curve.png", "precision_recall.png"},
        "multiclass": {"confusion_matrix.png", "calibration.png"},
        "regression": {"predicted_vs_actual.png", "residuals.png"},
    }[task_name]
    assert expected <= {plot.filename for plot in artifact.task.plots}
    for name, value in run.evaluation.metrics.items():
        assert f"{value:.4f}" in page and name in page
    assert "<h2>Quality gate</h2>" in page and ">PASSED<" in page
    assert "<h2>Slices</h2>" in page and "<code>contract</code>" in page
    importance = json.loads((output / IMPORTANCE_FILE).read_text(encoding="utf-8"))
    assert {row["name"] for row in importance["features"]} == set(artifact.schema.feature_names)
    assert "<h2>Feature importance and cost</h2>" in page
    for row in importance["features"]:
        assert f"<code>{row['name']}</code>" in page
    card = (output / MODEL_CARD_FILE).read_text(encoding="utf-8")
    assert "## Feature importance" in card and IMPORTANCE_FILE in card


def test_data_and_config_values_are_escaped(binary, binary_frames):
    _, holdout = binary_frames
    column = f"col {HOSTILE}"
    frame = holdout.assign(**{column: [HOSTILE, "<b>x</b>"] * (len(holdout) // 2)})
    evaluation = evaluate(binary.model, binary.schema, binary.task, frame, [column])
    evaluation = dataclasses.replace(evaluation, notes=(f"note {HOSTILE}",))
    feature = FeatureCost(
        name=f"feature {HOSTILE}",
        kind="categorical",
        encoding="category codes",
        model_inputs=1,
        levels=2,
        missing_share=0.0,
        importance=0.0,
        standard_error=0.01,
        repeat_std=0.0,
        helps=False,
        contract_ms_per_1000_rows=1.0,
    )
    importance = FeatureImportance(
        metric="log_loss",
        measure="increase of the log loss",
        rows=10,
        n_repeats=1,
        random_state=0,
        rule="a rule",
        features=(feature,),
        step_ms_per_1000_rows={"contract": 1.0},
    )
    schema = dataclasses.replace(
        binary.schema, target=dataclasses.replace(binary.schema.target, name=HOSTILE)
    )
    metadata = dataclasses.replace(binary.metadata, schema=schema, package=HOSTILE)
    gate = GateResult(passed=False, checks=(f"FAIL {HOSTILE}",), failures=(HOSTILE,))
    page = html_report(
        evaluation, metadata, binary.task, gate, [(HOSTILE, b"\x89PNG")], importance
    )
    assert_self_contained(page)
    assert "<b>" not in page
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    assert page.count(escaped) >= 8  # title, heading, target, column, value, note, gate, ...
    assert f"<code>col {escaped}</code>" in page and f"<td>{escaped}</td>" in page
    assert f'alt="{escaped}"' in page and f"<code>feature {escaped}</code>" in page
    assert '<li class="fail">FAIL' in page and ">FAILED<" in page


@pytest.mark.parametrize("plot", [plots.PRECISION_RECALL, plots.CALIBRATION])
def test_classifier_plots_draw_even_without_both_classes(plot):
    target = pd.Series(["a"] * 30)
    predictions = Predictions(
        labels=target.to_numpy(),
        probabilities=pd.DataFrame({"a": [0.7] * 30, "b": [0.3] * 30}).to_numpy(),
        classes=("a", "b"),
    )
    assert plot.render(target, predictions).startswith(b"\x89PNG")
