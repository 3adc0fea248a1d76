"""The model artifact: a directory holding ``model.skops`` and ``metadata.json``.

Saving is atomic (a hidden temporary directory renamed into place, with ordinary permissions
under the umask, removed on any failure; see :mod:`.files`). Loading trusts nothing
it has not checked: the model file's SHA-256 must match the metadata, the scikit-learn
minor version must match the running one, and skops may only build the types allowed
below. Artifacts live under ``models/<UTC timestamp>/``; the newest is "the latest", and
rolling back means pointing at an older directory.
"""

from __future__ import annotations

import json
import logging
import platform
import subprocess
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import sklearn
import skops.io

from . import DISTRIBUTION
from .data import file_sha256
from .errors import ArtifactError
from .features import TabularPreprocessor
from .learners import LEARNER_TYPES
from .files import output_directory
from .metadata import ArtifactMetadata, EvaluationSettings, RecordedMetrics, TrainingRecord
from .model import TabularClassifier, TabularModel, TabularRegressor
from .schema import Schema
from .tasks import TASKS, Task

logger = logging.getLogger(__name__)

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"

# Types skops may build beyond its own defaults (which cover scikit-learn's estimators).
# Never derived from the file: a type not listed here makes loading fail.
TRUSTED_TYPES = (
    *(
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in (TabularPreprocessor, TabularClassifier, TabularRegressor, *LEARNER_TYPES)
    ),
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    # The folds of the cross-fitted target encoding of wide categorical columns.
    "sklearn.model_selection._split.KFold",
    "sklearn.model_selection._split.StratifiedKFold",
    # The learner's own category handling: skops still checks the function each partial
    # wraps against this list, so only check_array can be called through one.
    "functools.partial",
    "sklearn.utils.validation.check_array",
)


@dataclass(frozen=True)
class Artifact:
    """A verified, loaded model with its metadata and data contract."""

    model: TabularModel
    metadata: ArtifactMetadata
    path: Path

    @property
    def version(self) -> str:
        """The model version (the artifact directory's name at save time)."""
        return self.metadata.model_version

    @property
    def schema(self) -> Schema:
        """The data contract every input is validated against."""
        return self.metadata.schema

    @property
    def task(self) -> Task:
        """The task definition the model was trained for."""
        return TASKS[self.metadata.task]


def save_artifact(
    model: TabularModel,
    models_dir: str | Path,
    *,
    schema: Schema,
    task: Task,
    training: TrainingRecord,
    metrics: RecordedMetrics | None = None,
    settings: EvaluationSettings | None = None,
    version: str | None = None,
    extra_files: Mapping[str, Callable[[Path], object]] | None = None,
    run_id: str | None = None,
) -> Path:
    """Save a fitted model as a new versioned artifact directory.

    Parameters
    ----------
    model : TabularModel
        The fitted estimator.
    models_dir : str or Path
        Parent directory; the artifact goes into ``models_dir/<version>``.
    schema : Schema
        The model's data contract.
    task : Task
        The task it was trained for.
    training : TrainingRecord
        The training data's path, SHA-256 and row count.
    metrics : RecordedMetrics, optional
        Holdout metrics to record.
    settings : EvaluationSettings, optional
        Evaluation settings to record (holdout path, slice columns, quality thresholds).
    version : str, optional
        Version name; a UTC timestamp by default.
    extra_files : mapping of str to callable, optional
        More files of the artifact (such as a split-off holdout): each writer is called
        with the file's path inside the staging directory, so they appear atomically.
    run_id : str, optional
        The experiment-tracking run that trained the model.

    Returns
    -------
    Path
        The new artifact directory.

    Raises
    ------
    ArtifactError
        When the version already exists.
    OSError
        When the artifact cannot be written (a read-only place, a full disk); the error
        names the artifact directory and nothing of it is left behind.
    """
    root = Path(models_dir)
    root.mkdir(parents=True, exist_ok=True)
    created = datetime.now(timezone.utc)
    name = version or _free_name(root, created.strftime("%Y%m%dT%H%M%S%fZ"))
    final = root / name
    if final.exists():
        raise ArtifactError(f"artifact {final} already exists")
    with output_directory(final) as staging:
        model_path = staging / MODEL_FILE
        skops.io.dump(model, model_path)
        for filename, write in (extra_files or {}).items():
            write(staging / filename)
        metadata = ArtifactMetadata(
            model_version=name,
            model_class=type(model).__name__,
            task=task.name,
            created_at=created.isoformat(),
            schema=schema,
            training=training,
            model_sha256=file_sha256(model_path),
            package=DISTRIBUTION,
            versions=_runtime_versions(),
            git_commit=_git_commit(),
            hyperparameters=_jsonable(model.get_params()),
            metrics=metrics,
            settings=settings or EvaluationSettings(),
            run_id=run_id,
        )
        (staging / METADATA_FILE).write_text(
            json.dumps(metadata.to_dict(), indent=2) + "\n", encoding="utf-8"
        )
    logger.info("saved model artifact %s", final, extra={"artifact": str(final)})
    return final


def read_metadata(path: str | Path) -> ArtifactMetadata:
    """Read and validate an artifact's ``metadata.json`` without loading the model.

    Raises
    ------
    ArtifactError
        When ``path`` is not an artifact directory or the metadata is unreadable or
        malformed (the message names the field).
    """
    directory = Path(path)
    if not directory.is_dir():
        raise ArtifactError(f"model directory not found: {directory}")
    metadata_path = directory / METADATA_FILE
    if not metadata_path.is_file():
        raise ArtifactError(f"{directory} is not a model artifact (no {METADATA_FILE})")
    try:
        raw = json.loads(metadata_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{metadata_path} is not valid JSON: {exc}") from None
    try:
        return ArtifactMetadata.from_dict(raw)
    except ArtifactError as exc:
        raise ArtifactError(f"{metadata_path}: {exc}") from None


def load_artifact(path: str | Path, *, allow_version_mismatch: bool = False) -> Artifact:
    """Verify and load a model artifact.

    Parameters
    ----------
    path : str or Path
        The artifact directory.
    allow_version_mismatch : bool, default False
        Load a model saved under another scikit-learn minor version, with a warning.
        Such a model may silently predict differently; retraining is the safe fix.

    Raises
    ------
    ArtifactError
        When the directory is incomplete, the model file's hash does not match, the
        scikit-learn version differs, or the file holds a type not in ``TRUSTED_TYPES``.
    """
    directory = Path(path)
    metadata = read_metadata(directory)
    model_path = directory / MODEL_FILE
    if not model_path.is_file():
        raise ArtifactError(f"{directory} is not a model artifact (no {MODEL_FILE})")
    if file_sha256(model_path) != metadata.model_sha256:
        raise ArtifactError(
            f"{model_path} does not match the SHA-256 in {METADATA_FILE}: "
            "the file was modified or corrupted; refusing to load it"
        )
    _check_sklearn_version(metadata, allow_version_mismatch)
    try:
        untrusted = skops.io.get_untrusted_types(file=model_path)
        refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
        if refused:
            raise ArtifactError(
                f"{model_path} contains types that are not allowed: {', '.join(refused)}"
            )
        model = skops.io.load(model_path, trusted=list(TRUSTED_TYPES))
    except ArtifactError:
        raise
    except Exception as exc:  # skops raises many types for malformed files
        raise ArtifactError(f"{model_path} is not a loadable skops file: {exc}") from None
    expected = TASKS[metadata.task].estimator
    if not isinstance(model, expected):
        raise ArtifactError(
            f"{model_path} holds a {type(model).__name__}, not the {expected.__name__} "
            f"its {metadata.task} task needs"
        )
    return Artifact(model=model, metadata=metadata, path=directory)


def list_artifacts(models_dir: str | Path) -> list[Path]:
    """Artifact directories under ``models_dir``, oldest first (names sort by time)."""
    root = Path(models_dir)
    if not root.is_dir():
        return []
    return sorted(
        child
        for child in root.iterdir()
        if child.is_dir() and not child.name.startswith(".") and (child / METADATA_FILE).is_file()
    )


def latest_artifact(models_dir: str | Path) -> Path:
    """The newest artifact under ``models_dir``.

    Raises
    ------
    ArtifactError
        When there is none.
    """
    artifacts = list_artifacts(models_dir)
    if not artifacts:
        raise ArtifactError(f"no model artifacts under {models_dir}; train a model first")
    return artifacts[-1]


def _minor(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split(".")[:2]:
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _check_sklearn_version(metadata: ArtifactMetadata, allow_mismatch: bool) -> None:
    saved = metadata.versions.get("scikit-learn", "unknown")
    running = sklearn.__version__
    if saved != "unknown" and _minor(saved) == _minor(running):
        return
    message = (
        f"model was saved with scikit-learn {saved} but {running} is running; "
        "retrain the model, or install the saved version"
    )
    if not allow_mismatch:
        raise ArtifactError(message + " (or explicitly allow the mismatch)")
    warnings.warn(message, UserWarning, stacklevel=3)
    logger.warning(message)


def _free_name(root: Path, name: str) -> str:
    candidate, counter = name, 1
    while (root / candidate).exists():
        counter += 1
        candidate = f"{name}-{counter}"
    return candidate


def _runtime_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for key, distribution in (
        ("package", DISTRIBUTION),
        ("scikit-learn", "scikit-learn"),
        ("numpy", "numpy"),
        ("pandas", "pandas"),
        ("skops", "skops"),
    ):
        try:
            versions[key] = package_version(distribution)
        except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
            versions[key] = "unknown"
    return versions


def _git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in params.items()
        if value is None or isinstance(value, (str, int, float, bool, list, tuple))
    }
