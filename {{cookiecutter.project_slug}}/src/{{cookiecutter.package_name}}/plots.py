"""Figures of the evaluation report, one function per plot.

Each :class:`Plot` draws from the holdout labels and the model's
:class:`~.tasks.Predictions` into a PNG file. matplotlib is imported only when a plot is
drawn, so nothing else pays for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from .tasks import Predictions

_DPI = 100


@dataclass(frozen=True)
class Plot:
    """A named figure: ``draw(target, predictions, axes)`` fills one matplotlib axes."""

    filename: str
    title: str
    draw: Callable[[pd.Series, "Predictions", Any], None]

    def save(self, target: pd.Series, predictions: Predictions, directory: Path) -> Path:
        """Draw the figure and write it to ``directory / filename``."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(figsize=(5, 5))
        try:
            self.draw(target, predictions, axes)
            axes.set_title(f"{self.title} (holdout)")
            path = directory / self.filename
            figure.savefig(path, dpi=_DPI, bbox_inches="tight")
        finally:
            plt.close(figure)
        return path


def _confusion_matrix(target: pd.Series, predictions: Predictions, axes: Any) -> None:
    from sklearn.metrics import ConfusionMatrixDisplay

    ConfusionMatrixDisplay.from_predictions(target, predictions.labels, ax=axes, colorbar=False)


def _roc_curve(target: pd.Series, predictions: Predictions, axes: Any) -> None:
    from sklearn.metrics import RocCurveDisplay

    classes = predictions.classes or ()
    if predictions.probabilities is None or len(classes) != 2 or target.nunique() != 2:
        axes.text(0.5, 0.5, "ROC curve needs both classes\nin the holdout", ha="center")
        return
    RocCurveDisplay.from_predictions(
        target,
        predictions.probabilities[:, 1],
        pos_label=classes[1],
        ax=axes,
        plot_chance_level=True,
    )


def _prediction_error(kind: str) -> Callable[[pd.Series, "Predictions", Any], None]:
    def draw(target: pd.Series, predictions: Predictions, axes: Any) -> None:
        from sklearn.metrics import PredictionErrorDisplay

        PredictionErrorDisplay.from_predictions(
            target, predictions.labels, kind=kind, ax=axes, random_state=0
        )

    return draw


CONFUSION_MATRIX = Plot("confusion_matrix.png", "Confusion matrix", _confusion_matrix)
ROC_CURVE = Plot("roc_curve.png", "ROC curve", _roc_curve)
PREDICTED_VS_ACTUAL = Plot(
    "predicted_vs_actual.png", "Actual vs predicted", _prediction_error("actual_vs_predicted")
)
RESIDUALS = Plot(
    "residuals.png", "Residual vs predicted", _prediction_error("residual_vs_predicted")
)
