"""The evaluation report: ``metrics.json``, the task's plots, a Markdown model card and
``report.html`` (:mod:`.report_html`), with ``feature_importance.json`` when measured.

It sits above evaluation and the quality gate and combines them; neither imports it.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
from pathlib import Path
from typing import Any

import pandas as pd

from .evaluate import Evaluation
from .files import staging_directory
from .importance import IMPORTANCE_FILE, FeatureImportance
from .metadata import ArtifactMetadata
from .quality import GateResult
from .report_html import HTML_FILE, html_report, percent
from .schema import Schema
from .tasks import Task

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
MODEL_CARD_FILE = "model_card.md"


def write_report(
    evaluation: Evaluation,
    model: Any,
    task: Task,
    frame: pd.DataFrame,
    output_dir: str | Path,
    metadata: ArtifactMetadata,
    gate: GateResult | None = None,
    importance: FeatureImportance | None = None,
) -> list[Path]:
    """Write ``metrics.json``, the task's plots, ``model_card.md`` and ``report.html``.

    With ``importance`` (see :mod:`.importance`), also ``feature_importance.json``, and
    both the card and the HTML page get a section on it.

    Files are written into a temporary directory beside ``output_dir`` and moved into place
    only once all of them exist, so an interrupted run (or a full disk) never leaves a
    partial report or the temporary directory. They get ordinary permissions under the
    umask.

    Raises
    ------
    OSError
        When the report cannot be written; the error names ``output_dir``.

    Returns
    -------
    list of Path
        The files written.
    """
    target_dir = Path(output_dir)
    names = [METRICS_FILE, *(plot.filename for plot in task.plots), MODEL_CARD_FILE, HTML_FILE]
    if importance is not None:
        names.append(IMPORTANCE_FILE)
    with staging_directory(target_dir.absolute().parent, ".report-", target_dir) as staging:
        report = evaluation.to_dict()
        if gate is not None:
            report["gate"] = {"passed": gate.passed, "checks": list(gate.checks)}
        (staging / METRICS_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        features, target = metadata.schema.split_training(frame)
        predictions = task.predict(model, features)
        figures = []
        for plot in task.plots:
            figures.append((plot.title, plot.render(target, predictions)))
            (staging / plot.filename).write_bytes(figures[-1][1])
        (staging / MODEL_CARD_FILE).write_text(
            model_card(evaluation, metadata, task, gate, importance), encoding="utf-8"
        )
        if importance is not None:
            (staging / IMPORTANCE_FILE).write_text(
                json.dumps(importance.to_dict(), indent=2) + "\n", encoding="utf-8"
            )
        (staging / HTML_FILE).write_text(
            html_report(evaluation, metadata, task, gate, figures, importance), encoding="utf-8"
        )
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in names:
            os.replace(staging / name, target_dir / name)
    logger.info("wrote evaluation report to %s", target_dir, extra={"report_dir": str(target_dir)})
    return [target_dir / name for name in names]


def _format(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


# Characters that start Markdown (or HTML) markup inline, the table cell separator included.
_MARKUP = re.compile(r"([\\`*_\[\]<>|~&#])")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _controls(text: str) -> str:
    """Control characters (line breaks included) as visible escapes, keeping one line."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


def markdown_text(value: object) -> str:
    """A data value as inline Markdown that renders as itself, also inside a table cell.

    Markup characters are backslash-escaped and line breaks shown as ``\\n``, so a column
    name, category or class label cannot add links, HTML, emphasis, cells or lines.
    """
    return _controls(_MARKUP.sub(r"\\\1", str(value)))


def markdown_code(value: object) -> str:
    """A data value as a Markdown code span (not for table cells), rendered verbatim.

    The fence is longer than any run of backticks in the value, and line breaks are
    shown as ``\\n``.
    """
    content = _controls(str(value))
    fence = "`" * (max((len(run) for run in re.findall("`+", content)), default=0) + 1)
    if content[:1] in ("`", " ") or content[-1:] in ("`", " "):
        content = f" {content} "
    return f"{fence}{content}{fence}"


def model_card(
    evaluation: Evaluation,
    metadata: ArtifactMetadata,
    task: Task,
    gate: GateResult | None,
    importance: FeatureImportance | None = None,
) -> str:
    """Render the Markdown model card of an evaluated model.

    Data values (column names, slice values, class labels in notes) are escaped with
    :func:`markdown_text` or :func:`markdown_code`: they render as themselves, never as markup.
    """
    schema: Schema = metadata.schema
    versions = metadata.versions
    lines = [
        f"# Model card: {markdown_text(f'{metadata.package} {metadata.model_version}')}",
        "",
        "## Intended use",
        "",
        f"{task.description} of tabular records described by {len(schema.features)} "
        f"features, predicting {markdown_code(schema.target.name)}. Trained on the data "
        "below; inputs unlike it (see the schema ranges and categories in `metadata.json`) "
        "are outside its intended use and are counted as skew when scored.",
        "",
        "## Training data",
        "",
        f"- File SHA-256: `{metadata.training.sha256}`",
        f"- Rows: {metadata.training.rows}",
        f"- Features: {', '.join(markdown_code(name) for name in schema.feature_names)}",
        "",
        "## Holdout metrics",
        "",
        f"Evaluated on {evaluation.n_rows} rows "
        f"(SHA-256 `{evaluation.data_sha256 or 'unknown'}`). "
        f"Primary metric: `{evaluation.primary_metric}`.",
        "",
        "| metric | model | dummy baseline |",
        "|---|---|---|",
    ]
    for name, value in evaluation.metrics.items():
        lines.append(f"| {name} | {_format(value)} | {_format(evaluation.baseline.get(name))} |")
    if evaluation.notes:
        lines += ["", *(f"- Note: {markdown_text(note)}." for note in evaluation.notes)]
    if evaluation.slices:
        lines += ["", "## Slices", ""]
        for column, groups in evaluation.slices.items():
            header = "| value | rows | " + " | ".join(evaluation.metrics) + " |"
            lines += [f"### {markdown_code(column)}", "", header]
            lines.append("|---|---|" + "---|" * len(evaluation.metrics))
            for group in groups:
                cells = " | ".join(_format(group["metrics"].get(m)) for m in evaluation.metrics)
                lines.append(f"| {markdown_text(group['value'])} | {group['rows']} | {cells} |")
            lines.append("")
    if importance is not None:
        lines += _importance_lines(importance)
    if gate is not None:
        lines += ["", "## Quality gate", "", f"**{'PASSED' if gate.passed else 'FAILED'}**", ""]
        lines += [f"- {markdown_text(check)}" for check in gate.checks]
    lines += [
        "",
        "## Versions",
        "",
        f"- Package: {versions.get('package', 'unknown')}",
        f"- scikit-learn: {versions.get('scikit-learn', 'unknown')}",
        f"- Python: {versions.get('python', platform.python_version())}",
        f"- Git commit: {metadata.git_commit or 'unknown'}",
        f"- Trained at: {metadata.created_at}",
        "",
    ]
    return "\n".join(line.rstrip() for line in lines).replace("\n\n\n", "\n\n")


def _importance_lines(importance: FeatureImportance) -> list[str]:
    """The model card's section on permutation importance and per-feature cost."""
    lines = [
        "",
        "## Feature importance",
        "",
        f"Permutation importance: the {importance.measure} when one raw column is shuffled "
        f"({importance.n_repeats} repeats on {importance.rows} rows); a feature helps when "
        f"{importance.rule}. Details and timings: `{IMPORTANCE_FILE}`.",
        "",
        "| feature | encoding | levels | missing | importance | standard error | helps |",
        "|---|---|---|---|---|---|---|",
    ]
    for feature in importance.features:
        levels = "" if feature.levels is None else str(feature.levels)
        lines.append(
            f"| {markdown_text(feature.name)} | {feature.encoding} | {levels} "
            f"| {percent(feature.missing_share)} "
            f"| {feature.importance:.4f} | {feature.standard_error:.4f} "
            f"| {'yes' if feature.helps else 'no'} |"
        )
    if importance.not_helping:
        names = ", ".join(markdown_code(name) for name in importance.not_helping)
        lines += ["", f"No measured benefit (candidates for removal): {names}."]
    return lines
