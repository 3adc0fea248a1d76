"""Bad requests get a 4xx JSON error naming what is wrong; never a 5xx, HTML or a traceback."""

from __future__ import annotations

import json

import pytest

from ..errors import ApiError, error_body
from ..payloads import NON_FINITE


def assert_error(response, status, code, fields=None):
    """Check the error shape and return the error object."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.mimetype == "application/json"
    assert "Traceback" not in text and "<html" not in text.lower()
    assert response.headers["X-Request-ID"]
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert error["message"]
    if fields is not None:
        assert error["details"]["fields"] == fields
    return error


def post_json_text(client, path, text, content_type="application/json"):
    return client.post(path, data=text, content_type=content_type)


def with_literal(instance, name, literal):
    """JSON text of ``{"instances": [instance]}`` with ``name`` set to a raw JSON literal."""
    text = json.dumps({"instances": [{**instance, name: "__LITERAL__"}]})
    return text.replace('"__LITERAL__"', literal)


@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400])
@pytest.mark.parametrize("kind", ["numeric", "categorical"])
def test_infinite_numbers_are_refused_by_name(client, instances, request, kind, literal):
    name = request.getfixturevalue(kind)
    response = post_json_text(client, "/predict", with_literal(instances[0], name, literal))
    assert_error(response, 422, "invalid_features", {name: NON_FINITE})


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("numeric", "12", "expected numbers"),
        ("numeric", True, "expected numbers"),
        ("numeric", [1, 2], "expected numbers"),
        ("categorical", {"nested": 1}, "expected strings"),
        ("categorical", False, "expected strings"),
    ],
)
def test_wrong_types_are_refused_by_name(client, instances, request, kind, value, reason):
    name = request.getfixturevalue(kind)
    response = client.post("/predict", json={"instances": [{**instances[0], name: value}]})
    error = assert_error(response, 422, "invalid_features")
    assert list(error["details"]["fields"]) == [name]
    assert error["details"]["fields"][name].startswith(reason)


def test_huge_whole_numbers_in_a_categorical_feature_are_just_unseen(
    client, instances, categorical
):
    # 1e300 is a whole float far beyond any integer type: it must not crash the coercion.
    response = client.post("/predict", json={**instances[0], categorical: 1e300})
    assert response.status_code == 200


def test_missing_and_unknown_features_are_reported_together(client, instances, numeric):
    instance = {key: value for key, value in instances[0].items() if key != numeric}
    response = client.post("/predict", json={"instances": [{**instance, "surprise": 1}]})
    error = assert_error(response, 422, "invalid_features")
    assert error["details"]["fields"] == {
        numeric: "required feature is missing",
        "surprise": "unknown feature",
    }
    assert numeric in error["message"] and "surprise" in error["message"]


def test_a_key_missing_from_some_rows_is_reported(client, instances, numeric):
    partial = {key: value for key, value in instances[1].items() if key != numeric}
    response = client.post("/predict", json={"instances": [instances[0], partial]})
    error = assert_error(response, 422, "invalid_features")
    assert error["details"]["fields"][numeric].startswith(
        "missing from 1 of 2 rows (first: row 1)"
    )


def test_long_problem_lists_are_shortened_in_the_message(client, instances):
    extra = {f"unknown_{i}": 1 for i in range(8)}
    response = client.post("/predict", json={**instances[0], **extra})
    error = assert_error(response, 422, "invalid_features")
    assert len(error["details"]["fields"]) == 8
    assert error["message"].endswith("and 3 more")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{", "invalid_json"),
        (b"", "invalid_json"),
        (b'{"instances": [{"a": "\xff"}]}', "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        (b'{"a": ' + b"1" * 5000 + b"}", "invalid_json"),
        (b"[1, 2]", "invalid_body"),
        (b'"text"', "invalid_body"),
        (b'{"instances": {} }', "invalid_body"),
        (b'{"instances": [1]}', "invalid_body"),
        (b'{"instances": [], "extra": 1}', "invalid_body"),
    ],
    ids=[
        "truncated",
        "empty",
        "bad-utf8",
        "deep-nesting",
        "huge-integer",
        "list",
        "string",
        "instances-not-list",
        "instance-not-object",
        "extra-key",
    ],
)
def test_malformed_predict_bodies_are_400(client, body, code):
    assert_error(post_json_text(client, "/predict", body), 400, code)


def test_empty_batch_is_422(client):
    assert_error(client.post("/predict", json={"instances": []}), 422, "empty_batch")


def test_batch_over_the_row_limit_is_413(make_client, instances):
    client = make_client({"MAX_BATCH_ROWS": 3})
    error = assert_error(
        client.post("/predict", json={"instances": instances[:4]}), 413, "batch_too_large"
    )
    assert error["details"] == {"max_rows": 3}


def test_body_over_the_size_limit_is_413(make_client, instances):
    client = make_client({"MAX_CONTENT_LENGTH": 2000})
    response = client.post("/predict", json={"instances": instances})
    error = assert_error(response, 413, "payload_too_large")
    assert error["details"] == {"max_content_length": 2000}


@pytest.mark.parametrize("path", ["/predict", "/invocations"])
@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_wrong_content_type_is_415(client, instances, path, content_type):
    response = client.post(path, data=json.dumps(instances[0]), content_type=content_type)
    error = assert_error(response, 415, "unsupported_media_type")
    assert "application/json" in error["details"]["accepted"]


def test_csv_is_only_for_invocations(client, rows):
    response = client.post("/predict", data=rows.to_csv(index=False), content_type="text/csv")
    assert_error(response, 415, "unsupported_media_type")


def test_json_suffix_content_types_are_json(client, instances):
    response = post_json_text(
        client, "/predict", json.dumps(instances[0]), "application/vnd.api+json"
    )
    assert response.status_code == 200


def split(**fields):
    """A ``dataframe_split`` body."""
    return {"dataframe_split": fields}


@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        dict(params={}),
        dict(dataframe_records=[], instances=[]),
        dict(split(columns=["a"], data=[[1]]), params={}),
        {"dataframe_split": []},
        split(columns=["a"]),
        split(columns=["a"], data=[[1]], orient="split"),
        split(columns=[1], data=[[1]]),
        split(columns="a", data=[[1]]),
        split(columns=["a", "a"], data=[[1, 2]]),
        split(columns=["a"], data={"0": [1]}),
        split(columns=["a"], data=[1]),
        split(columns=["a", "b"], data=[[1]]),
        split(columns=["a"], data=[[1]], index=[0, 1]),
        split(columns=["a"], data=[[1]], index=0),
        dict(dataframe_records={"a": 1}),
        {"dataframe_records": ["a"]},
        {"instances": "a"},
        {"inputs": "a"},
        dict(inputs={"a": 1}),
        dict(inputs={"a": [1], "b": [1, 2]}),
    ],
)
def test_malformed_invocations_are_400(client, body):
    assert_error(client.post("/invocations", json=body), 400, "invalid_body")


def test_invocations_error_names_the_accepted_formats(client):
    error = assert_error(client.post("/invocations", json={"rows": []}), 400, "invalid_body")
    assert error["details"] == {
        "expected_one_of": ["dataframe_split", "dataframe_records", "instances", "inputs"],
        "keys": ["rows"],
    }


@pytest.mark.parametrize(
    "body",
    [
        split(columns=["a"], data=[]),
        {"dataframe_records": []},
        {"instances": []},
        {"inputs": []},
        dict(inputs={}),
        dict(inputs={"a": []}),
    ],
)
def test_empty_invocations_are_422(client, body):
    assert_error(client.post("/invocations", json=body), 422, "empty_batch")


def test_invocations_validate_against_the_schema(client, instances, numeric):
    body = {"dataframe_records": [{**instances[0], numeric: "a lot"}]}
    error = assert_error(client.post("/invocations", json=body), 422, "invalid_features")
    assert list(error["details"]["fields"]) == [numeric]


def post_csv(client, text):
    return client.post("/invocations", data=text, content_type="text/csv")


@pytest.mark.parametrize(
    "body",
    [b"", b"\n", b"a,b\n1,2\n1,2,3\n", b"a\n\xff\xfe\n"],
    ids=["empty", "blank", "ragged", "bad-utf8"],
)
def test_malformed_csv_is_400(client, body):
    assert_error(post_csv(client, body), 400, "invalid_csv")


def test_csv_with_a_header_only_is_422(client, rows):
    assert_error(post_csv(client, rows.head(0).to_csv(index=False)), 422, "empty_batch")


@pytest.mark.parametrize("value", ["inf", "-inf", "1" + "0" * 400])
def test_non_finite_csv_numbers_are_refused_by_name(client, rows, numeric, value):
    frame = rows.head(2).astype({numeric: object})
    frame.loc[0, numeric] = value
    error = assert_error(post_csv(client, frame.to_csv(index=False)), 422, "invalid_features")
    assert list(error["details"]["fields"]) == [numeric]


def test_csv_over_the_row_limit_is_413(make_client, rows):
    client = make_client({"MAX_BATCH_ROWS": 3})
    assert_error(post_csv(client, rows.head(4).to_csv(index=False)), 413, "batch_too_large")


def test_unknown_path_is_json_404(client):
    assert_error(client.get("/no/such/page"), 404, "not_found")


def test_wrong_method_is_json_405_with_allow(client):
    response = client.get("/predict")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_api_error_reads_as_its_message():
    fields = {"a": "bad"}
    error = ApiError(422, "invalid_features", "rows do not match", {"fields": fields})
    assert str(error) == "rows do not match"
    assert error_body(error.code, error.message, error.details) == {
        "error": {
            "code": "invalid_features",
            "message": "rows do not match",
            "details": {"fields": fields},
        },
    }
