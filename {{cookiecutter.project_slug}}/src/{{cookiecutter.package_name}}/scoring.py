"""The one scoring path: rows in, validated against the data contract, predictions out.

Batch prediction and the HTTP service both score through here, so a row gets the same
answer whichever way it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .artifact import Artifact
from .errors import PredictionError
from .tasks import Predictions

ROWS_NAMED = 5
"""Most offending rows a :class:`~.errors.PredictionError` message names."""


@dataclass(frozen=True)
class Scored:
    """Validated features and what the model says about them."""

    features: pd.DataFrame
    predictions: Predictions


def score_features(artifact: Artifact, features: pd.DataFrame) -> Predictions:
    """Predict features already validated by :meth:`~.schema.Schema.validate_features`.

    Raises
    ------
    PredictionError
        When the model answers NaN or an infinite value (a prediction or a class
        probability) for any row: such an answer is refused, never returned.
    """
    predictions = artifact.task.predict(artifact.model, features)
    check_finite(predictions, features.index, artifact.version)
    return predictions


def check_finite(predictions: Predictions, index: pd.Index, version: str = "") -> None:
    """Refuse predictions holding NaN or infinity (one vectorised check per array).

    Parameters
    ----------
    predictions : Predictions
        What the model answered.
    index : pandas.Index
        The scored rows' index; an integer index (a CSV chunk's row numbers, a request's
        row positions) names the rows 1-based, otherwise rows are named by position.
    version : str, optional
        The model version, for the message.

    Raises
    ------
    PredictionError
        Naming how many rows and the first :data:`ROWS_NAMED` of them.
    """
    bad = np.zeros(len(predictions.labels), dtype=bool)
    for values in (predictions.labels, predictions.probabilities):
        if values is not None and values.dtype.kind in "fc":
            finite = np.isfinite(values)
            bad |= ~(finite if finite.ndim == 1 else finite.all(axis=1))
    if not bad.any():
        return
    positions = np.flatnonzero(bad)
    numbers = index[positions] + 1 if pd.api.types.is_integer_dtype(index.dtype) else positions + 1
    named = ", ".join(str(number) for number in numbers[:ROWS_NAMED].tolist())
    more = ", ..." if len(positions) > ROWS_NAMED else ""
    model = f"model {version}" if version else "the model"
    raise PredictionError(
        f"{model} produced non-finite predictions (NaN or infinity) for "
        f"{len(positions)} row(s): row {named}{more}",
        tuple(positions.tolist()),
    )


def score_rows(
    artifact: Artifact, rows: pd.DataFrame, *, strict_types: bool = False, allow_extra: bool = True
) -> Scored:
    """Validate ``rows`` against the artifact's data contract and predict them.

    Parameters
    ----------
    artifact : Artifact
        The loaded model.
    rows : pandas.DataFrame
        Input rows; columns that are not features are ignored unless ``allow_extra`` is False.
    strict_types : bool, default False
        Refuse strings in numeric features (typed input such as JSON); CSV text is lenient.
    allow_extra : bool, default True
        Whether columns other than the features are allowed.

    Raises
    ------
    DataError
        When the rows break the data contract, naming every offending column.
    """
    features = artifact.schema.validate_features(
        rows, allow_extra=allow_extra, strict_types=strict_types
    )
    return Scored(features=features, predictions=score_features(artifact, features))
