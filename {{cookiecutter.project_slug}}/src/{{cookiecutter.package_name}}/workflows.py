"""The model lifecycle as plain functions: train and save, evaluate, validate.

Entry points (the CLI, and any service) are thin shells over these; nothing here imports them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .artifact import Artifact, save_artifact
from .config import Config, QualityConfig
from .data import file_sha256, read_table
from .errors import DataError
from .evaluate import Evaluation, evaluate
from .metadata import EvaluationSettings, RecordedMetrics, TrainingRecord
from .quality import GateResult, quality_gate
from .report import write_report
from .train import train

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationRun:
    """An evaluation and the quality gate's verdict on it."""

    evaluation: Evaluation
    gate: GateResult


HOLDOUT_FILE = "holdout.csv"
"""The holdout split off the training data, saved inside the artifact when none is configured."""


def train_and_save(config: Config, models_dir: str | Path) -> Path:
    """Train, score the holdout and save a new artifact.

    The holdout is the config's ``data.holdout`` file or, when there is none, the rows
    training split off (see :func:`~.train.train`), saved in the artifact as
    :data:`HOLDOUT_FILE`. The artifact records the holdout, slice columns and quality
    thresholds so that ``evaluate`` and ``validate`` need nothing but the artifact.

    Returns
    -------
    Path
        The new artifact directory.
    """
    trained = train(config)
    holdout: pd.DataFrame | None = trained.holdout
    holdout_path: str | None = None
    extra_files: dict[str, Callable[[Path], object]] = {}
    if config.data.holdout is not None:
        holdout = read_table(
            config.data.holdout,
            text_columns=trained.schema.text_columns(target=True),
            sep=config.data.sep,
        )
        holdout_path = str(config.data.holdout)
    elif holdout is not None:
        split = holdout
        holdout_path = HOLDOUT_FILE  # relative: resolved against the artifact directory
        extra_files[HOLDOUT_FILE] = lambda path: split.to_csv(path, index=False)
    metrics = None
    if holdout is not None:
        evaluation = evaluate(
            trained.model,
            trained.schema,
            trained.task,
            holdout,
            _present(holdout, config.data.slice_columns),
        )
        metrics = RecordedMetrics(holdout=evaluation.metrics, baseline=evaluation.baseline)
    settings = EvaluationSettings(
        holdout=holdout_path,
        slice_columns=tuple(config.data.slice_columns),
        quality=config.quality,
    )
    return save_artifact(
        trained.model,
        models_dir,
        schema=trained.schema,
        task=trained.task,
        training=TrainingRecord(
            path=str(trained.train_path), sha256=trained.data_sha256, rows=trained.n_rows
        ),
        metrics=metrics,
        settings=settings,
        extra_files=extra_files,
    )


def evaluate_artifact(
    artifact: Artifact,
    data_path: str | Path | None = None,
    output_dir: str | Path | None = None,
    thresholds: QualityConfig | None = None,
    sep: str | None = None,
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
    sep : str, optional
        The data's CSV separator; detected from its header line by default.
    """
    settings = artifact.metadata.settings
    if data_path is None and not settings.holdout:
        raise DataError("no evaluation data: pass a labelled CSV (the model has no holdout)")
    # A relative recorded holdout is a file inside the artifact; an absolute one stays put.
    source = Path(data_path) if data_path is not None else artifact.path / str(settings.holdout)
    frame = read_table(source, text_columns=artifact.schema.text_columns(target=True), sep=sep)
    evaluation = evaluate(
        artifact.model,
        artifact.schema,
        artifact.task,
        frame,
        _present(frame, settings.slice_columns),
        data_sha256=file_sha256(source),
    )
    gate = quality_gate(
        evaluation.metrics,
        evaluation.baseline,
        thresholds or settings.quality,
        artifact.task.primary_metric,
        artifact.task.baseline_margin,
    )
    if output_dir is not None:
        write_report(
            evaluation, artifact.model, artifact.task, frame, output_dir, artifact.metadata, gate
        )
    return EvaluationRun(evaluation=evaluation, gate=gate)


def _present(frame: pd.DataFrame, columns: Iterable[str]) -> list[str]:
    """Slice columns that exist in ``frame``; others are skipped with a warning."""
    present = []
    for name in columns:
        if name in frame.columns:
            present.append(name)
        else:
            logger.warning("slice column %r is not in the data; skipping it", name)
    return present
