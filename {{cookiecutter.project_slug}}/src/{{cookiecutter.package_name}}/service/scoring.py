{%- set classification = cookiecutter.ml_task == "classification" -%}
"""The model this process serves: loaded once at start-up, self-checked, then used to score."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from {{ cookiecutter.package_name }}.artifact import Artifact, load_artifact
from {{ cookiecutter.package_name }}.errors import ProjectError
from {{ cookiecutter.package_name }}.schema import NUMERIC, Schema
from {{ cookiecutter.package_name }}.service.errors import ApiError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scores:
    """What the model says about a batch of rows, as JSON-ready Python values.

    Attributes
    ----------
    predictions : list
        One {% if classification %}class label{% else %}predicted value{% endif %} per row, in input order.
{%- if classification %}
    probabilities : list of dict
        One ``{class: probability}`` mapping per row; class labels as strings.
{%- endif %}
    """

    predictions: list[Any]
{%- if classification %}
    probabilities: list[dict[str, float]]
{%- endif %}


@dataclass(frozen=True)
class ServedModel:
    """The artifact this process serves, or the reason it has none.

    A service whose model failed to load still starts, so that its logs and ``/ready``
    say why; it answers prediction requests with 503.
    """

    artifact: Artifact | None
    error: str | None = None

    @classmethod
    def load(cls, path: str | Path) -> ServedModel:
        """Load and self-check the artifact at ``path``; never raises.

        The self-check scores one row built from the schema (see :func:`example_instance`),
        so a model that loads but cannot predict is not reported ready.
        """
        try:
            artifact = load_artifact(path)
            features = artifact.schema.validate_features(
                pd.DataFrame([example_instance(artifact.schema)]),
                allow_extra=False,
                strict_types=True,
            )
            score(artifact, features)
        except Exception as exc:  # any failure means "not ready", never a crashed worker
            reason = " ".join(str(exc).split()) or type(exc).__name__
            logger.error(
                "model not loaded from %s: %s",
                path,
                reason,
                exc_info=not isinstance(exc, ProjectError),
                extra={"model_path": str(path)},
            )
            return cls(None, reason)
        logger.info(
            "serving model %s from %s",
            artifact.version,
            artifact.path,
            extra={"model_version": artifact.version, "model_path": str(artifact.path)},
        )
        return cls(artifact)

    @property
    def ready(self) -> bool:
        """Whether a model is loaded and passed its self-check."""
        return self.artifact is not None

    @property
    def version(self) -> str | None:
        """The served model's version, if any."""
        return self.artifact.version if self.artifact is not None else None

    def require(self) -> Artifact:
        """Return the artifact.

        Raises
        ------
        ApiError
            503 when no model is loaded.
        """
        if self.artifact is None:
            raise ApiError(503, "model_unavailable", f"no model is loaded: {self.error}")
        return self.artifact


def score(artifact: Artifact, features: pd.DataFrame) -> Scores:
    """Predict validated features (the output of ``Schema.validate_features``)."""
{%- if classification %}
    labels = [str(label) for label in artifact.model.classes_]
    predictions, probabilities = artifact.model.predict_with_proba(features)
    return Scores(
        predictions=predictions.tolist(),
        probabilities=[dict(zip(labels, row)) for row in probabilities.tolist()],
    )
{%- else %}
    return Scores(predictions=artifact.model.predict(features).tolist())
{%- endif %}


def example_instance(schema: Schema) -> dict[str, Any]:
    """One plausible row: the middle of each numeric range and the first known category."""
    row: dict[str, Any] = {}
    for spec in schema.features:
        if spec.kind == NUMERIC:
            low, high = spec.minimum, spec.maximum
            row[spec.name] = (low + high) / 2 if low is not None and high is not None else 0.0
        else:
            row[spec.name] = spec.categories[0] if spec.categories else None
    return row
