"""Command-line options shared by the CLI and the commands of optional subpackages.

Only click and the standard library at import time: the CLI's start-up stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from .artifact import Artifact

DEFAULT_MODELS_DIR = Path("models")

model_option = click.option(
    "--model",
    "model_dir",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Model artifact directory [default: the latest under {DEFAULT_MODELS_DIR}/].",
)


def resolve_model_dir(model_dir: Path | None) -> Path:
    """The artifact directory given, or the latest under :data:`DEFAULT_MODELS_DIR`."""
    from .artifact import latest_artifact

    return model_dir if model_dir is not None else latest_artifact(DEFAULT_MODELS_DIR)


def load_model(model_dir: Path | None) -> Artifact:
    """Verify and load the artifact that ``--model`` names (or the latest)."""
    from .artifact import load_artifact

    return load_artifact(resolve_model_dir(model_dir))
