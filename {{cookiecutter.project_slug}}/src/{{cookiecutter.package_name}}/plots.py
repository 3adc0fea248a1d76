"""Figures of the evaluation report, one function per plot.

Each :class:`Plot` draws from the holdout labels and the model's
:class:`~.tasks.Predictions` into a PNG file. matplotlib is imported only when a plot is
drawn, so nothing else pays for it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
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

    def render(self, target: pd.Series, predictions: Predictions) -> bytes:
        """Draw the figure and return it as PNG bytes."""
        with _figure((5, 5)) as axes:
            self.draw(target, predictions, axes)
            axes.set_title(f"{self.title} (holdout)")
            return _png(axes.figure)

    def save(self, target: pd.Series, predictions: Predictions, directory: Path) -> Path:
        """Draw the figure and write it to ``directory / filename``."""
        path = directory / self.filename
        path.write_bytes(self.render(target, predictions))
        return path


@contextmanager
def _figure(size: tuple[float, float]) -> Iterator[Any]:
    """One matplotlib axes on a new figure (off-screen), closed when the block ends."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=size)
    try:
        yield axes
    finally:
        plt.close(figure)


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight")
    return buffer.getvalue()


def _confusion_matrix(target: pd.Series, predictions: Predictions, axes: Any) -> None:
    from sklearn.metrics import ConfusionMatrixDisplay

    ConfusionMatrixDisplay.from_predictions(target, predictions.labels, ax=axes, colorbar=False)


def _roc_curve(target: pd.Series, predictions: Predictions, axes: Any) -> None:
    from sklearn.metrics import RocCurveDisplay

    _binary_curve(RocCurveDisplay, "ROC curve", target, predictions, axes)


def _precision_recall(target: pd.Series, predictions: Predictions, axes: Any) -> None:
    from sklearn.metrics import PrecisionRecallDisplay

    _binary_curve(PrecisionRecallDisplay, "Precision-recall", target, predictions, axes)


def _binary_curve(
    display: Any, name: str, target: pd.Series, predictions: Predictions, axes: Any
) -> None:
    """Draw a scikit-learn curve ``display`` of the positive class's probability."""
    classes = predictions.classes or ()
    if predictions.probabilities is None or len(classes) != 2 or target.nunique() != 2:
        axes.text(0.5, 0.5, f"{name} needs both classes\nin the holdout", ha="center")
        return
    display.from_predictions(
        target,
        predictions.probabilities[:, 1],
        pos_label=classes[1],
        ax=axes,
        plot_chance_level=True,
    )


_CALIBRATION_BINS = 10


def _calibration(target: pd.Series, predictions: Predictions, axes: Any) -> None:
    """Observed frequency against predicted probability, in quantile bins of the predictions.

    A binary model shows its second class; a multiclass model each class against the rest.
    """
    from sklearn.calibration import calibration_curve

    classes = predictions.classes or ()
    if predictions.probabilities is None or not classes:
        axes.text(0.5, 0.5, "Calibration needs probabilities", ha="center")
        return
    truth = np.asarray(target)
    shown = classes[1:] if len(classes) == 2 else classes
    bins = max(2, min(_CALIBRATION_BINS, len(truth) // 20))
    for label in shown:
        is_class = truth == label
        if is_class.all() or not is_class.any():
            continue
        scores = predictions.probabilities[:, classes.index(label)]
        observed, predicted = calibration_curve(is_class, scores, n_bins=bins, strategy="quantile")
        axes.plot(predicted, observed, marker="o", label=f"class {label}")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    axes.set_xlabel("Mean predicted probability")
    axes.set_ylabel("Observed frequency")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.legend(loc="upper left", fontsize="small")


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
PRECISION_RECALL = Plot("precision_recall.png", "Precision-recall curve", _precision_recall)
CALIBRATION = Plot("calibration.png", "Calibration", _calibration)


def importance_chart(
    names: Sequence[str],
    values: Sequence[float],
    errors: Sequence[float],
    helps: Sequence[bool],
    measure: str = "importance",
) -> bytes:
    """Permutation importance as horizontal bars with whiskers of ``errors`` (PNG).

    Bars of features that do not help are grey; the first feature is on top.
    """
    with _figure((6, max(2.5, 0.4 * len(names) + 1))) as axes:
        positions = np.arange(len(names))[::-1]
        colors = ["tab:blue" if helpful else "tab:grey" for helpful in helps]
        axes.barh(positions, values, xerr=errors, color=colors, capsize=3)
        axes.set_yticks(positions, [str(name) for name in names])
        axes.axvline(0, color="black", linewidth=0.8)
        axes.set_xlabel(f"{measure} when the feature is shuffled")
        axes.set_title("Permutation importance (holdout; grey: does not help)")
        return _png(axes.figure)
