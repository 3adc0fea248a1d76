"""The gunicorn runner and the development server, without starting either."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask

from ...logging_config import JsonFormatter
from .. import MULTIPROCESS_ENV, server
from ..worker import ServiceWorker

PACKAGE = __name__.partition(".")[0]


def options(**overrides):
    arguments = {"workers": None, "threads": 1, "timeout": 30, **overrides}
    return server.gunicorn_options("127.0.0.1", 8000, **arguments)


def test_defaults_suit_a_cpu_bound_model():
    chosen = options()
    assert chosen["bind"] == ["127.0.0.1:8000"]
    assert chosen["workers"] == (os.cpu_count() or 1)
    assert (chosen["worker_class"], chosen["threads"]) == (ServiceWorker, 1)
    assert chosen["graceful_timeout"] == chosen["timeout"] == 30
    assert chosen["child_exit"] is server._child_exit


def test_worker_heartbeats_use_shared_memory_when_there_is_some(monkeypatch, tmp_path):
    monkeypatch.setattr(server, "SHARED_MEMORY", tmp_path)
    assert options()["worker_tmp_dir"] == str(tmp_path)
    monkeypatch.setattr(server, "SHARED_MEMORY", tmp_path / "absent")
    assert "worker_tmp_dir" not in options()


def test_threads_and_workers_are_passed_on():
    chosen = options(workers=3, threads=4)
    assert (chosen["workers"], chosen["threads"], chosen["worker_class"]) == (3, 4, ServiceWorker)


def test_ipv6_addresses_are_bracketed():
    assert server.gunicorn_options("::1", 9000, workers=1, threads=1, timeout=5)["bind"] == [
        "[::1]:9000"
    ]


def test_logging_follows_the_configured_root_logger(monkeypatch):
    root = logging.getLogger()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    monkeypatch.setattr(root, "handlers", [handler])
    monkeypatch.setattr(root, "level", logging.DEBUG)
    config = options()["logconfig_dict"]
    assert config["root"]["level"] == "DEBUG"
    assert config["handlers"]["stderr"]["formatter"] == "json"
    # The app writes the access log line itself; gunicorn's would be a duplicate.
    assert config["loggers"]["gunicorn.access"]["level"] == "WARNING"


def test_logging_without_configured_handlers_uses_the_defaults(monkeypatch):
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    monkeypatch.setattr(logging.getLogger(), "level", logging.WARNING)
    config = options()["logconfig_dict"]
    assert config["root"]["level"] == "WARNING"
    assert config["handlers"]["stderr"]["formatter"] in {"text", "json"}


def test_application_applies_the_options(artifact_dir):
    application = server.ServiceApplication(artifact_dir, options(workers=2, threads=3))
    assert application.cfg.workers == 2
    assert application.cfg.threads == 3
    assert application.cfg.worker_class is ServiceWorker


def test_settings_unknown_to_this_gunicorn_are_skipped(artifact_dir, monkeypatch):
    monkeypatch.setattr(server, "_OPTIONAL_SETTINGS", frozenset({"from_the_future"}))
    application = server.ServiceApplication(artifact_dir, {**options(), "from_the_future": 1})
    assert "from_the_future" not in application.cfg.settings


@pytest.fixture
def limits(monkeypatch):
    """Record native thread limits instead of applying them."""
    calls = []
    monkeypatch.setattr(server, "threadpool_limits", lambda limits: calls.append(limits))
    monkeypatch.setattr(server, "_limited_threads", threading.local())
    return calls


def test_workers_build_the_app_with_one_native_thread(artifact_dir, limits):
    app = server.ServiceApplication(artifact_dir, options()).load()
    assert isinstance(app, Flask)
    assert limits == [1]
    assert app.test_client().get("/ready").status_code == 200


def test_each_request_thread_limits_native_threads_once(limits):
    assert options()["pre_request"] is server._pre_request
    server._pre_request(None, None)
    server._pre_request(None, None)
    other = threading.Thread(target=server._pre_request, args=(None, None))
    other.start()
    other.join()
    assert limits == [1, 1], "once in this thread, once in the other"


def test_run_gunicorn_shares_metrics_through_a_temporary_directory(artifact_dir, monkeypatch):
    monkeypatch.delenv(MULTIPROCESS_ENV, raising=False)
    seen = []

    def run(application):
        directory = Path(os.environ[MULTIPROCESS_ENV])
        seen.append((application.cfg.workers, directory, directory.is_dir()))

    monkeypatch.setattr(server.ServiceApplication, "run", run)
    server.run_gunicorn(artifact_dir, "127.0.0.1", 0, workers=2, threads=1, timeout=5)
    ((workers, directory, existed),) = seen
    assert (workers, existed) == (2, True)
    assert not directory.exists()
    assert MULTIPROCESS_ENV not in os.environ


def test_run_gunicorn_uses_a_configured_metrics_directory(artifact_dir, monkeypatch, tmp_path):
    configured = tmp_path / "metrics"
    monkeypatch.setenv(MULTIPROCESS_ENV, str(configured))
    monkeypatch.setattr(server.ServiceApplication, "run", lambda application: None)
    server.run_gunicorn(artifact_dir, "127.0.0.1", 0, workers=1, threads=1, timeout=5)
    assert configured.is_dir()
    assert os.environ[MULTIPROCESS_ENV] == str(configured)


def test_child_exit_drops_the_dead_workers_live_gauges(monkeypatch, tmp_path):
    monkeypatch.setenv(MULTIPROCESS_ENV, str(tmp_path))
    live = tmp_path / "gauge_livesum_4242.db"
    other = tmp_path / "counter_4242.db"
    live.touch()
    other.touch()
    server._child_exit(None, SimpleNamespace(pid=4242))
    assert not live.exists()
    assert other.exists(), "counters of dead workers still count"


def test_dev_server_warns_and_never_debugs(artifact_dir, monkeypatch, caplog):
    calls = []
    monkeypatch.setattr(Flask, "run", lambda app, **kwargs: calls.append((app, kwargs)))
    server.run_dev_server(artifact_dir, "127.0.0.1", 5000)
    ((app, kwargs),) = calls
    assert kwargs == {"host": "127.0.0.1", "port": 5000, "debug": False, "use_reloader": False}
    assert app.test_client().get("/ready").status_code == 200
    assert any("development server" in r.getMessage() for r in caplog.records)


def test_prometheus_client_is_not_imported_before_workers_start():
    # prometheus_client picks its multiprocess mode when imported; the CLI and the runner
    # must leave that to the workers, which import it after MULTIPROCESS_ENV is set.
    code = (
        f"import sys, {PACKAGE}.cli, {PACKAGE}.service.server; "
        "print('prometheus_client' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "False"
