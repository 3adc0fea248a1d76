"""The shared logging configuration."""

import json
import logging
import sys
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from .. import artifact as artifact_module
from ..cli import main
from ..logging_config import (
    FORMAT_ENV,
    LEVEL_ENV,
    WARNINGS_LOGGER,
    JsonFormatter,
    configure_logging,
    log_warning,
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


@pytest.fixture
def warning_in_info(monkeypatch):
    """Make ``info`` warn twice from one place before it reads the metadata (none here)."""
    read_metadata = artifact_module.read_metadata

    def warn_then_read(path):
        for _ in range(2):
            warnings.warn("a library warning\nspanning lines", UserWarning, stacklevel=1)
        return read_metadata(path)

    monkeypatch.setattr(artifact_module, "read_metadata", warn_then_read)


def info(directory, *options):
    """Run ``info`` on a directory without a model: it warns, then fails with one line."""
    return CliRunner().invoke(main, [*options, "info", "--model", str(directory)])


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_cli_warnings_become_one_log_line(warning_in_info, tmp_path, fmt):
    # Recording shows what would reach the default display; it restores showwarning too.
    with warnings.catch_warnings(record=True) as displayed:
        warnings.simplefilter("default")  # what a command-line run does for UserWarning
        result = info(tmp_path, "--log-format", fmt)
    assert result.exit_code == 1, result.output
    assert displayed == []
    # Shown once (the warnings filters still de-duplicate), as one line, no source block.
    warning, error = result.stderr.splitlines()
    assert error.startswith("Error: ")
    assert "warnings.warn(" not in result.stderr
    if fmt == "json":
        record = json.loads(warning)
        assert (record["level"], record["logger"]) == ("warning", WARNINGS_LOGGER)
        message = record["message"]
    else:
        assert f"WARNING {WARNINGS_LOGGER}: " in warning
        message = warning
    assert "UserWarning: a library warning spanning lines (" in message
    assert f"{Path(__file__).name}:" in message


def test_cli_warnings_respect_the_level(warning_in_info, tmp_path):
    with warnings.catch_warnings(record=True) as displayed:
        warnings.simplefilter("default")
        result = info(tmp_path, "--log-level", "error")
    assert result.exit_code == 1 and displayed == []
    assert result.stderr.startswith("Error: ") and "a library warning" not in result.stderr


def test_warning_filters_still_turn_warnings_into_errors(warning_in_info, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.filterwarnings("error", module=PACKAGE)  # pytest's filterwarnings setting
        result = info(tmp_path)
    assert isinstance(result.exception, UserWarning)


def test_warnings_written_to_a_file_are_printed_there(tmp_path):
    target = tmp_path / "warnings.txt"
    with open(target, "w") as handle:
        log_warning("to a file", UserWarning, "lib.py", 3, file=handle)
    assert target.read_text() == "lib.py:3: UserWarning: to a file\n"
