"""The model lifecycle as plain functions: train and save, evaluate, validate.

The CLI{% if cookiecutter.include_api == "yes" %} and the service are{% else %} is a{% endif %} thin shell over these; they never import the CLI.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from {{ cookiecutter.package_name }}.artifact import Artifact, save_artifact
from {{ cookiecutter.package_name }}.config import Config, QualityConfig
from {{ cookiecutter.package_name }}.data import file_sha256, load_csv
from {{ cookiecutter.package_name }}.errors import DataError
from {{ cookiecutter.package_name }}.evaluate import Evaluation, evaluate, write_report
from {{ cookiecutter.package_name }}.quality import GateResult, quality_gate
from {{ cookiecutter.package_name }}.train import train

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationRun:
    """An evaluation and the quality gate's verdict on it."""

    evaluation: Evaluation
    gate: GateResult


def train_and_save(config: Config, models_dir: str | Path) -> Path:
    """Train, score the configured holdout (if any) and save a new artifact.

    The artifact records the holdout path, slice columns and quality thresholds so that
    ``evaluate`` and ``validate`` need nothing but the artifact.

    Returns
    -------
    Path
        The new artifact directory.
    """
    trained = train(config)
    metrics = None
    if config.data.holdout is not None:
        holdout = load_csv(config.data.holdout)
        evaluation = evaluate(
            trained.model, trained.schema, holdout, _present(holdout, config.data.slice_columns)
        )
        metrics = {"holdout": evaluation.metrics, "baseline": evaluation.baseline}
    settings = {
        "holdout": str(config.data.holdout) if config.data.holdout else None,
        "slice_columns": list(config.data.slice_columns),
        "quality": dataclasses.asdict(config.quality),
    }
    return save_artifact(trained, models_dir, metrics=metrics, settings=settings)


def evaluate_artifact(
    artifact: Artifact,
    data_path: str | Path | None = None,
    output_dir: str | Path | None = None,
    thresholds: QualityConfig | None = None,
) -> EvaluationRun:
    """Evaluate an artifact on labelled data and apply the quality gate.

    Parameters
    ----------
    artifact : Artifact
        The loaded model.
    data_path : str or Path, optional
        Labelled CSV; the holdout recorded at training time by default.
    output_dir : str or Path, optional
        Write ``metrics.json``, plots and the model card here; nothing is written when omitted.
    thresholds : QualityConfig, optional
        Gate thresholds; those recorded at training time by default.
    """
    settings = artifact.metadata.get("settings", {})
    source = data_path or settings.get("holdout")
    if not source:
        raise DataError("no evaluation data: pass a labelled CSV (the model has no holdout)")
    frame = load_csv(source)
    evaluation = evaluate(
        artifact.model,
        artifact.schema,
        frame,
        _present(frame, settings.get("slice_columns", ())),
        data_sha256=file_sha256(source),
    )
    gate = quality_gate(
        evaluation.metrics, evaluation.baseline, thresholds or recorded_thresholds(artifact)
    )
    if output_dir is not None:
        write_report(
            evaluation, artifact.model, artifact.schema, frame, output_dir, artifact.metadata, gate
        )
    return EvaluationRun(evaluation=evaluation, gate=gate)


def recorded_thresholds(artifact: Artifact) -> QualityConfig:
    """The quality thresholds saved with the artifact at training time."""
    quality: dict[str, Any] = artifact.metadata.get("settings", {}).get("quality", {})
    return QualityConfig(
        minimum=dict(quality.get("minimum", {})),
        maximum=dict(quality.get("maximum", {})),
        baseline_margin=float(quality.get("baseline_margin", 0.0)),
    )


def _present(frame: Any, columns: Any) -> list[str]:
    """Slice columns that exist in ``frame``; others are skipped with a warning."""
    present = [name for name in columns if name in frame.columns]
    for name in columns:
        if name not in frame.columns:
            logger.warning("slice column %r is not in the data; skipping it", name)
    return present
