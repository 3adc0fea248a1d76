{%- set classification = cookiecutter.ml_task == "classification" -%}
"""Holdout evaluation: metrics against a dummy baseline, per-slice metrics, plots, model card."""

from __future__ import annotations

import json
import logging
import os
import platform
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
{%- if classification %}
from sklearn.dummy import DummyClassifier
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
{%- else %}
from sklearn.dummy import DummyRegressor
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
{%- endif %}

from {{ cookiecutter.package_name }}.errors import DataError
from {{ cookiecutter.package_name }}.quality import PRIMARY_METRIC, GateResult
from {{ cookiecutter.package_name }}.schema import NUMERIC, Schema

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
MODEL_CARD_FILE = "model_card.md"
{%- if classification %}
PLOT_FILES = ("confusion_matrix.png", "roc_curve.png")
{%- else %}
PLOT_FILES = ("predicted_vs_actual.png", "residuals.png")
{%- endif %}
_NUMERIC_SLICE_BINS = 4


@dataclass(frozen=True)
class Evaluation:
    """Metrics of a model and of its baseline on one labelled dataset."""

    metrics: dict[str, float | None]
    baseline: dict[str, float | None]
    slices: dict[str, list[dict[str, Any]]]
    n_rows: int
    data_sha256: str | None = None
    gate: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, as written to ``metrics.json``."""
        return asdict(self)
{%- if classification %}


def compute_metrics(
    y_true: Any, predictions: Any, probabilities: np.ndarray, classes: Any
) -> dict[str, float | None]:
    """Accuracy, F1, ROC-AUC and log loss; a metric that is undefined here is ``None``.

    Binary problems score F1 and ROC-AUC for the second class in ``classes``; problems
    with more classes use macro-F1 and one-vs-rest ROC-AUC.
    """
    classes = list(classes)
    binary = len(classes) == 2
    metrics: dict[str, float | None] = {
        "accuracy": float(accuracy_score(y_true, predictions)),
        "f1": float(
            f1_score(y_true, predictions, pos_label=classes[-1], average="binary")
            if binary
            else f1_score(y_true, predictions, average="macro")
        ),
        "log_loss": float(log_loss(y_true, probabilities, labels=classes)),
        "roc_auc": None,
    }
    if len(np.unique(y_true)) == len(classes):
        scores = probabilities[:, 1] if binary else probabilities
        metrics["roc_auc"] = float(
            roc_auc_score(y_true, scores, multi_class="ovr", labels=None if binary else classes)
        )
    return metrics


def baseline_model(schema: Schema) -> DummyClassifier:
    """The dummy baseline: always predicts the training class priors."""
    labels = np.repeat(np.array(schema.target.classes, dtype=object), schema.target.class_counts)
    labels = labels.astype(np.asarray(schema.target.classes).dtype)
    return DummyClassifier(strategy="prior").fit(np.zeros((len(labels), 1)), labels)


def _score(estimator: Any, features: Any, target: pd.Series) -> dict[str, float | None]:
    return compute_metrics(
        target, estimator.predict(features), estimator.predict_proba(features), estimator.classes_
    )
{%- else %}


def compute_metrics(y_true: Any, predictions: Any) -> dict[str, float | None]:
    """RMSE, MAE and R²; R² is ``None`` when the targets have no variance."""
    return {
        "rmse": float(root_mean_squared_error(y_true, predictions)),
        "mae": float(mean_absolute_error(y_true, predictions)),
        "r2": float(r2_score(y_true, predictions)) if np.var(y_true) > 0 else None,
    }


def baseline_model(schema: Schema) -> DummyRegressor:
    """The dummy baseline: always predicts the training target mean."""
    return DummyRegressor(strategy="constant", constant=schema.target.mean).fit(
        np.zeros((1, 1)), [schema.target.mean]
    )


def _score(estimator: Any, features: Any, target: pd.Series) -> dict[str, float | None]:
    return compute_metrics(target, estimator.predict(features))
{%- endif %}


def evaluate(
    model: Any,
    schema: Schema,
    frame: pd.DataFrame,
    slice_columns: Iterable[str] = (),
    data_sha256: str | None = None,
) -> Evaluation:
    """Score ``model`` and the dummy baseline on labelled data, overall and per slice.

    Parameters
    ----------
    model : estimator
        The fitted model.
    schema : Schema
        The model's data contract; ``frame`` is validated against it.
    frame : pandas.DataFrame
        Labelled holdout data.
    slice_columns : iterable of str
        Columns to slice by: one group per category, or per quartile of a numeric column.
    data_sha256 : str, optional
        Fingerprint of the holdout file, recorded in the report.

    Raises
    ------
    DataError
        When the data breaks the contract or a slice column does not exist.
    """
    features, target = schema.split_training(frame)
    if features.empty:
        raise DataError("evaluation data has no labelled rows")
    baseline = baseline_model(schema)
    slices = {
        column: _slice_metrics(model, features, target, frame.loc[features.index, column], schema)
        for column in _check_slice_columns(frame, slice_columns)
    }
    return Evaluation(
        metrics=_score(model, features, target),
        baseline=_score(baseline, features, target),
        slices=slices,
        n_rows=len(features),
        data_sha256=data_sha256,
    )


def _check_slice_columns(frame: pd.DataFrame, slice_columns: Iterable[str]) -> list[str]:
    columns = list(slice_columns)
    absent = [name for name in columns if name not in frame.columns]
    if absent:
        raise DataError(f"slice column(s) missing from the data: {', '.join(absent)}")
    return columns


def _slice_metrics(
    model: Any, features: pd.DataFrame, target: pd.Series, values: pd.Series, schema: Schema
) -> list[dict[str, Any]]:
    numeric = values.name in schema.columns_of_kind(NUMERIC) or pd.api.types.is_numeric_dtype(
        values
    )
    if numeric and values.nunique() > _NUMERIC_SLICE_BINS:
        groups = pd.qcut(values, _NUMERIC_SLICE_BINS, duplicates="drop").astype(str)
    else:
        groups = values.astype(str)
    groups = groups.where(values.notna(), "(missing)")
    rows = []
    for group, index in groups.groupby(groups, sort=True).groups.items():
        subset = features.loc[index]
        rows.append(
            {"value": group, "rows": len(subset), "metrics": _score(model, subset, target[index])}
        )
    return rows


def write_report(
    evaluation: Evaluation,
    model: Any,
    schema: Schema,
    frame: pd.DataFrame,
    output_dir: str | Path,
    metadata: dict[str, Any],
    gate: GateResult | None = None,
) -> list[Path]:
    """Write ``metrics.json``, the plots and ``model_card.md`` into ``output_dir``.

    Files are written into a temporary directory beside ``output_dir`` and moved into place
    only once all of them exist, so an interrupted run never leaves a partial report.

    Returns
    -------
    list of Path
        The files written.
    """
    target_dir = Path(output_dir)
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    names = [METRICS_FILE, *PLOT_FILES, MODEL_CARD_FILE]
    with tempfile.TemporaryDirectory(dir=target_dir.parent, prefix=".report-") as tmp:
        staging = Path(tmp)
        report = evaluation.to_dict()
        if gate is not None:
            report["gate"] = {"passed": gate.passed, "checks": list(gate.checks)}
        (staging / METRICS_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        features, target = schema.split_training(frame)
        _plot(model, features, target, staging)
        (staging / MODEL_CARD_FILE).write_text(
            model_card(evaluation, schema, metadata, gate), encoding="utf-8"
        )
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in names:
            os.replace(staging / name, target_dir / name)
    logger.info("wrote evaluation report to %s", target_dir, extra={"report_dir": str(target_dir)})
    return [target_dir / name for name in names]


def _plot(model: Any, features: pd.DataFrame, target: pd.Series, directory: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
{%- if classification %}
    from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay

    predictions = model.predict(features)
    display = ConfusionMatrixDisplay.from_predictions(target, predictions, colorbar=False)
    display.ax_.set_title("Confusion matrix (holdout)")
    display.figure_.savefig(directory / PLOT_FILES[0], dpi=100, bbox_inches="tight")
    plt.close(display.figure_)
    figure, axes = plt.subplots(figsize=(5, 5))
    if len(model.classes_) == 2 and target.nunique() == 2:
        RocCurveDisplay.from_predictions(
            target,
            model.predict_proba(features)[:, 1],
            pos_label=model.classes_[1],
            ax=axes,
            plot_chance_level=True,
        )
    else:
        axes.text(0.5, 0.5, "ROC curve needs both classes\nin the holdout", ha="center")
    axes.set_title("ROC curve (holdout)")
    figure.savefig(directory / PLOT_FILES[1], dpi=100, bbox_inches="tight")
    plt.close(figure)
{%- else %}
    from sklearn.metrics import PredictionErrorDisplay

    predictions = model.predict(features)
    for name, kind in zip(PLOT_FILES, ("actual_vs_predicted", "residual_vs_predicted")):
        figure, axes = plt.subplots(figsize=(5, 5))
        PredictionErrorDisplay.from_predictions(
            target, predictions, kind=kind, ax=axes, random_state=0
        )
        axes.set_title(kind.replace("_", " ").capitalize() + " (holdout)")
        figure.savefig(directory / name, dpi=100, bbox_inches="tight")
        plt.close(figure)
{%- endif %}


def _format(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def model_card(
    evaluation: Evaluation, schema: Schema, metadata: dict[str, Any], gate: GateResult | None
) -> str:
    """Render the Markdown model card of an evaluated model."""
    versions = metadata.get("versions", {})
    lines = [
        f"# Model card: {metadata.get('package', '{{ cookiecutter.project_slug }}')} "
        f"{metadata.get('model_version', '')}".rstrip(),
        "",
        "## Intended use",
        "",
        "{{ 'Binary classification' if classification else 'Regression' }} of tabular records "
        f"described by {len(schema.features)} features, predicting `{schema.target.name}`. "
        "Trained on the data below; inputs unlike it (see the schema ranges and categories in "
        "`metadata.json`) are outside its intended use and are counted as skew when served.",
        "",
        "## Training data",
        "",
        f"- File SHA-256: `{metadata.get('training_data_sha256', 'unknown')}`",
        f"- Rows: {metadata.get('training_rows', 'unknown')}",
        f"- Features: {', '.join(f'`{name}`' for name in schema.feature_names)}",
        "",
        "## Holdout metrics",
        "",
        f"Evaluated on {evaluation.n_rows} rows "
        f"(SHA-256 `{evaluation.data_sha256 or 'unknown'}`). Primary metric: `{PRIMARY_METRIC}`.",
        "",
        "| metric | model | dummy baseline |",
        "|---|---|---|",
    ]
    for name, value in evaluation.metrics.items():
        lines.append(f"| {name} | {_format(value)} | {_format(evaluation.baseline.get(name))} |")
    if evaluation.slices:
        lines += ["", "## Slices", ""]
        for column, groups in evaluation.slices.items():
            lines += [f"### `{column}`", "", "| value | rows | " + " | ".join(evaluation.metrics)]
            lines[-1] += " |"
            lines.append("|---|---|" + "---|" * len(evaluation.metrics))
            for group in groups:
                cells = " | ".join(_format(group["metrics"].get(m)) for m in evaluation.metrics)
                lines.append(f"| {group['value']} | {group['rows']} | {cells} |")
            lines.append("")
    if gate is not None:
        lines += ["", "## Quality gate", "", f"**{'PASSED' if gate.passed else 'FAILED'}**", ""]
        lines += [f"- {check}" for check in gate.checks]
    lines += [
        "",
        "## Versions",
        "",
        f"- Package: {versions.get('package', 'unknown')}",
        f"- scikit-learn: {versions.get('scikit-learn', 'unknown')}",
        f"- Python: {versions.get('python', platform.python_version())}",
        f"- Git commit: {metadata.get('git_commit') or 'unknown'}",
        f"- Trained at: {metadata.get('created_at', 'unknown')}",
        "",
    ]
    return "\n".join(line.rstrip() for line in lines).replace("\n\n\n", "\n\n")
