"""The model this process serves: loaded once at start-up, self-checked, then used to score."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..artifact import Artifact, load_artifact
from ..errors import ProjectError
from ..scoring import score_rows
from .errors import ApiError

logger = logging.getLogger(__name__)


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

        The self-check scores one row built from the schema (see
        :meth:`~.Schema.example_row`), so a model that loads but cannot predict is not
        reported ready.
        """
        try:
            artifact = load_artifact(path)
            example = pd.DataFrame([artifact.schema.example_row()])
            score_rows(artifact, example, strict_types=True, allow_extra=False)
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
