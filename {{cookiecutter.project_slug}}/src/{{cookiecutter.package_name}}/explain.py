"""One row through every step of the pipeline, for debugging a prediction.

:func:`explain_row` shows what each step makes of a row: the raw values; the data
contract's result (coercions, unseen levels read as missing, values unlike the training
data counted as skew); the encoder's output per learner input (a number passed through,
a category code and the level it stands for, a target encoding and what it averages);
the learner's input vector; and the prediction, which comes from
:func:`~.scoring.score_rows`, the path batch prediction and the service score through.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from .artifact import Artifact
from .errors import DataError
from .schema import BOOLEAN, CATEGORICAL, DATETIME, NUMERIC, FeatureSpec
from .scoring import score_rows


@dataclass(frozen=True)
class Explanation:
    """What each pipeline step made of one row (JSON-serialisable through :meth:`to_dict`).

    Attributes
    ----------
    source : str
        Where the row came from.
    raw : dict
        The row's feature values as given.
    ignored : list of str
        Columns of the row that are not features.
    contract : list of dict
        Per feature: ``feature``, ``kind``, ``raw``, ``values`` (model input columns) and
        ``notes`` on what the data contract did.
    skew : dict
        :meth:`~.schema.Schema.skew` of the row: values unlike the training data.
    encoded : list of dict
        Per learner input column: ``column``, ``feature``, ``encoding``, ``value`` and
        ``meaning``.
    learner : dict
        The learner's ``type``, its input ``vector`` and the ``categorical`` input names.
    prediction : dict
        ``prediction`` and, for classifiers, ``probabilities`` by class.
    """

    source: str
    raw: dict[str, Any]
    ignored: list[str]
    contract: list[dict[str, Any]]
    skew: dict[str, dict[str, int]]
    encoded: list[dict[str, Any]]
    learner: dict[str, Any]
    prediction: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dictionary: missing values are ``null``."""
        plain: dict[str, Any] = _plain(asdict(self))
        return plain


def select_row(frame: pd.DataFrame, number: int, source: str) -> pd.DataFrame:
    """The ``number``-th data row of ``frame`` (1 is the first row after the header).

    Raises
    ------
    DataError
        When there is no such row.
    """
    if not 1 <= number <= len(frame):
        available = f"rows 1 to {len(frame)}" if len(frame) else "no rows"
        raise DataError(f"row {number} is out of range: {source} has {available}")
    return frame.iloc[[number - 1]]


def parse_json_row(text: str) -> pd.DataFrame:
    """One row from a JSON object mapping column names to values (``null`` is missing).

    Raises
    ------
    DataError
        When ``text`` is not a JSON object.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"the JSON row is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or not document:
        raise DataError('the JSON row must be an object of column values, e.g. {"age": 41}')
    return pd.DataFrame({str(name): [value] for name, value in document.items()})


def explain_row(
    artifact: Artifact, row: pd.DataFrame, *, source: str = "row", strict_types: bool = False
) -> Explanation:
    """Show one row through every step of the artifact's pipeline.

    Parameters
    ----------
    artifact : Artifact
        The loaded model.
    row : pandas.DataFrame
        Exactly one row; columns other than the features are listed as ignored.
    source : str
        Where the row came from, for the output.
    strict_types : bool
        Validate as typed (JSON) input: strings in numeric columns are refused.

    Raises
    ------
    DataError
        When the row breaks the data contract (a missing feature, a value of the wrong
        type), naming every offending column, as scoring would.
    """
    if len(row) != 1:
        raise DataError(f"explain needs exactly one row, got {len(row)}")
    schema = artifact.schema
    scored = score_rows(artifact, row, strict_types=strict_types)
    features = scored.features
    skew = schema.skew(features)
    contract = [
        {
            "feature": spec.name,
            "kind": spec.kind,
            "raw": _value(row[spec.name].iloc[0]),
            "values": {name: _value(features[name].iloc[0]) for name in spec.inputs},
            "notes": _contract_notes(spec, row[spec.name].iloc[0], features, skew),
        }
        for spec in schema.features
    ]
    model = artifact.model
    vector = np.asarray(model.preprocessor_.transform(features), dtype=float)[0]
    encoded = _encoded(model.preprocessor_, features, vector, schema.features)
    mask = np.asarray(model.preprocessor_.categorical_mask_, dtype=bool)
    names = [entry["column"] for entry in encoded]
    learner = {
        "type": type(model.learner_).__name__,
        "columns": names,
        "vector": [_value(value) for value in vector],
        "categorical": [name for name, flag in zip(names, mask) if flag],
    }
    answer = scored.predictions.to_json()
    prediction: dict[str, Any] = {"prediction": answer["predictions"][0]}
    if "probabilities" in answer:
        prediction["probabilities"] = answer["probabilities"][0]
    return Explanation(
        source=source,
        raw={name: _value(row[name].iloc[0]) for name in schema.feature_names},
        ignored=[str(name) for name in row.columns if name not in schema.feature_names],
        contract=contract,
        skew=skew,
        encoded=encoded,
        learner=learner,
        prediction=prediction,
    )


def _contract_notes(
    spec: FeatureSpec, raw: Any, features: pd.DataFrame, skew: dict[str, dict[str, int]]
) -> list[str]:
    """What the data contract did with one value, in words."""
    raw, value = _value(raw), features[spec.inputs[0]].iloc[0]
    counts = skew.get(spec.name, {})
    notes = []
    if _missing(raw):
        seen = "as in training" if spec.nullable else "never missing in training: skew"
        notes.append(f"missing ({seen})")
    elif _missing(value):
        notes.append(f"{raw!r} is not a valid value: read as missing (data.coerce_to_missing)")
    elif spec.kind == NUMERIC:
        if isinstance(raw, str):
            notes.append(f"text {raw!r} read as the number {value:g}")
        if "out_of_range" in counts:
            notes.append(f"outside the training range [{spec.minimum:g}, {spec.maximum:g}]: skew")
    elif spec.kind == BOOLEAN:
        notes.append(f"{raw!r} read as {value:g} ({'true' if value else 'false'})")
    elif spec.kind == DATETIME:
        parts = ", ".join(
            f"{name.rpartition('__')[2]} {features[name].iloc[0]:g}" for name in spec.inputs
        )
        notes.append(f"date {raw!r} split into {parts}")
    elif spec.kind == CATEGORICAL:
        if not isinstance(raw, str):
            notes.append(f"{raw!r} read as the level {value!r}")
        if "unseen_category" in counts:
            notes.append(
                f"level {value!r} never seen in training ({len(spec.categories)} known): "
                "the encoder reads it as missing; skew"
            )
    return notes or ["ok"]


def _encoded(
    preprocessor: Any, features: pd.DataFrame, vector: np.ndarray, specs: tuple[FeatureSpec, ...]
) -> list[dict[str, Any]]:
    """Each learner input: its column, feature, encoding, value and what the value means."""
    owner = {column: spec.name for spec in specs for column in spec.inputs}
    entries: list[dict[str, Any]] = []
    position = 0
    for column in preprocessor.numeric_features_:
        value = vector[position]
        entries.append(
            {
                "column": str(column),
                "feature": owner.get(column, str(column)),
                "encoding": "number (passed through)",
                "value": _value(value),
                "meaning": "missing: the learner routes it as missing" if np.isnan(value) else "",
            }
        )
        position += 1
    encoder = preprocessor.encoder_
    infrequent = getattr(encoder, "infrequent_categories_", None) if encoder else None
    for index, column in enumerate(preprocessor.categorical_features_):
        value, level = vector[position], features[column].iloc[0]
        if _missing(level):
            meaning = "missing level: the learner routes it as missing"
        elif np.isnan(value):
            meaning = f"unseen level {level!r}: missing for the learner"
        elif (
            infrequent is not None
            and infrequent[index] is not None
            and level in set(infrequent[index])
        ):
            meaning = f"the shared code of {len(infrequent[index])} infrequent levels ({level!r})"
        else:
            meaning = f"level {level!r}"
        entries.append(
            {
                "column": str(column),
                "feature": owner.get(column, str(column)),
                "encoding": "category code",
                "value": _value(value),
                "meaning": meaning,
            }
        )
        position += 1
    wide = list(preprocessor.target_encoded_features_)
    if wide:
        target_encoder = preprocessor.target_encoder_
        names = [str(name) for name in target_encoder.get_feature_names_out()]
        per_feature = len(names) // len(wide)
        for offset, name in enumerate(names):
            index = offset // per_feature
            column, level = wide[index], features[wide[index]].iloc[0]
            known = not _missing(level) and level in set(target_encoder.categories_[index])
            what = "smoothed target mean" if per_feature == 1 else f"smoothed share ({name})"
            meaning = (
                f"{what} of level {level!r}"
                if known
                else f"unseen or missing level: the target's overall {what.split()[-1]}"
            )
            entries.append(
                {
                    "column": name,
                    "feature": column,
                    "encoding": "target encoding",
                    "value": _value(vector[position]),
                    "meaning": meaning,
                }
            )
            position += 1
    return entries


def format_explanation(explanation: Explanation) -> str:
    """The explanation as text, one numbered section per pipeline step."""
    data = explanation.to_dict()
    lines = [f"1. Raw input ({explanation.source})"]
    width = max([len(name) for name in data["raw"]] + [10])
    lines += [f"   {name.ljust(width)}  {_show(value)}" for name, value in data["raw"].items()]
    if data["ignored"]:
        lines.append(f"   ignored (not features): {', '.join(data['ignored'])}")
    lines.append("2. Data contract (validated values)")
    for entry in data["contract"]:
        values = ", ".join(_show(value) for value in entry["values"].values())
        notes = "; ".join(entry["notes"])
        lines.append(f"   {entry['feature'].ljust(width)}  {entry['kind']:<11}  {values}  {notes}")
    skew = data["skew"]
    if skew:
        shown = "; ".join(f"{name}: {', '.join(counts)}" for name, counts in skew.items())
        lines.append(f"   skew: {shown}")
    else:
        lines.append("   skew: none (every value is like the training data)")
    lines.append("3. Encoder (one line per learner input)")
    column_width = max([len(entry["column"]) for entry in data["encoded"]] + [width])
    for entry in data["encoded"]:
        meaning = f"  {entry['meaning']}" if entry["meaning"] else ""
        lines.append(
            f"   {entry['column'].ljust(column_width)}  {entry['encoding']:<23}  "
            f"{_show(entry['value'])}{meaning}"
        )
    learner = data["learner"]
    lines.append(
        f"4. Learner input ({learner['type']}, {len(learner['vector'])} columns"
        + (
            f"; categorical: {', '.join(learner['categorical'])})"
            if learner["categorical"]
            else ")"
        )
    )
    lines.append("   [" + ", ".join(_show(value) for value in learner["vector"]) + "]")
    lines.append("5. Prediction")
    lines.append(f"   prediction: {_show(data['prediction']['prediction'])}")
    for label, probability in data["prediction"].get("probabilities", {}).items():
        lines.append(f"   probability {label}: {probability:.4f}")
    return "\n".join(lines)


def _show(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _value(value: Any) -> Any:
    """One cell as a plain JSON value: missing as None, numpy scalars as Python ones."""
    if _missing(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _plain(value: Any) -> Any:
    """Nested containers with every float NaN as None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value
