"""``/openapi.json`` describes the served model's real fields and every endpoint."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from flask import Flask

from ...artifact import Artifact
from ...config import TASK_KINDS
from ...schema import CATEGORICAL, NUMERIC, FeatureSpec, Schema, TargetSpec
from ..openapi import build_openapi, error_responses, operation, response
from ..payloads import INVOCATION_FORMATS
from ..served import ServedModel

ENDPOINTS = {
    "/health": "get",
    "/ready": "get",
    "/metadata": "get",
    "/predict": "post",
    "/invocations": "post",
    "/feedback": "post",
    "/metrics": "get",
    "/openapi.json": "get",
}


@pytest.fixture
def document(client):
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    return answer.get_json()


def resolve(document, node):
    """Follow a ``$ref`` inside the document."""
    while "$ref" in node:
        path = node["$ref"].removeprefix("#/").split("/")
        node = document
        for part in path:
            node = node[part]
    return node


def refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for child in node.values():
            yield from refs(child)
    elif isinstance(node, list):
        for child in node:
            yield from refs(child)


def test_document_is_openapi_3_with_every_endpoint(document):
    assert document["openapi"].startswith("3.0")
    assert {path: set(ops) for path, ops in document["paths"].items()} == {
        path: {method} for path, method in ENDPOINTS.items()
    }
    described = [document["paths"][path][method] for path, method in ENDPOINTS.items()]
    for item in described:
        assert item["summary"]
        assert "200" in item["responses"]
        assert item["parameters"] == [{"$ref": "#/components/parameters/RequestId"}]
    assert [item["operationId"] for item in described] == [
        "health",
        "ready",
        "metadata",
        "predict",
        "invocations",
        "feedback",
        "metrics",
        "openapi",
    ]


@pytest.mark.parametrize("task", TASK_KINDS)
def test_every_reference_resolves(document):
    for ref in set(refs(document)):
        assert resolve(document, {"$ref": ref}), ref


def test_instance_has_the_real_feature_names_and_types(document, schema):
    instance = document["components"]["schemas"]["Instance"]
    assert list(instance["properties"]) == schema.feature_names
    assert instance["required"] == schema.feature_names
    assert instance["additionalProperties"] is False
    for spec in schema.features:
        field = instance["properties"][spec.name]
        assert field["type"] == ("number" if spec.kind == "numeric" else "string")
        assert field["nullable"] is True
        assert ("had no missing" in field["description"]) == (not spec.nullable)


@pytest.mark.parametrize("task", TASK_KINDS)
def test_the_example_instance_is_accepted(client, document):
    example = document["components"]["schemas"]["Instance"]["example"]
    assert client.post("/predict", json=example).status_code == 200


def predict_response(document):
    """The schema of a successful ``/predict`` response."""
    content = document["paths"]["/predict"]["post"]["responses"]["200"]["content"]
    return resolve(document, content["application/json"]["schema"])


def test_predict_request(document, app):
    predict = document["paths"]["/predict"]["post"]
    body = resolve(document, predict["requestBody"]["content"]["application/json"]["schema"])
    batch, single = body["oneOf"]
    assert batch["properties"]["instances"]["maxItems"] == app.config["MAX_BATCH_ROWS"]
    assert resolve(document, single) is document["components"]["schemas"]["Instance"]


@pytest.mark.parametrize("task", ["classification"])
def test_classifier_predictions_are_its_classes_with_probabilities(document, artifact):
    schema = predict_response(document)
    predictions = schema["properties"]["predictions"]["items"]
    assert predictions["enum"] == list(artifact.schema.target.classes)
    assert predictions["type"] == "integer"
    assert schema["required"] == ["predictions", "model_version", "probabilities"]


@pytest.mark.parametrize("task", ["regression"])
def test_regressor_predictions_are_numbers_without_probabilities(document, artifact):
    schema = predict_response(document)
    predictions = schema["properties"]["predictions"]["items"]
    assert predictions["type"] == "number"
    assert "enum" not in predictions
    assert artifact.schema.target.name in predictions["description"]
    assert "probabilities" not in schema["properties"]
    assert schema["required"] == ["predictions", "model_version"]


def test_invocations_accepts_each_mlflow_format_and_csv(document):
    content = document["paths"]["/invocations"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "text/csv"}
    shapes = resolve(document, content["application/json"]["schema"])["oneOf"]
    assert [list(shape["properties"]) for shape in shapes] == [[k] for k in INVOCATION_FORMATS]


@pytest.mark.parametrize("path", ["/predict", "/invocations"])
def test_error_responses_share_the_error_schema(document, path):
    responses = document["paths"][path]["post"]["responses"]
    assert {"400", "413", "415", "422", "500", "503"} <= set(responses)
    for status in ("400", "413", "415", "422", "500", "503"):
        response = resolve(document, responses[status])
        schema = resolve(document, response["content"]["application/json"]["schema"])
        error = schema["properties"]["error"]
        assert error["required"] == ["code", "message", "details"]


def test_document_without_a_model_describes_free_form_rows(make_client, tmp_path):
    client = make_client(model_path=tmp_path / "missing")
    document = client.get("/openapi.json").get_json()
    instance = document["components"]["schemas"]["Instance"]
    assert instance["additionalProperties"] is True
    assert "none" in document["info"]["description"]
    assert set(document["paths"]) == set(ENDPOINTS)
    schema = predict_response(document)
    assert "probabilities" in schema["properties"]
    assert schema["required"] == ["predictions", "model_version"]


def test_features_never_seen_with_values_are_described(artifact):
    schema = Schema(
        features=(
            FeatureSpec("empty_number", NUMERIC, "float64", nullable=True),
            FeatureSpec("empty_category", CATEGORICAL, "object", nullable=True),
        ),
        target=TargetSpec("target", classes=(0, 1), class_counts=(1, 1)),
    )
    metadata = dataclasses.replace(artifact.metadata, schema=schema)
    unseen = Artifact(model=artifact.model, metadata=metadata, path=Path())
    document = build_openapi(Flask(__name__, static_folder=None), ServedModel(unseen), max_rows=10)
    json.dumps(document)
    instance = document["components"]["schemas"]["Instance"]
    properties = instance["properties"]
    assert "no values in training" in properties["empty_number"]["description"]
    assert "training saw no values" in properties["empty_category"]["description"]
    assert instance["example"] == {"empty_number": 0.0, "empty_category": None}


def test_paths_come_from_the_app_routes():
    app = Flask(__name__, static_folder=None)

    @app.post("/extra")
    @operation(
        "An endpoint added to the app.",
        {"200": response("Done.", "Health"), **error_responses("422")},
        request_body={"text/plain": {"type": "string"}},
    )
    def extra():
        return {"status": "ok"}

    document = build_openapi(app, ServedModel(None, "no model"), max_rows=10)
    assert document["paths"] == {
        "/extra": {
            "post": {
                "parameters": [{"$ref": "#/components/parameters/RequestId"}],
                "operationId": "extra",
                "summary": "An endpoint added to the app.",
                "requestBody": {
                    "required": True,
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                "responses": {
                    "200": {
                        "description": "Done.",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Health"}}
                        },
                    },
                    "422": {"$ref": "#/components/responses/InvalidFeatures"},
                },
            }
        }
    }


def test_a_route_without_an_operation_is_refused():
    app = Flask(__name__, static_folder=None)
    app.add_url_rule("/undocumented", "undocumented", lambda: "")
    with pytest.raises(TypeError, match="/undocumented"):
        build_openapi(app, ServedModel(None, "no model"), max_rows=10)


def test_every_route_of_the_app_is_documented(app, document):
    routes = {
        rule.rule: {method.lower() for method in rule.methods - {"HEAD", "OPTIONS"}}
        for rule in app.url_map.iter_rules()
    }
    assert {path: set(item) for path, item in document["paths"].items()} == routes
