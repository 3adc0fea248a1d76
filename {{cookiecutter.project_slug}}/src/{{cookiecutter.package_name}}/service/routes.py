"""The endpoints; each reads the :class:`Service` that ``create_app`` stored on the app.

Every view declares its OpenAPI operation next to its route (:func:`~.openapi.operation`):
adding an endpoint here is all it takes to document it in ``/openapi.json``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from flask import Blueprint, Response, current_app, g, request
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST

from ..artifact import Artifact
from ..errors import PredictionError
from ..monitoring import JsonLinesLog, now, prediction_records
from ..schema import Schema
from ..scoring import score_features
from ..tasks import Predictions
from .batching import Features, MicroBatcher
from .errors import ApiError
from .feedback import parse_feedback
from .metrics import ServiceMetrics
from .openapi import error_responses, operation, response
from .payloads import CSV, JSON, parse_invocation, parse_predict
from .served import ServedModel
from .shadow import Shadow

logger = logging.getLogger(__name__)

EXTENSION = __name__.partition(".")[0]
PREDICTION_ENDPOINTS = ("/predict", "/invocations")

blueprint = Blueprint("service", __name__)


@dataclass(frozen=True)
class Service:
    """Everything the endpoints share, built once per app.

    Attributes
    ----------
    model : ServedModel
        The model loaded at start-up (or the reason there is none).
    metrics : ServiceMetrics
        The Prometheus metrics.
    openapi : dict
        The OpenAPI document.
    max_rows : int
        Most rows accepted in one prediction request.
    batcher : MicroBatcher
        Scores concurrent prediction requests together.
    prediction_log, feedback_log : JsonLinesLog or None
        Where scored rows and delayed labels are appended (``serve --prediction-log``);
        None when predictions are not logged.
    shadow : Shadow or None
        The candidate model scoring beside the live one (``serve --candidate``).
    candidate_error : str or None
        Why the configured candidate model is not scoring, if it is not.
    """

    model: ServedModel
    metrics: ServiceMetrics
    openapi: dict[str, Any]
    max_rows: int
    batcher: MicroBatcher
    prediction_log: JsonLinesLog | None = None
    feedback_log: JsonLinesLog | None = None
    shadow: Shadow | None = None
    candidate_error: str | None = None


def current_service() -> Service:
    """The :class:`Service` of the app handling the current request."""
    service: Service = current_app.extensions[EXTENSION]
    return service


@blueprint.get("/health")
@operation("Liveness: the process answers.", {"200": response("Alive.", "Health")})
def health() -> ResponseReturnValue:
    """Liveness: 200 whenever the process can answer."""
    return {"status": "ok"}


@blueprint.get("/ready")
@operation(
    "Readiness: a model is loaded and passed its self-check.",
    {
        "200": response("Ready to predict.", "Readiness"),
        "503": response("Not ready; `reason` says why.", "Readiness"),
    },
)
def ready() -> ResponseReturnValue:
    """Readiness: 200 when a model is loaded and passed its self-check, else 503 and why.

    With a candidate model (``serve --candidate``), its version, or why it is not scoring.
    """
    service = current_service()
    model = service.model
    candidate: dict[str, Any] = {}
    if service.shadow is not None:
        candidate["candidate_version"] = service.shadow.version
    if service.candidate_error is not None:
        candidate["candidate_error"] = service.candidate_error
    if model.ready:
        return {"status": "ready", "model_version": model.version, **candidate}
    return {"status": "unavailable", "reason": model.error, **candidate}, 503


@blueprint.get("/metadata")
@operation(
    "The served model: version, training metadata, metrics, schema.",
    {"200": response("The model.", "Metadata"), **error_responses("503")},
)
def metadata() -> ResponseReturnValue:
    """The served model: name, version, training time, metrics and input schema."""
    artifact = current_service().model.require()
    recorded = artifact.metadata
    return _finite(
        {
            "name": recorded.package,
            "model_class": recorded.model_class,
            "version": artifact.version,
            "trained_at": recorded.created_at,
            "task": recorded.task,
            "metrics": dataclasses.asdict(recorded.metrics) if recorded.metrics else None,
            "versions": recorded.versions,
            "schema": artifact.schema.to_dict(),
        }
    )


@blueprint.post("/predict")
@operation(
    "Predict a batch of rows, or a single row.",
    {"200": response("One prediction per row, in order.", "PredictResponse"), **error_responses()},
    request_body={JSON: "PredictRequest"},
)
def predict() -> ResponseReturnValue:
    """Predict ``{"instances": [...]}`` or a single instance."""
    artifact, predictions, ids = _score_request("predict", parse_predict)
    answer = {**predictions.to_json(), "model_version": artifact.version}
    if ids is not None:
        answer["prediction_ids"] = ids
    return answer


@blueprint.post("/invocations")
@operation(
    "The MLflow scoring protocol.",
    {
        "200": response("One prediction per row, in order.", "InvocationResponse"),
        **error_responses(),
    },
    request_body={
        JSON: "InvocationRequest",
        CSV: {
            "type": "string",
            "description": "CSV with a header row, read like a file given to `predict`: "
            "columns that are not features (ids, the target) are ignored.",
        },
    },
)
def invocations() -> ResponseReturnValue:
    """The MLflow scoring protocol: JSON in one of four shapes, or CSV."""
    _, predictions, _ = _score_request("invocations", parse_invocation)
    return {"predictions": predictions.to_json()["predictions"]}


@blueprint.post("/feedback")
@operation(
    "Delayed labels of logged predictions, for `monitor` (needs `serve --prediction-log`).",
    {
        "200": response("The labels were recorded.", "FeedbackResponse"),
        "404": response("Feedback is not recorded: the service has no prediction log.", "Error"),
        **error_responses("400", "413", "415", "422", "500", "503"),
    },
    request_body={JSON: "FeedbackRequest"},
)
def feedback() -> ResponseReturnValue:
    """Record ``{"id": ..., "label": ...}`` (or a list of them) in the feedback log."""
    service = current_service()
    if service.feedback_log is None:
        raise ApiError(
            404,
            "feedback_disabled",
            "feedback is not recorded: the service runs without a prediction log "
            "(serve --prediction-log DIR)",
        )
    artifact = service.model.require()
    pairs = parse_feedback(
        request.get_data(cache=False), request.mimetype, artifact.schema, service.max_rows
    )
    stamp = now()
    service.feedback_log.write(
        [{"id": row_id, "label": label, "time": stamp} for row_id, label in pairs]
    )
    return {"recorded": len(pairs)}


@blueprint.get("/metrics")
@operation(
    "Prometheus metrics, aggregated over all workers.",
    {"200": response("The Prometheus text exposition format.", {"type": "string"}, "text/plain")},
)
def metrics() -> ResponseReturnValue:
    """Prometheus metrics in the text exposition format."""
    return Response(current_service().metrics.render(), content_type=CONTENT_TYPE_LATEST)


@blueprint.get("/openapi.json")
@operation(
    "This document.",
    {"200": response("The OpenAPI document.", {"type": "object", "additionalProperties": True})},
)
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3 description of this API."""
    # Serialised here rather than by jsonify, which would sort the keys: the order of the
    # properties is the order of the model's features.
    return Response(json.dumps(current_service().openapi), mimetype="application/json")


def _score_request(
    endpoint: str, parse: Callable[[bytes, str, Schema, int], Features]
) -> tuple[Artifact, Predictions, list[str] | None]:
    """Parse and validate the request body with ``parse``, score it and record metrics.

    Validation is this request's own; scoring may be shared with concurrent requests
    (:class:`~.batching.MicroBatcher`), with the same answers. Predictions holding NaN or
    infinity are refused with 500 and counted. With a prediction log, each row is logged
    under the id ``<request id>:<row>``; the ids are returned (else None).
    """
    service = current_service()
    artifact = service.model.require()
    body, mimetype = request.get_data(cache=False), request.mimetype
    try:
        features, predictions = service.batcher.submit(
            lambda: parse(body, mimetype, artifact.schema, service.max_rows)
        )
    except PredictionError as error:
        service.metrics.observe_nonfinite(endpoint, len(error.rows))
        logger.error("%s", error, extra={"request_id": g.request_id})
        raise ApiError(
            500,
            "non_finite_predictions",
            str(error),
            {"rows": [row + 1 for row in error.rows]},
        ) from None
    _observe(endpoint, predictions)
    ids = None
    if service.prediction_log is not None:
        ids = [f"{g.request_id}:{row}" for row in range(len(features))]
        _log_predictions(service.prediction_log, ids, artifact, predictions)
    return artifact, predictions, ids


def scorer(
    model: ServedModel,
    shadow: Shadow | None = None,
    observe_skew: Callable[[dict[str, dict[str, int]]], None] | None = None,
) -> Callable[[pd.DataFrame], Predictions]:
    """The one model call of the prediction endpoints, for the :class:`~.batching.MicroBatcher`.

    Training/serving skew of each scored batch goes to ``observe_skew`` (once per model
    call: counting it per request would cost each request as much again). With a
    ``shadow``, each scored batch is then handed to the candidate model, which scores it
    in the background: the answer never waits for it.
    """

    def score(features: pd.DataFrame) -> Predictions:
        artifact = model.require()
        predictions = score_features(artifact, features)
        if observe_skew is not None:
            try:
                observe_skew(artifact.schema.skew(features))
            except Exception:  # the answers stand; only this batch's skew is not counted
                logger.exception("could not count training/serving skew")
        if shadow is not None:
            shadow.submit(features, predictions)
        return predictions

    return score


def _log_predictions(
    log: JsonLinesLog, ids: list[str], artifact: Artifact, predictions: Predictions
) -> None:
    """Append the rows to the prediction log; a failure is logged, never fails the answer."""
    try:
        log.write(prediction_records(ids, artifact.version, predictions))
    except Exception:
        logger.exception("could not log predictions", extra={"request_id": g.request_id})


def _observe(endpoint: str, predictions: Predictions) -> None:
    """Record prediction metrics (skew is counted per batch, by :func:`scorer`).

    A failure here never fails the prediction.
    """
    try:
        current_service().metrics.observe_scores(endpoint, predictions)
    except Exception:  # the answer stands; only this batch's metrics are lost
        logger.exception("could not record prediction metrics", extra={"request_id": g.request_id})


def _finite(value: Any) -> Any:
    """Replace NaN and infinities (which JSON cannot carry) with null, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
