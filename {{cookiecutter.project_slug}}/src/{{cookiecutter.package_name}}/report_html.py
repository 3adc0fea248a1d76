"""The evaluation report as one self-contained HTML page.

Everything is inside the file: styles in a ``<style>`` element, figures as
``data:image/png;base64`` URIs. It loads nothing from anywhere and runs no script, so it
can be archived with the model, attached to a review or opened offline. Every value that
comes from the data or the configuration (column names, slice values, class labels, gate
lines) is HTML-escaped: it shows as text and never becomes markup.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from typing import Any

from .evaluate import Evaluation
from .importance import FeatureImportance
from .metadata import ArtifactMetadata
from .plots import importance_chart
from .quality import GateResult
from .tasks import Task

HTML_FILE = "report.html"

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222;
       padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ccc; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #176117; } .fail { color: #a3120c; font-weight: bold; } .note { color: #6b5800; }
.verdict { font-size: 1.2rem; font-weight: bold; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; } figure img { max-width: 100%; height: auto; }
figcaption { text-align: center; color: #555; }
code { background: #f3f3f3; padding: 0 0.2rem; }
"""


def percent(share: float) -> str:
    """A share as a percentage with one decimal (``0.125`` -> ``12.5%``)."""
    return f"{100 * share:.1f}%"


def text(value: object) -> str:
    """A value as HTML text: markup characters and quotes escaped, so it shows as itself."""
    return html.escape(str(value), quote=True)


def data_uri(png: bytes) -> str:
    """PNG bytes as a ``data:`` URI for an ``<img src>``."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric_from: int = 1) -> str:
    """A table of already-escaped cells; columns from ``numeric_from`` on align right."""
    head = "".join(f"<th>{cell}</th>" for cell in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{cell}</td>' if position >= numeric_from else f"<td>{cell}</td>"
            for position, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(title: str, png: bytes) -> str:
    return (
        f'<figure><img src="{data_uri(png)}" alt="{text(title)}">'
        f"<figcaption>{text(title)}</figcaption></figure>"
    )


def html_report(
    evaluation: Evaluation,
    metadata: ArtifactMetadata,
    task: Task,
    gate: GateResult | None,
    figures: Sequence[tuple[str, bytes]],
    importance: FeatureImportance | None = None,
) -> str:
    """Render the evaluation report as one self-contained HTML document.

    Parameters
    ----------
    evaluation : Evaluation
        Metrics of the model and its baseline, overall and per slice.
    metadata : ArtifactMetadata
        The evaluated model's metadata.
    task : Task
        The model's task.
    gate : GateResult or None
        The quality gate's verdict, shown first when given.
    figures : sequence of (title, PNG bytes)
        The task's plots, embedded as data URIs.
    importance : FeatureImportance, optional
        Permutation importance and per-feature cost, with its chart.
    """
    schema = metadata.schema
    title = f"Evaluation report: {metadata.package} {metadata.model_version}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{text(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{text(title)}</h1>",
        f"<p>{text(task.description)} of <code>{text(schema.target.name)}</code> from "
        f"{len(schema.features)} features. Evaluated on {evaluation.n_rows} rows (data "
        f"SHA-256 <code>{text(evaluation.data_sha256 or 'unknown')}</code>); trained on "
        f"{metadata.training.rows} rows (SHA-256 <code>{text(metadata.training.sha256)}</code>) "
        f"at {text(metadata.created_at)}.</p>",
    ]
    if gate is not None:
        parts += _gate_section(gate)
    parts += _metrics_section(evaluation)
    if figures:
        parts.append("<h2>Plots (holdout)</h2><div class='figures'>")
        parts += [_figure(name, png) for name, png in figures]
        parts.append("</div>")
    if importance is not None:
        parts += _importance_section(importance)
    if evaluation.slices:
        parts += _slices_section(evaluation)
    versions = metadata.versions
    parts += [
        "<h2>Versions</h2><ul>",
        *(
            f"<li>{label}: {text(versions.get(key, 'unknown'))}</li>"
            for label, key in (
                ("Package", "package"),
                ("scikit-learn", "scikit-learn"),
                ("Python", "python"),
            )
        ),
        f"<li>Git commit: {text(metadata.git_commit or 'unknown')}</li></ul>",
        "</body></html>",
        "",
    ]
    return "\n".join(parts)


def _gate_section(gate: GateResult) -> list[str]:
    verdict = "PASSED" if gate.passed else "FAILED"
    lines = []
    for check in gate.checks:
        word = check.split(" ", 1)[0]
        kind = {"PASS": "pass", "FAIL": "fail", "NOTE": "note"}.get(word, "")
        lines.append(f'<li class="{kind}">{text(check)}</li>')
    return [
        "<h2>Quality gate</h2>",
        f'<p class="verdict {"pass" if gate.passed else "fail"}">{verdict}</p>',
        f"<ul>{''.join(lines)}</ul>",
    ]


def _metrics_section(evaluation: Evaluation) -> list[str]:
    rows = []
    for name, value in evaluation.metrics.items():
        baseline = evaluation.baseline.get(name)
        difference = None if value is None or baseline is None else value - baseline
        label = text(name) + (" (primary)" if name == evaluation.primary_metric else "")
        rows.append([label, _number(value), _number(baseline), _number(difference)])
    parts = [
        "<h2>Metrics against the dummy baseline</h2>",
        _table(["metric", "model", "dummy baseline", "model − baseline"], rows),
    ]
    if evaluation.notes:
        parts.append("<ul>" + "".join(f"<li>{text(n)}</li>" for n in evaluation.notes) + "</ul>")
    return parts


def _importance_section(importance: FeatureImportance) -> list[str]:
    features = importance.features
    chart = importance_chart(
        [feature.name for feature in features],
        [feature.importance for feature in features],
        [2 * feature.standard_error for feature in features],
        [feature.helps for feature in features],
        importance.measure.capitalize(),
    )
    rows = [
        [
            f"<code>{text(f.name)}</code>",
            text(f.kind),
            text(f.encoding),
            str(f.model_inputs),
            "" if f.levels is None else str(f.levels),
            percent(f.missing_share),
            f"{f.importance:.4f}",
            f"{f.standard_error:.4f}",
            f"{f.repeat_std:.4f}",
            "yes" if f.helps else '<span class="fail">no</span>',
            f"{f.contract_ms_per_1000_rows:.2f}",
        ]
        for f in features
    ]
    steps = ", ".join(
        f"{text(name)} {value:.2f} ms" for name, value in importance.step_ms_per_1000_rows.items()
    )
    flagged = importance.not_helping
    return [
        "<h2>Feature importance and cost</h2>",
        f"<p>Permutation importance: the {text(importance.measure)} when one raw column is "
        f"shuffled ({importance.n_repeats} repeats, {importance.rows} rows, seed "
        f"{importance.random_state}). A feature helps when {text(importance.rule)}; "
        "whiskers span two standard errors.</p>",
        _figure("Permutation importance", chart),
        _table(
            [
                "feature",
                "kind",
                "encoding",
                "learner inputs",
                "levels stored",
                "missing",
                "importance",
                "standard error (rows)",
                "std (repeats)",
                "helps",
                "contract ms / 1,000 rows",
            ],
            rows,
            numeric_from=3,
        ),
        f"<p>Whole pipeline per 1,000 rows: {steps}. The learner's time cannot be split "
        "between features.</p>",
        (
            "<p>No measured benefit (candidates for removal): "
            + ", ".join(f"<code>{text(name)}</code>" for name in flagged)
            + ".</p>"
            if flagged
            else "<p>Every feature helps.</p>"
        ),
    ]


def _slices_section(evaluation: Evaluation) -> list[str]:
    names = list(evaluation.metrics)
    parts = ["<h2>Slices</h2>"]
    for column, groups in evaluation.slices.items():
        rows: list[list[Any]] = [
            [
                text(group["value"]),
                str(group["rows"]),
                *(_number(group["metrics"].get(name)) for name in names),
            ]
            for group in groups
        ]
        parts.append(f"<h3><code>{text(column)}</code></h3>")
        parts.append(_table(["value", "rows", *(text(name) for name in names)], rows))
    return parts
