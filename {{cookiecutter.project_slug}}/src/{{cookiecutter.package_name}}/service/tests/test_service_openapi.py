{%- set classification = cookiecutter.ml_task == "classification" -%}
"""``/openapi.json`` describes the served model's real fields and every endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.artifact import Artifact
from {{ cookiecutter.package_name }}.schema import (
    CATEGORICAL,
    NUMERIC,
    FeatureSpec,
    Schema,
    TargetSpec,
)
from {{ cookiecutter.package_name }}.service.openapi import build_openapi
from {{ cookiecutter.package_name }}.service.payloads import INVOCATION_FORMATS
from {{ cookiecutter.package_name }}.service.scoring import ServedModel, example_instance

ENDPOINTS = {
    "/health": "get",
    "/ready": "get",
    "/metadata": "get",
    "/predict": "post",
    "/invocations": "post",
    "/metrics": "get",
    "/openapi.json": "get",
}


@pytest.fixture(scope="module")
def document(app):
    return app.test_client().get("/openapi.json").get_json()


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
    for path, method in ENDPOINTS.items():
        operation = document["paths"][path][method]
        assert operation["operationId"] and operation["summary"]
        assert "200" in operation["responses"]


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


def test_the_example_instance_is_accepted(client, document):
    example = document["components"]["schemas"]["Instance"]["example"]
    assert client.post("/predict", json=example).status_code == 200


def test_predict_request_and_response(document, artifact, app):
    operation = document["paths"]["/predict"]["post"]
    body = resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
    batch, single = body["oneOf"]
    assert batch["properties"]["instances"]["maxItems"] == app.config["MAX_BATCH_ROWS"]
    assert resolve(document, single) is document["components"]["schemas"]["Instance"]
    content = operation["responses"]["200"]["content"]["application/json"]
    response = resolve(document, content["schema"])
    predictions = response["properties"]["predictions"]["items"]
{%- if classification %}
    assert predictions["enum"] == list(artifact.schema.target.classes)
    assert "probabilities" in response["required"]
{%- else %}
    assert predictions["type"] == "number"
    assert "probabilities" not in response["properties"]
{%- endif %}


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


def test_document_without_a_model_describes_free_form_rows():
    document = build_openapi(ServedModel(None, "no model"), max_rows=10)
    json.dumps(document)
    instance = document["components"]["schemas"]["Instance"]
    assert instance["additionalProperties"] is True
    assert "none" in document["info"]["description"]


def test_features_never_seen_with_values_are_described():
    schema = Schema(
        features=(
            FeatureSpec("empty_number", NUMERIC, "float64", nullable=True),
            FeatureSpec("empty_category", CATEGORICAL, "object", nullable=True),
        ),
        target=TargetSpec("target"),
    )
    artifact = Artifact(model=None, schema=schema, metadata={"model_version": "v"}, path=Path())
    document = build_openapi(ServedModel(artifact), max_rows=10)
    properties = document["components"]["schemas"]["Instance"]["properties"]
    assert "no values in training" in properties["empty_number"]["description"]
    assert "training saw no values" in properties["empty_category"]["description"]
    assert example_instance(schema) == {"empty_number": 0.0, "empty_category": None}
