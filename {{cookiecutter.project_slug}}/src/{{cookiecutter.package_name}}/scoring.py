"""The one scoring path: rows in, validated against the data contract, predictions out.

Batch prediction and the HTTP service both score through here, so a row gets the same
answer whichever way it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .artifact import Artifact
from .tasks import Predictions


@dataclass(frozen=True)
class Scored:
    """Validated features and what the model says about them."""

    features: pd.DataFrame
    predictions: Predictions


def score_features(artifact: Artifact, features: pd.DataFrame) -> Predictions:
    """Predict features already validated by :meth:`~.schema.Schema.validate_features`."""
    return artifact.task.predict(artifact.model, features)


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
