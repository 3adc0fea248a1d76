"""The shared logging configuration."""

import json
import logging

import pytest

from {{ cookiecutter.package_name }}.logging_config import (
    FORMAT_ENV,
    LEVEL_ENV,
    JsonFormatter,
    logging_config,
    resolve,
)


def test_json_formatter_writes_one_object_with_extras():
    record = logging.makeLogRecord(
        {
            "name": "x.y",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "hi %s",
            "args": ("there",),
        }
    )
    record.request_id = "abc"
    payload = json.loads(JsonFormatter().format(record))
    assert payload["message"] == "hi there"
    assert payload["level"] == "info" and payload["logger"] == "x.y"
    assert payload["request_id"] == "abc"
    assert payload["timestamp"].endswith("+00:00")


def test_json_formatter_includes_exceptions():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        import sys

        record.exc_info = sys.exc_info()
    assert "RuntimeError: boom" in json.loads(JsonFormatter().format(record))["exception"]


def test_arguments_beat_environment_beats_defaults(monkeypatch):
    monkeypatch.delenv(LEVEL_ENV, raising=False)
    monkeypatch.delenv(FORMAT_ENV, raising=False)
    assert resolve() == ("info", "text")
    monkeypatch.setenv(LEVEL_ENV, "WARNING")
    monkeypatch.setenv(FORMAT_ENV, "json")
    assert resolve() == ("warning", "json")
    assert resolve("debug", "text") == ("debug", "text")


@pytest.mark.parametrize(("level", "fmt"), [("loud", None), (None, "xml")])
def test_unknown_values_are_refused(level, fmt):
    with pytest.raises(ValueError, match="must be one of"):
        resolve(level, fmt)


def test_config_routes_everything_through_one_handler():
    config = logging_config("debug", "json")
    assert config["root"] == {"level": "DEBUG", "handlers": ["stderr"]}
    assert config["handlers"]["stderr"]["formatter"] == "json"
