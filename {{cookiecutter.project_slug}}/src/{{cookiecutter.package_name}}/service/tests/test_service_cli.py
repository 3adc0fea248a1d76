"""The ``serve`` command hands its options to gunicorn or to the development server."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from .. import server
from ..cli import DEFAULT_THREADS, serve


@pytest.fixture
def runs(monkeypatch):
    """Record the server runs ``serve`` asks for instead of starting them."""
    calls = []

    def gunicorn(*args, **kwargs):
        calls.append(("gunicorn", args, kwargs))

    def dev_server(*args):
        calls.append(("dev", args))

    monkeypatch.setattr(server, "run_gunicorn", gunicorn)
    monkeypatch.setattr(server, "run_dev_server", dev_server)
    return calls


def invoke(*arguments):
    return CliRunner().invoke(serve, [str(argument) for argument in arguments])


def test_serve_runs_gunicorn_with_its_options(runs, artifact_dir):
    options = {
        "--host": "0.0.0.0",
        "--port": 9000,
        "--workers": 3,
        "--threads": 2,
        "--timeout": 10,
        "--batch-max-rows": 8,
        "--batch-max-wait-ms": 0.5,
    }
    result = invoke("--model", artifact_dir, *[item for pair in options.items() for item in pair])
    assert result.exit_code == 0, result.output
    assert runs == [
        (
            "gunicorn",
            (artifact_dir.resolve(), "0.0.0.0", 9000),
            {
                "workers": 3,
                "threads": 2,
                "timeout": 10,
                "config": {"MICROBATCH_MAX_ROWS": 8, "MICROBATCH_MAX_WAIT_MS": 0.5},
            },
        )
    ]


def test_serve_defaults_to_the_latest_model_on_localhost(runs, artifact_dir, monkeypatch):
    monkeypatch.chdir(artifact_dir.parents[1])  # the artifact is the only one in models/
    result = invoke()
    assert result.exit_code == 0, result.output
    assert runs == [
        (
            "gunicorn",
            (artifact_dir.resolve(), "127.0.0.1", 8000),
            {"workers": None, "threads": DEFAULT_THREADS, "timeout": 30, "config": {}},
        )
    ]


def test_serve_dev_runs_the_development_server(runs, artifact_dir):
    result = invoke("--model", artifact_dir, "--port", 5000, "--dev")
    assert result.exit_code == 0, result.output
    assert runs == [("dev", (artifact_dir.resolve(), "127.0.0.1", 5000, {}))]


@pytest.mark.parametrize(
    "option",
    [
        ("--port", 70000),
        ("--port", -1),
        ("--workers", 0),
        ("--threads", 0),
        ("--timeout", 0),
        ("--batch-max-rows", -1),
        ("--batch-max-wait-ms", -1),
    ],
)
def test_serve_refuses_out_of_range_options(runs, artifact_dir, option):
    result = invoke("--model", artifact_dir, *option)
    assert result.exit_code == 2
    assert option[0] in result.output
    assert runs == []
