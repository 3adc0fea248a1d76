"""The model lifecycle as plain functions: train and save, evaluate, validate.

Entry points (the CLI, and any service) are thin shells over these; nothing here imports them.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .artifact import METADATA_FILE, Artifact, read_metadata, save_artifact
from .config import Config, QualityConfig
from .data import file_sha256, read_table
from .errors import DataError
from .evaluate import Evaluation, evaluate
from .importance import feature_importance
from .metadata import EvaluationSettings, RecordedMetrics, TrainingRecord
from .quality import GateResult, quality_gate
from .report import write_report
from .runs import ObservedRun, RunObserver, observed_run
from .train import TrainedModel, train

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationRun:
    """An evaluation and the quality gate's verdict on it."""

    evaluation: Evaluation
    gate: GateResult


HOLDOUT_FILE = "holdout.csv"
"""The holdout split off the training data, saved inside the artifact when none is configured."""


def train_and_save(
    config: Config, models_dir: str | Path, observer: RunObserver | None = None
) -> Path:
    """Train, score the holdout and save a new artifact.

    The holdout is the config's ``data.holdout`` file or, when there is none, the rows
    training split off (see :func:`~.train.train`), saved in the artifact as
    :data:`HOLDOUT_FILE`. The artifact records the holdout, slice columns and quality
    thresholds so that ``evaluate`` and ``validate`` need nothing but the artifact.

    ``observer`` (see :mod:`.runs`) is told the run: the parameters, data hash, holdout
    metrics, metadata and report (metrics, plots, model card) of the new model, whose
    metadata records the run's id. Nothing is tracked without one.

    Returns
    -------
    Path
        The new artifact directory.
    """
    with observed_run(observer, "train", {"task": config.model.task}) as run:
        return _train_and_save(config, models_dir, run)


def _train_and_save(config: Config, models_dir: str | Path, run: ObservedRun) -> Path:
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
    evaluation = None
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
    artifact_dir = save_artifact(
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
        run_id=run.id,
    )
    if run.active:
        run.attempt("log", lambda: _log_training(run, trained, artifact_dir, evaluation, holdout))
    return artifact_dir


def _log_training(
    run: ObservedRun,
    trained: TrainedModel,
    artifact_dir: Path,
    evaluation: Evaluation | None,
    holdout: pd.DataFrame | None,
) -> None:
    """Tell the run what was trained: parameters, holdout metrics, metadata and report."""
    metadata = read_metadata(artifact_dir)
    learner = {
        name.removeprefix("learner__"): value
        for name, value in metadata.hyperparameters.items()
        if name.startswith("learner__") and isinstance(value, (str, int, float, bool))
    }
    run.log_params(
        {
            **learner,
            "task": trained.task.name,
            "target": trained.schema.target.name,
            "features": len(trained.schema.features),
            "train_path": str(trained.train_path),
            "train_rows": trained.n_rows,
            "data_sha256": trained.data_sha256,
            "model_version": metadata.model_version,
        }
    )
    if evaluation is not None:
        run.log_metrics(_tracked_metrics(evaluation))
    with tempfile.TemporaryDirectory(prefix="tracked-") as scratch:
        files = Path(scratch)
        (files / "model").mkdir()
        shutil.copy2(artifact_dir / METADATA_FILE, files / "model" / METADATA_FILE)
        if evaluation is not None and holdout is not None:
            write_report(
                evaluation, trained.model, trained.task, holdout, files / "report", metadata
            )
        run.log_files(files)


def _tracked_metrics(evaluation: Evaluation) -> dict[str, float | None]:
    """The model's metrics by name and the baseline's as ``baseline_<name>``."""
    baseline = {f"baseline_{name}": value for name, value in evaluation.baseline.items()}
    return {**evaluation.metrics, **baseline}


def evaluate_artifact(
    artifact: Artifact,
    data_path: str | Path | None = None,
    output_dir: str | Path | None = None,
    thresholds: QualityConfig | None = None,
    sep: str | None = None,
    observer: RunObserver | None = None,
) -> EvaluationRun:
    """Evaluate an artifact on labelled data and apply the quality gate.

    Parameters
    ----------
    artifact : Artifact
        The loaded model.
    data_path : str or Path, optional
        Labelled CSV; the holdout recorded at training time by default.
    output_dir : str or Path, optional
        Write ``metrics.json``, plots, the model card, ``report.html`` and the features'
        permutation importance (``feature_importance.json``) here; nothing is written (and
        no importance measured) when omitted.
    thresholds : QualityConfig, optional
        Gate thresholds; those recorded at training time by default.
    sep : str, optional
        The data's CSV separator; detected from its header line by default.
    observer : RunObserver, optional
        Told the run (see :mod:`.runs`): the model version and its training run, the data's
        path and hash, the metrics, the gate's verdict and the report, if one is written.
    """
    tags = {"model_version": artifact.version}
    if artifact.metadata.run_id is not None:
        tags["training_run"] = artifact.metadata.run_id
    with observed_run(observer, "evaluate", tags) as run:
        result = _evaluate_artifact(artifact, data_path, output_dir, thresholds, sep)
        if run.active:
            run.attempt(
                "log", lambda: _log_evaluation(run, artifact, result, data_path, output_dir)
            )
        return result


def _evaluate_artifact(
    artifact: Artifact,
    data_path: str | Path | None,
    output_dir: str | Path | None,
    thresholds: QualityConfig | None,
    sep: str | None,
) -> EvaluationRun:
    settings = artifact.metadata.settings
    if data_path is None and not settings.holdout:
        raise DataError("no evaluation data: pass a labelled CSV (the model has no holdout)")
    # A relative recorded holdout is a file inside the artifact; an absolute one stays put.
    source = Path(data_path) if data_path is not None else artifact.path / str(settings.holdout)
    frame = read_table(source, text_columns=artifact.schema.text_columns(target=True), sep=sep)
    quality = thresholds or settings.quality
    # Sensitive columns are sliced too; one missing from the data fails the gate.
    sliced = dict.fromkeys([*settings.slice_columns, *quality.slices.sensitive_columns])
    evaluation = evaluate(
        artifact.model,
        artifact.schema,
        artifact.task,
        frame,
        _present(frame, sliced),
        data_sha256=file_sha256(source),
    )
    gate = quality_gate(
        evaluation.metrics,
        evaluation.baseline,
        quality,
        artifact.task.primary_metric,
        artifact.task.baseline_margin,
        slices=evaluation.slices,
    )
    if output_dir is not None:
        importance = feature_importance(artifact.model, artifact.schema, artifact.task, frame)
        write_report(
            evaluation,
            artifact.model,
            artifact.task,
            frame,
            output_dir,
            artifact.metadata,
            gate,
            importance=importance,
        )
    return EvaluationRun(evaluation=evaluation, gate=gate)


def _log_evaluation(
    run: ObservedRun,
    artifact: Artifact,
    result: EvaluationRun,
    data_path: str | Path | None,
    output_dir: str | Path | None,
) -> None:
    """Tell the run what was evaluated, how it scored and where the report is."""
    evaluation = result.evaluation
    run.log_params(
        {
            "task": artifact.task.name,
            "model_version": artifact.version,
            "data": str(data_path) if data_path is not None else "the recorded holdout",
            "rows": evaluation.n_rows,
            "data_sha256": evaluation.data_sha256 or "unknown",
        }
    )
    run.log_metrics(
        {**_tracked_metrics(evaluation), "quality_gate_passed": float(result.gate.passed)}
    )
    if output_dir is not None:
        run.log_files(Path(output_dir), "report")


def _present(frame: pd.DataFrame, columns: Iterable[str]) -> list[str]:
    """Slice columns that exist in ``frame``; others are skipped with a warning."""
    present = []
    for name in columns:
        if name in frame.columns:
            present.append(name)
        else:
            logger.warning("slice column %r is not in the data; skipping it", name)
    return present
