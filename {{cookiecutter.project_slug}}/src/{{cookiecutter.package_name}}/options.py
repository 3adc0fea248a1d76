"""What the commands share: options, defaults, the run observer and number formatting.

Used by the commands in :mod:`.commands` and those of optional subpackages. Only click
and the standard library at import time: the CLI's start-up stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from .artifact import Artifact
    from .runs import RunObserver

DEFAULT_MODELS_DIR = Path("models")
DEFAULT_REPORTS_DIR = Path("reports")

_run_observer_factories: list[Callable[[], RunObserver]] = []

model_option = click.option(
    "--model",
    "model_dir",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Model artifact directory [default: the latest under {DEFAULT_MODELS_DIR}/].",
)

sep_option = click.option(
    "--sep",
    default=None,
    metavar="CHAR",
    help="CSV separator [default: detected from each file's header line: comma, "
    "semicolon, tab or vertical bar].",
)


def training_options(command: Any) -> Any:
    """``--config``, ``--data``, ``--target``, ``--task`` and ``--sep``: what to learn from.

    Shared by ``train`` and ``tune``, which turn them into a config the same way.
    """
    options = [
        click.option(
            "--config",
            "config_path",
            type=click.Path(path_type=Path),
            default=None,
            help="TOML config [default: the bundled config, which trains on the sample data].",
        ),
        click.option(
            "--data",
            type=click.Path(path_type=Path),
            default=None,
            help="Training CSV. Without --config, features are inferred from its columns, 20% "
            "of its rows are held out for evaluation and the quality gate is: beat the dummy "
            "baseline.",
        ),
        click.option(
            "--target",
            default=None,
            help="Target column name (required with --data and no --config).",
        ),
        click.option(
            "--task",
            type=click.Choice(["classification", "regression"]),
            default=None,
            help="What to learn [default: model.task of the config].",
        ),
        sep_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def add_run_observer(factory: Callable[[], RunObserver]) -> None:
    """Have ``train``, ``evaluate`` and ``tune`` report their runs to ``factory()``'s observer.

    Called by the CLI for an optional subpackage (experiment tracking) that offers one.
    """
    _run_observer_factories.append(factory)


def run_observer() -> RunObserver | None:
    """A new observer for this run, when a subpackage offers one (see :mod:`.runs`)."""
    return _run_observer_factories[0]() if _run_observer_factories else None


def format_metric(value: float | None) -> str:
    """A metric value as printed by the commands: four decimals, or n/a."""
    return "n/a" if value is None else f"{value:.4f}"


def resolve_model_dir(model_dir: Path | None) -> Path:
    """The artifact directory given, or the latest under :data:`DEFAULT_MODELS_DIR`."""
    from .artifact import latest_artifact

    return model_dir if model_dir is not None else latest_artifact(DEFAULT_MODELS_DIR)


def load_model(model_dir: Path | None) -> Artifact:
    """Verify and load the artifact that ``--model`` names (or the latest)."""
    from .artifact import load_artifact

    return load_artifact(resolve_model_dir(model_dir))
