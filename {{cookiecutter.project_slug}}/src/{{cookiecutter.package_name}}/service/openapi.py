"""The OpenAPI 3 description of the service, generated from the served model's schema.

Feature names and types come from the artifact, so the document always describes the
model actually being served. Every feature accepts ``null`` (a missing value); values
outside what training saw are accepted too, and counted as skew in ``/metrics``.
"""

from __future__ import annotations

from typing import Any

from .. import DISTRIBUTION, __version__
from ..schema import CLASSIFICATION, NUMERIC, FeatureSpec, Schema
from .payloads import INVOCATION_FORMATS
from .served import ServedModel

OPENAPI_VERSION = "3.0.3"
TITLE = f"{DISTRIBUTION} prediction service"
_ERRORS = {
    "400": ("BadRequest", "The body is not valid JSON or CSV, or not an accepted shape."),
    "413": ("PayloadTooLarge", "The body or the batch is larger than the configured limit."),
    "415": ("UnsupportedMediaType", "The content type is not accepted by this endpoint."),
    "422": ("InvalidFeatures", "The rows do not match the model's schema, or there are none."),
    "500": ("InternalError", "An unexpected server error; the log has the request id."),
    "503": ("ModelUnavailable", "No model is loaded; `GET /ready` says why."),
}


def build_openapi(model: ServedModel, max_rows: int) -> dict[str, Any]:
    """Return the OpenAPI document (a JSON-serialisable dictionary).

    Parameters
    ----------
    model : ServedModel
        The served model; without one, rows are described as free-form objects.
    max_rows : int
        Most rows accepted in one request.
    """
    schema = model.artifact.schema if model.artifact is not None else None
    version = model.version or "none (no model loaded)"
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": TITLE,
            "version": __version__,
            "description": f"Predictions of model version {version}. "
            "Every error response has the `Error` shape.",
        },
        "paths": _paths(),
        "components": {
            "schemas": _schemas(schema, max_rows),
            "responses": {
                name: _json_response(description, "Error")
                for name, description in _ERRORS.values()
            },
            "parameters": {
                "RequestId": {
                    "name": "X-Request-ID",
                    "in": "header",
                    "required": False,
                    "description": "Correlation id, echoed in the response and written to the "
                    "logs. One is generated when it is absent, or not 1-128 characters from "
                    "letters, digits and `._:-`.",
                    "schema": _string(),
                }
            },
        },
    }


def _paths() -> dict[str, Any]:
    errors = {
        status: {"$ref": f"#/components/responses/{name}"} for status, (name, _) in _ERRORS.items()
    }
    common = {"parameters": [{"$ref": "#/components/parameters/RequestId"}]}
    return {
        "/health": {
            "get": {
                **common,
                "operationId": "health",
                "summary": "Liveness: the process answers.",
                "responses": {"200": _json_response("Alive.", "Health")},
            }
        },
        "/ready": {
            "get": {
                **common,
                "operationId": "ready",
                "summary": "Readiness: a model is loaded and passed its self-check.",
                "responses": {
                    "200": _json_response("Ready to predict.", "Readiness"),
                    "503": _json_response("Not ready; `reason` says why.", "Readiness"),
                },
            }
        },
        "/metadata": {
            "get": {
                **common,
                "operationId": "metadata",
                "summary": "The served model: version, training metadata, metrics, schema.",
                "responses": {
                    "200": _json_response("The model.", "Metadata"),
                    "503": errors["503"],
                },
            }
        },
        "/predict": {
            "post": {
                **common,
                "operationId": "predict",
                "summary": "Predict a batch of rows, or a single row.",
                "requestBody": {
                    "required": True,
                    "content": _content(_ref("PredictRequest")),
                },
                "responses": {
                    "200": _json_response("One prediction per row, in order.", "PredictResponse"),
                    **errors,
                },
            }
        },
        "/invocations": {
            "post": {
                **common,
                "operationId": "invocations",
                "summary": "The MLflow scoring protocol.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": _ref("InvocationRequest")},
                        "text/csv": {
                            "schema": {"type": "string", "description": "CSV with a header row."}
                        },
                    },
                },
                "responses": {
                    "200": _json_response(
                        "One prediction per row, in order.", "InvocationResponse"
                    ),
                    **errors,
                },
            }
        },
        "/metrics": {
            "get": {
                **common,
                "operationId": "metrics",
                "summary": "Prometheus metrics, aggregated over all workers.",
                "responses": {
                    "200": {
                        "description": "The Prometheus text exposition format.",
                        "content": _content(_string(), "text/plain"),
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                **common,
                "operationId": "openapi",
                "summary": "This document.",
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": _content(_map(True)),
                    }
                },
            }
        },
    }


def _schemas(schema: Schema | None, max_rows: int) -> dict[str, Any]:
    batch = {**_array(_ref("Instance")), "minItems": 1, "maxItems": max_rows}
    return {
        "Instance": _instance(schema),
        "Columns": _columns(schema),
        "PredictRequest": {
            "oneOf": [
                _object({"instances": batch}, description="A batch of rows."),
                _ref("Instance"),
            ]
        },
        "PredictResponse": _predict_response(schema),
        "InvocationRequest": {
            "oneOf": [
                _object(
                    {
                        "dataframe_split": _object(
                            {
                                "columns": {**_array(_string()), "uniqueItems": True},
                                "data": {**batch, "items": _array({})},
                                "index": _array({}),
                            },
                            required=["columns", "data"],
                        )
                    }
                ),
                _object({"dataframe_records": batch}),
                _object({"instances": batch}),
                _object({"inputs": _one_of(batch, _ref("Columns"))}),
            ],
            "description": f"Exactly one of: {', '.join(INVOCATION_FORMATS)}.",
        },
        "InvocationResponse": _object({"predictions": _array(_prediction(schema))}),
        "Error": _object(
            {
                "error": _object(
                    {
                        "code": {"type": "string", "example": "invalid_features"},
                        "message": _string(),
                        "details": {
                            **_map(True),
                            "description": "Context, e.g. `fields`: offending field -> reason.",
                        },
                    }
                )
            }
        ),
        "Health": _object({"status": _string("ok")}),
        "Readiness": _object(
            {
                "status": _string("ready", "unavailable"),
                "model_version": _string(),
                "reason": _string(),
            },
            required=["status"],
        ),
        "Metadata": _object(
            {
                "name": _string(),
                "model_class": _string(),
                "version": _string(),
                "trained_at": {"type": "string", "format": "date-time", "nullable": True},
                "task": _string(),
                "metrics": {**_map(True), "nullable": True},
                "versions": _map(_string()),
                "schema": _map(True),
            },
            additional=True,
        ),
    }


def _instance(schema: Schema | None) -> dict[str, Any]:
    if schema is None:
        return {**_map(True), "description": "No model is loaded."}
    return {
        **_object(
            {spec.name: _feature(spec) for spec in schema.features},
            description="One row: a value for every feature; null for a missing value.",
        ),
        "example": schema.example_row(),
    }


def _columns(schema: Schema | None) -> dict[str, Any]:
    if schema is None:
        return _map(_array({}))
    return _object(
        {spec.name: _array(_feature(spec)) for spec in schema.features},
        description="Column name to its values, one per row; every column equally long.",
    )


def _feature(spec: FeatureSpec) -> dict[str, Any]:
    seen = "had" if spec.nullable else "had no"
    if spec.kind == NUMERIC:
        return {
            "type": "number",
            "nullable": True,
            "description": f"Numeric; {_range(spec)} in training, which {seen} missing values.",
        }
    return {
        "type": "string",
        "nullable": True,
        "description": f"Categorical; training saw {', '.join(spec.categories) or 'no values'} "
        f"and {seen} missing values.",
    }


def _range(spec: FeatureSpec) -> str:
    if spec.minimum is None or spec.maximum is None:
        return "no values"
    return f"{spec.minimum:g} to {spec.maximum:g}"


def _predict_response(schema: Schema | None) -> dict[str, Any]:
    """Predictions, class probabilities for a classifier, and the model version."""
    properties = {"predictions": _array(_prediction(schema)), "model_version": _string()}
    if schema is None or schema.task == CLASSIFICATION:
        properties["probabilities"] = {
            **_array(_map({"type": "number", "minimum": 0, "maximum": 1})),
            "description": "Per row, the probability of each class (classifiers only).",
        }
    return _object(properties, required=["predictions", "model_version"])


def _prediction(schema: Schema | None) -> dict[str, Any]:
    if schema is None:
        return {"description": "A class label or a predicted value."}
    if schema.task != CLASSIFICATION:
        return {"type": "number", "description": f"Predicted {schema.target.name}."}
    classes = list(schema.target.classes)
    kinds = {bool: "boolean", int: "integer", float: "number"}
    return {"type": kinds.get(type(classes[0]), "string"), "enum": classes}


def _object(
    properties: dict[str, Any],
    *,
    required: list[str] | None = None,
    additional: bool = False,
    description: str | None = None,
) -> dict[str, Any]:
    """An object schema; every property is required unless ``required`` says otherwise."""
    result: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": additional,
    }
    if description:
        result["description"] = description
    return result


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_response(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": _content(_ref(schema))}


def _content(schema: dict[str, Any], media_type: str = "application/json") -> dict[str, Any]:
    media = {"schema": schema}
    return {media_type: media}


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def _map(values: dict[str, Any] | bool) -> dict[str, Any]:
    """An object with any keys whose values match ``values`` (True: anything)."""
    return {"type": "object", "additionalProperties": values}


def _string(*choices: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(choices)} if choices else {"type": "string"}


def _one_of(*schemas: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": list(schemas)}
