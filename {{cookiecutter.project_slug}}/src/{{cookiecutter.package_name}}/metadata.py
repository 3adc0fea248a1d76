"""What an artifact records about its model: typed, validated, JSON on disk.

:class:`ArtifactMetadata` is written as ``metadata.json`` next to the model file. Reading
it back checks every field's type, so a hand-edited or truncated file is refused in one
line naming the field (``training.rows must be an integer, got 'many'``) instead of failing
later wherever the value is first used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .columns import KINDS
from .config import QualityConfig, SliceThresholds
from .errors import ArtifactError
from .schema import (
    CLASSIFICATION,
    REGRESSION,
    FeatureSpec,
    Schema,
    TargetSpec,
)
from .tasks import TASKS

FORMAT_VERSION = 2


@dataclass(frozen=True)
class TrainingRecord:
    """The data a model was trained on: file, fingerprint and labelled rows used."""

    path: str
    sha256: str
    rows: int


@dataclass(frozen=True)
class RecordedMetrics:
    """Holdout metrics measured at training time, for the model and its dummy baseline."""

    holdout: dict[str, float | None]
    baseline: dict[str, float | None]


@dataclass(frozen=True)
class EvaluationSettings:
    """How ``evaluate`` and ``validate`` judge the model unless told otherwise."""

    holdout: str | None = None
    slice_columns: tuple[str, ...] = ()
    quality: QualityConfig = field(default_factory=QualityConfig)


@dataclass(frozen=True)
class ArtifactMetadata:
    """Everything ``metadata.json`` holds.

    Attributes
    ----------
    model_version : str
        The artifact's name at save time (a UTC timestamp by default).
    model_class : str
        The estimator's class name.
    task : str
        ``binary``, ``multiclass`` or ``regression`` (see :mod:`.tasks`).
    created_at : str
        When the model was saved, ISO 8601 with a time zone.
    schema : Schema
        The data contract inferred at training.
    training : TrainingRecord
        The training data.
    model_sha256 : str
        SHA-256 of ``model.skops``; loading refuses a file that does not match.
    package : str
        The distribution that trained the model.
    versions : dict of str to str
        Python and library versions at training time.
    git_commit : str or None
        The commit the code was at, when trained inside a git checkout.
    hyperparameters : dict
        The estimator's JSON-representable parameters (``learner__*`` included).
    metrics : RecordedMetrics or None
        Holdout metrics, when the config named a holdout.
    settings : EvaluationSettings
        Holdout, slice columns and quality thresholds for later evaluations.
    run_id : str or None
        The experiment-tracking run that trained the model, when one was tracked
        (absent from files written before tracking existed, which still read).
    format_version : int
        Version of this layout.
    """

    model_version: str
    model_class: str
    task: str
    created_at: str
    schema: Schema
    training: TrainingRecord
    model_sha256: str
    package: str
    versions: dict[str, str]
    git_commit: str | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    metrics: RecordedMetrics | None = None
    settings: EvaluationSettings = field(default_factory=EvaluationSettings)
    run_id: str | None = None
    format_version: int = FORMAT_VERSION

    @property
    def created(self) -> datetime:
        """:attr:`created_at` as a datetime."""
        return datetime.fromisoformat(self.created_at)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, as written to ``metadata.json``."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: Any) -> ArtifactMetadata:
        """Validate a parsed ``metadata.json`` and build the metadata.

        Raises
        ------
        ArtifactError
            Naming the first field that is missing or has the wrong type.
        """
        top = _Fields(raw, "")
        version = top.integer("format_version")
        if version != FORMAT_VERSION:
            raise ArtifactError(
                f"format_version {version} is not supported (this package reads "
                f"{FORMAT_VERSION}); retrain the model with this version of the package"
            )
        task = top.choice("task", tuple(TASKS))
        training = top.table("training")
        settings = top.table("settings")
        metrics = top.optional_table("metrics")
        created_at = top.string("created_at")
        try:
            datetime.fromisoformat(created_at)
        except ValueError:
            raise ArtifactError(
                f"created_at must be an ISO 8601 time, got {created_at!r}"
            ) from None
        return cls(
            model_version=top.string("model_version"),
            model_class=top.string("model_class"),
            task=task,
            created_at=created_at,
            schema=_schema(top.table("schema")),
            training=TrainingRecord(
                path=training.string("path"),
                sha256=training.string("sha256"),
                rows=training.integer("rows"),
            ),
            model_sha256=top.string("model_sha256"),
            package=top.string("package"),
            versions=top.string_map("versions"),
            git_commit=top.optional_string("git_commit"),
            hyperparameters=dict(top.mapping("hyperparameters")),
            metrics=(
                RecordedMetrics(
                    holdout=metrics.number_map("holdout"), baseline=metrics.number_map("baseline")
                )
                if metrics is not None
                else None
            ),
            settings=_settings(settings),
            run_id=top.optional_string("run_id"),
        )


class _Fields:
    """Typed access to one JSON object, with errors that name the field's full path."""

    def __init__(self, raw: Any, path: str) -> None:
        if not isinstance(raw, dict):
            raise ArtifactError(f"{path or 'the document'} must be an object, got {_kind(raw)}")
        self.raw = raw
        self.path = path

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> Any:
        if key not in self.raw:
            raise ArtifactError(f"{self.name(key)} is missing")
        return self.raw[key]

    def _typed(self, key: str, kinds: tuple[type, ...], wanted: str) -> Any:
        value = self.get(key)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            raise ArtifactError(f"{self.name(key)} must be {wanted}, got {value!r}")
        return value

    def string(self, key: str) -> str:
        return str(self._typed(key, (str,), "a string"))

    def optional_string(self, key: str) -> str | None:
        return None if self.raw.get(key) is None else self.string(key)

    def integer(self, key: str) -> int:
        return int(self._typed(key, (int,), "an integer"))

    def boolean(self, key: str) -> bool:
        return bool(self._typed(key, (bool,), "true or false"))

    def optional_number(self, key: str) -> float | None:
        if self.raw.get(key) is None:
            return None
        return float(self._typed(key, (int, float), "a number"))

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.string(key)
        if value not in choices:
            raise ArtifactError(
                f"{self.name(key)} must be one of {', '.join(choices)}, got {value!r}"
            )
        return value

    def mapping(self, key: str) -> Mapping[str, Any]:
        value: Mapping[str, Any] = self._typed(key, (dict,), "an object")
        return value

    def table(self, key: str) -> _Fields:
        return _Fields(self.mapping(key), self.name(key))

    def optional_table(self, key: str) -> _Fields | None:
        return None if self.raw.get(key) is None else self.table(key)

    def items(self, key: str) -> list[Any]:
        value: list[Any] = self._typed(key, (list,), "a list")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        values = self.items(key)
        for position, value in enumerate(values):
            if not isinstance(value, str):
                raise ArtifactError(
                    f"{self.name(key)}[{position}] must be a string, got {value!r}"
                )
        return tuple(values)

    def string_map(self, key: str) -> dict[str, str]:
        values = self.table(key)
        return {name: values.string(name) for name in values.raw}

    def number_map(self, key: str) -> dict[str, float | None]:
        values = self.table(key)
        return {name: values.optional_number(name) for name in values.raw}


def _schema(fields: _Fields) -> Schema:
    features = []
    for position, raw in enumerate(fields.items("features")):
        spec = _Fields(raw, f"{fields.name('features')}[{position}]")
        features.append(
            FeatureSpec(
                name=spec.string("name"),
                kind=spec.choice("kind", KINDS),
                dtype=spec.string("dtype"),
                nullable=spec.boolean("nullable"),
                minimum=spec.optional_number("minimum"),
                maximum=spec.optional_number("maximum"),
                categories=spec.strings("categories") if "categories" in spec.raw else (),
                date_format=spec.optional_string("date_format"),
                invalid_as_missing=(
                    spec.boolean("invalid_as_missing")
                    if "invalid_as_missing" in spec.raw
                    else False
                ),
            )
        )
    target = fields.table("target")
    classes = tuple(target.items("classes")) if "classes" in target.raw else ()
    counts = target.items("class_counts") if "class_counts" in target.raw else []
    if any(isinstance(count, bool) or not isinstance(count, int) for count in counts):
        raise ArtifactError(f"{target.name('class_counts')} must be a list of integers")
    if len(counts) != len(classes):
        raise ArtifactError(f"{target.name('class_counts')} must have one count per class")
    return Schema(
        features=tuple(features),
        target=TargetSpec(
            name=target.string("name"),
            classes=classes,
            class_counts=tuple(counts),
            mean=target.optional_number("mean"),
        ),
        task=fields.choice("task", (CLASSIFICATION, REGRESSION)),
    )


def _settings(fields: _Fields) -> EvaluationSettings:
    quality = fields.table("quality")
    return EvaluationSettings(
        holdout=fields.optional_string("holdout"),
        slice_columns=fields.strings("slice_columns"),
        quality=QualityConfig(
            minimum={k: v for k, v in quality.number_map("minimum").items() if v is not None},
            maximum={k: v for k, v in quality.number_map("maximum").items() if v is not None},
            baseline_margin=quality.optional_number("baseline_margin"),
            slices=_slice_thresholds(quality.optional_table("slices")),
        ),
    )


def _slice_thresholds(fields: _Fields | None) -> SliceThresholds:
    """``settings.quality.slices``; absent in artifacts saved before slices were judged."""
    if fields is None:
        return SliceThresholds()

    def numbers(key: str) -> dict[str, float]:
        if key not in fields.raw:
            return {}
        return {k: v for k, v in fields.number_map(key).items() if v is not None}

    return SliceThresholds(
        min_rows=(
            fields.integer("min_rows") if "min_rows" in fields.raw else SliceThresholds.min_rows
        ),
        minimum=numbers("minimum"),
        maximum=numbers("maximum"),
        sensitive_columns=(
            fields.strings("sensitive_columns") if "sensitive_columns" in fields.raw else ()
        ),
        max_gap=numbers("max_gap"),
    )


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
