"""The shared logging configuration."""

import json
import logging
import sys

import pytest

from ..logging_config import (
    FORMAT_ENV,
    LEVEL_ENV,
    JsonFormatter,
    configure_logging,
    logging_config,
    resolve,
)

PACKAGE = __package__.partition(".")[0]


def test_environment_variables_are_named_after_the_package():
    assert LEVEL_ENV == f"{PACKAGE.upper()}_LOG_LEVEL"
    assert FORMAT_ENV == f"{PACKAGE.upper()}_LOG_FORMAT"


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
    record._private = "hidden"
    payload = json.loads(JsonFormatter().format(record))
    assert payload["message"] == "hi there"
    assert payload["level"] == "info" and payload["logger"] == "x.y"
    assert payload["request_id"] == "abc" and "_private" not in payload
    assert payload["timestamp"].endswith("+00:00")


def test_json_formatter_includes_exceptions():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
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


def test_configure_logging_applies_the_level():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("warning", "json")
        assert root.level == logging.WARNING
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
