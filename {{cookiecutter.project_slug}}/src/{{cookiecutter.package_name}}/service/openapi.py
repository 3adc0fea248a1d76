"""The OpenAPI 3 description of the service, built from the app's routes and the served model.

Each view declares its own operation with :func:`operation`, next to its route; the
document's ``paths`` are read from the app's URL map, so a route cannot exist without
being described, nor be described without existing. The component schemas come from the
artifact, so the document always describes the model actually being served. Every feature
accepts ``null`` (a missing value; the non-standard JSON ``NaN`` that pandas and MLflow
send means the same); values outside what training saw are accepted too, and counted as
skew in ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

from flask import Flask

from .. import DISTRIBUTION, __version__
from ..schema import CLASSIFICATION, NUMERIC, FeatureSpec, Schema
from .payloads import INVOCATION_FORMATS
from .served import ServedModel

OPENAPI_VERSION = "3.0.3"
TITLE = f"{DISTRIBUTION} prediction service"
OPERATION_ATTRIBUTE = "openapi_operation"
"""The view function attribute holding its :class:`Operation`."""
_ERRORS = {
    "400": ("BadRequest", "The body is not valid JSON or CSV, or not an accepted shape."),
    "413": ("PayloadTooLarge", "The body or the batch is larger than the configured limit."),
    "415": ("UnsupportedMediaType", "The content type is not accepted by this endpoint."),
    "422": ("InvalidFeatures", "The rows do not match the model's schema, or there are none."),
    "500": ("InternalError", "An unexpected server error; the log has the request id."),
    "503": ("ModelUnavailable", "No model is loaded; `GET /ready` says why."),
}
_UNDOCUMENTED_METHODS = frozenset({"HEAD", "OPTIONS"})
CATEGORIES_LISTED = 20
"""Most training levels a categorical feature's description names; the rest are counted."""

View = TypeVar("View", bound=Callable[..., Any])
SchemaRef: TypeAlias = "str | dict[str, Any]"
"""A component schema's name, or an inline schema."""


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one endpoint; its ``operationId`` is the view's name.

    Attributes
    ----------
    summary : str
        One line saying what the endpoint does.
    responses : dict
        Status code to OpenAPI response object (see :func:`response` and
        :func:`error_responses`).
    request_body : dict
        Media type to the body's schema; empty when the endpoint takes no body.
    """

    summary: str
    responses: Mapping[str, Any]
    request_body: Mapping[str, SchemaRef] = field(default_factory=dict)

    def to_dict(self, operation_id: str) -> dict[str, Any]:
        """The OpenAPI operation object."""
        result: dict[str, Any] = {
            "parameters": [{"$ref": "#/components/parameters/RequestId"}],
            "operationId": operation_id,
            "summary": self.summary,
        }
        if self.request_body:
            result["requestBody"] = {
                "required": True,
                "content": {
                    media_type: {"schema": _schema_of(schema)}
                    for media_type, schema in self.request_body.items()
                },
            }
        result["responses"] = dict(self.responses)
        return result


def operation(
    summary: str,
    responses: Mapping[str, Any],
    *,
    request_body: Mapping[str, SchemaRef] | None = None,
) -> Callable[[View], View]:
    """Declare a view's OpenAPI operation; :func:`build_openapi` finds it through the route.

    Parameters
    ----------
    summary : str
        One line saying what the endpoint does.
    responses : dict
        Status code to response object, built with :func:`response` and
        :func:`error_responses`.
    request_body : dict, optional
        Media type to the body's schema (a component name or an inline schema).

    Returns
    -------
    callable
        A decorator returning the view itself, with :data:`OPERATION_ATTRIBUTE` set.
    """
    declared = Operation(summary, dict(responses), dict(request_body or {}))

    def declare(view: View) -> View:
        setattr(view, OPERATION_ATTRIBUTE, declared)
        return view

    return declare


def response(
    description: str, schema: SchemaRef, media_type: str = "application/json"
) -> dict[str, Any]:
    """A response object whose body matches ``schema`` (a component name or inline)."""
    return {"description": description, "content": _content(_schema_of(schema), media_type)}


def error_responses(*statuses: str) -> dict[str, Any]:
    """References to the shared error responses of ``statuses`` (all of them when none)."""
    return {
        status: {"$ref": f"#/components/responses/{name}"}
        for status, (name, _) in _ERRORS.items()
        if not statuses or status in statuses
    }


def build_openapi(app: Flask, model: ServedModel, max_rows: int) -> dict[str, Any]:
    """Return the OpenAPI document (a JSON-serialisable dictionary).

    Parameters
    ----------
    app : flask.Flask
        The app with every route registered; each route's view must declare its
        :func:`operation`.
    model : ServedModel
        The served model; without one, rows are described as free-form objects.
    max_rows : int
        Most rows accepted in one request.

    Raises
    ------
    TypeError
        When a route's view declares no operation.
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
        "paths": _paths(app),
        "components": {
            "schemas": _schemas(schema, max_rows),
            "responses": {
                name: response(description, "Error") for name, description in _ERRORS.values()
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


def _paths(app: Flask) -> dict[str, Any]:
    """One path item per route of ``app``, in the order the routes were registered."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        declared = getattr(view, OPERATION_ATTRIBUTE, None)
        if not isinstance(declared, Operation):
            raise TypeError(
                f"the view of route {rule.rule} ({rule.endpoint}) declares no OpenAPI "
                "operation; decorate it with @operation"
            )
        for method in sorted(set(rule.methods or ()) - _UNDOCUMENTED_METHODS):
            paths.setdefault(rule.rule, {})[method.lower()] = declared.to_dict(view.__name__)
    return paths


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
                "candidate_version": {
                    **_string(),
                    "description": "The candidate model scoring in the shadow of the live one.",
                },
                "candidate_error": {
                    **_string(),
                    "description": "Why the configured candidate model is not scoring.",
                },
            },
            required=["status"],
        ),
        "FeedbackRequest": _one_of(
            _ref("Feedback"), {**_array(_ref("Feedback")), "minItems": 1, "maxItems": max_rows}
        ),
        "Feedback": _object(
            {
                "id": {
                    **_string(),
                    "minLength": 1,
                    "maxLength": 256,
                    "description": "A prediction id: `<X-Request-ID>:<row>` (see "
                    "`prediction_ids`).",
                },
                "label": {**_prediction(schema), "description": "The true label or value."},
            },
            description="The true label of one logged prediction, known later.",
        ),
        "FeedbackResponse": _object({"recorded": {"type": "integer", "minimum": 1}}),
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
            description="One row: a value for every feature, and no other field; null (or "
            "NaN, as pandas and MLflow write it) for a missing value.",
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
        "description": f"Categorical; training saw {_levels(spec.categories)} "
        f"and {seen} missing values.",
    }


def _levels(categories: tuple[str, ...]) -> str:
    """The first :data:`CATEGORIES_LISTED` levels, then how many more (the artifact has all)."""
    if not categories:
        return "no values"
    listed = ", ".join(categories[:CATEGORIES_LISTED])
    more = len(categories) - CATEGORIES_LISTED
    return f"{listed} and {more:,} more" if more > 0 else listed


def _range(spec: FeatureSpec) -> str:
    if spec.minimum is None or spec.maximum is None:
        return "no values"
    return f"{spec.minimum:g} to {spec.maximum:g}"


def _predict_response(schema: Schema | None) -> dict[str, Any]:
    """Predictions, class probabilities for a classifier, and the model version."""
    properties = {"predictions": _array(_prediction(schema)), "model_version": _string()}
    required = list(properties)
    properties["prediction_ids"] = {
        **_array(_string()),
        "description": "With a prediction log only: each row's id, `<X-Request-ID>:<row>`, "
        "to send its true label to `POST /feedback` later.",
    }
    if schema is None or schema.task == CLASSIFICATION:
        properties["probabilities"] = {
            **_array(_map({"type": "number", "minimum": 0, "maximum": 1})),
            "description": "Per row, the probability of each class (classifiers only).",
        }
        if schema is not None:
            required.append("probabilities")
    return _object(properties, required=required)


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


def _schema_of(schema: SchemaRef) -> dict[str, Any]:
    """A component's name as a reference to it; an inline schema as it is."""
    return _ref(schema) if isinstance(schema, str) else schema


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
