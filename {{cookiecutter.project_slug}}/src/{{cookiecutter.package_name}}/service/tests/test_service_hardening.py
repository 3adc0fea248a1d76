"""Hostile or careless clients: bodies of unknown length, slow clients, unparsable requests."""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .. import MULTIPROCESS_ENV
from ..worker import READ_AHEAD_BODY, _ErrorPage, request_arrived

PACKAGE = __name__.partition(".")[0]
LIMIT = 2000
MAX_HEAD = 10_000


def chunked(client, path, body, content_type):
    """POST ``body`` without Content-Length, as gunicorn passes a chunked request on."""
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def csv_of_size(rows, size):
    """The CSV of as many copies of ``rows`` as make it at least ``size`` bytes long."""
    text = rows.to_csv(index=False)
    header, _, lines = text.partition("\n")
    copies = size // len(lines) + 1
    return (header + "\n" + lines * copies).encode(), len(rows) * copies


@pytest.mark.parametrize("size", [LIMIT + 1, 10 * LIMIT])
def test_chunked_csv_over_the_limit_is_413_not_cut(make_client, rows, size):
    body, _ = csv_of_size(rows, size)
    body = body[: max(size, LIMIT + 1)]
    response = chunked(
        make_client({"MAX_CONTENT_LENGTH": LIMIT}), "/invocations", body, "text/csv"
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_chunked_json_over_the_limit_is_413(make_client, instances):
    body = json.dumps({"instances": instances * 10}).encode()
    assert len(body) > LIMIT
    response = chunked(
        make_client({"MAX_CONTENT_LENGTH": LIMIT}), "/predict", body, "application/json"
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["details"] == {"max_content_length": LIMIT}


def test_chunked_body_within_the_limit_is_read_whole(make_client, rows):
    body, copies = csv_of_size(rows, 3 * LIMIT)
    client = make_client({"MAX_CONTENT_LENGTH": len(body)})
    response = chunked(client, "/invocations", body, "text/csv")
    assert response.status_code == 200
    assert len(response.get_json()["predictions"]) == copies


HEAD = b"POST /predict HTTP/1.1\r\nHost: x\r\n"


@pytest.mark.parametrize(
    ("data", "arrived"),
    [
        (b"", False),
        (HEAD + b"X-Slow: a", False),
        (b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", True),
        (HEAD + b"Content-Length: 10\r\n\r\n12345", False),
        (HEAD + b"Content-Length: 10\r\n\r\n1234567890", True),
        (HEAD + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n", True),
        (HEAD + b"Expect: 100-continue\r\nContent-Length: 10\r\n\r\n", True),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", False),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n", False),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", True),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nT: 1\r\n\r\n", True),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", True),
        (HEAD + b"X-Big: " + b"b" * MAX_HEAD, True),
    ],
)
def test_request_arrived(data, arrived):
    assert request_arrived(data, MAX_HEAD) is arrived


def test_a_large_body_is_handed_over_at_the_read_ahead_limit():
    head = HEAD + b"Content-Length: %d\r\n\r\n" % (10 * READ_AHEAD_BODY)
    assert not request_arrived(head + b"x" * (READ_AHEAD_BODY - 1), MAX_HEAD)
    assert request_arrived(head + b"x" * READ_AHEAD_BODY, MAX_HEAD)


def test_error_page_status_is_read_from_the_status_line():
    page = _ErrorPage()
    page.sendall(b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n")
    assert page.status() == (431, "Request Header Fields Too Large")
    assert _ErrorPage().status() == (500, "Internal Server Error")


# Against real gunicorn, with the default settings of `serve`.

START_TIMEOUT = 120
SLOW_CLIENTS = 50
SLOW_SECONDS = 6
ANSWER_WITHIN = 5.0


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port, method, path, body=None, headers=None, timeout=ANSWER_WITHIN):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body, headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@pytest.fixture
def server(artifact_dir, tmp_path):
    """``serve`` with its default settings (and a 2000-byte body limit); yield its port."""
    port = free_port()
    source = str(Path(sys.modules[PACKAGE].__file__).parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
        f"{PACKAGE.upper()}_MAX_CONTENT_LENGTH": str(LIMIT),
    }
    env.pop(MULTIPROCESS_ENV, None)
    command = [sys.executable, "-m", PACKAGE, "serve", "--model", str(artifact_dir)]
    log = tmp_path / "serve.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [*command, "--port", str(port)], stdout=output, stderr=subprocess.STDOUT, env=env
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"serve did not start:\n{log.read_text()}")
            try:
                if request(port, "GET", "/ready")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_slow_clients_do_not_stop_others_being_served(server, instances):
    slow = [socket.create_connection(("127.0.0.1", server)) for _ in range(SLOW_CLIENTS)]
    body = json.dumps({"instances": instances[:1]}).encode()
    try:
        started = time.monotonic()
        while time.monotonic() - started < SLOW_SECONDS:
            for sock in slow:
                sock.send(b"G")  # a request head, one byte a second, never finished
            health = request(server, "GET", "/health")
            answer = request(
                server, "POST", "/predict", body, {"Content-Type": "application/json"}
            )
            assert (health[0], answer[0]) == (200, 200)
            time.sleep(1)
    finally:
        for sock in slow:
            sock.close()


@pytest.mark.slow
def test_gunicorn_refuses_a_chunked_body_over_the_limit(server, rows):
    body, _ = csv_of_size(rows, 5 * LIMIT)
    pieces = (body[start : start + 500] for start in range(0, len(body), 500))
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    connection.request(
        "POST", "/invocations", pieces, {"Content-Type": "text/csv"}, encode_chunked=True
    )
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["error"]["code"] == "payload_too_large"
    connection.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("head", "status", "code"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (
            b"GET /health HTTP/1.1\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
            431,
            "request_header_fields_too_large",
        ),
        (b"NOT HTTP\r\n\r\n", 400, "bad_request"),
    ],
)
def test_gunicorn_protocol_errors_are_json_with_a_request_id(server, head, status, code):
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(head)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    response_head, _, body = answer.partition(b"\r\n\r\n")
    lines = response_head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert lines[0].split()[1] == str(status)
    assert headers["Content-Type"] == "application/json"
    error = json.loads(body)["error"]
    assert error["details"]["request_id"] == headers["X-Request-ID"]
    assert error["code"] == code


@pytest.mark.slow
def test_a_request_that_never_arrives_is_answered_408(server):
    with socket.create_connection(("127.0.0.1", server), timeout=30) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"request_timeout"' in answer
