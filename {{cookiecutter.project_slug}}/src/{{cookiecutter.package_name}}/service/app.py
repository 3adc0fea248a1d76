"""The Flask application factory of the prediction service.

Configuration comes from the environment: every ``<PREFIX>_<KEY>`` variable becomes the
Flask config value ``<KEY>`` (JSON values are parsed), where ``<PREFIX>`` is
:data:`CONFIG_PREFIX`, the package name in capitals; for example ``<PREFIX>_MODEL_PATH``,
``<PREFIX>_MAX_BATCH_ROWS`` and ``<PREFIX>_MAX_CONTENT_LENGTH``. Micro-batching of
concurrent requests (:mod:`.batching`) is set by ``<PREFIX>_MICROBATCH_MAX_ROWS`` (0 turns
it off) and ``<PREFIX>_MICROBATCH_MAX_WAIT_MS``. ``<PREFIX>_PREDICTION_LOG_DIR`` logs every
scored row and accepts delayed labels on ``/feedback`` (see :mod:`..monitoring`);
``<PREFIX>_CANDIDATE_PATH`` scores a candidate model beside the live one (:mod:`.shadow`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import IO, Any

from flask import Flask, Response, current_app, g, jsonify, request
from flask import Request as FlaskRequest
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

from ..artifact import read_metadata
from ..errors import ConfigError
from ..monitoring import FEEDBACK, PREDICTIONS, JsonLinesLog
from .batching import DEFAULT_MAX_ROWS, DEFAULT_MAX_WAIT_MS, MicroBatcher
from .errors import REQUEST_ID_HEADER, ApiError, error_body, request_id
from .metrics import ServiceMetrics
from .openapi import build_openapi
from .routes import (
    EXTENSION,
    PREDICTION_ENDPOINTS,
    Service,
    blueprint,
    current_service,
    scorer,
)
from .served import ServedModel
from .shadow import Shadow, check_candidate

CONFIG_PREFIX = __name__.partition(".")[0].upper()
MODEL_PATH_ENV = f"{CONFIG_PREFIX}_MODEL_PATH"
DEFAULT_CONFIG: dict[str, Any] = {
    "DEBUG": False,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MAX_BATCH_ROWS": 1000,
    "MICROBATCH_MAX_ROWS": DEFAULT_MAX_ROWS,
    "MICROBATCH_MAX_WAIT_MS": DEFAULT_MAX_WAIT_MS,
    "PREDICTION_LOG_DIR": None,
    "CANDIDATE_PATH": None,
}

logger = logging.getLogger(__name__)
access_logger = logging.getLogger(f"{__package__}.access")


class Request(FlaskRequest):
    """Flask's request, except that a body over ``MAX_CONTENT_LENGTH`` is never cut short.

    Werkzeug reads a body of unknown length (``Transfer-Encoding: chunked``) up to the limit
    and stops there silently: the rows beyond it were lost and the rest scored with 200.
    Here such a body is read to its end, or refused with 413 as soon as it is longer.
    """

    @cached_property
    def stream(self) -> IO[bytes]:
        """The body, limited to ``max_content_length`` whether or not its length is known."""
        limit = self.max_content_length
        unknown_length = self.content_length is None
        if limit is None or not unknown_length or "wsgi.input_terminated" not in self.environ:
            stream: IO[bytes] = super().stream
            return stream
        return _UnknownLengthBody(self.environ["wsgi.input"], limit)  # type: ignore[return-value]


class _UnknownLengthBody(LimitedStream):
    """A body without ``Content-Length``: up to ``limit`` bytes, else 413 (never truncated).

    One byte more than the limit is allowed through the stream, and reading it raises.
    """

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        super().__init__(stream, limit + 1, is_max=True)
        self.max_length = limit

    def readinto(self, buffer: bytearray) -> int | None:  # type: ignore[override]
        count = super().readinto(buffer)
        if self.tell() > self.max_length:
            raise RequestEntityTooLarge()
        return count


def create_app(
    model_path: str | Path | None = None, config: dict[str, Any] | None = None
) -> Flask:
    """Create the service, loading the model once.

    A model that fails to load does not stop the app: ``/health`` answers 200, ``/ready``
    answers 503 with the reason and prediction endpoints answer 503.

    Parameters
    ----------
    model_path : str or Path, optional
        The artifact directory to serve [default: the ``<PREFIX>_MODEL_PATH`` variable].
    config : dict, optional
        Flask config values overriding the defaults and the environment.

    Returns
    -------
    flask.Flask
        The WSGI application.

    Raises
    ------
    ConfigError
        When ``MAX_BATCH_ROWS`` or ``MAX_CONTENT_LENGTH`` is not a positive integer,
        ``MICROBATCH_MAX_ROWS`` or ``MICROBATCH_MAX_WAIT_MS`` is negative, the
        ``PREDICTION_LOG_DIR`` cannot be created, or the ``CANDIDATE_PATH`` model has another
        data contract than the live one.
    ArtifactError
        When the ``CANDIDATE_PATH`` has no readable metadata.
    """
    app = Flask(__name__, static_folder=None)
    app.request_class = Request
    app.config.update(DEFAULT_CONFIG)
    app.config.from_prefixed_env(CONFIG_PREFIX)
    app.config.update(config or {})
    _positive_int(app.config, "MAX_CONTENT_LENGTH")
    max_rows = _positive_int(app.config, "MAX_BATCH_ROWS")
    batch_rows = int(_non_negative(app.config, "MICROBATCH_MAX_ROWS", integer=True))
    batch_wait = _non_negative(app.config, "MICROBATCH_MAX_WAIT_MS", integer=False) / 1000
    path = model_path if model_path is not None else app.config.get("MODEL_PATH")
    if path:
        model = ServedModel.load(str(path))
    else:
        model = ServedModel(
            None, f"no model configured: pass a model path or set {MODEL_PATH_ENV}"
        )
        logger.error("no model to serve: %s", model.error)
    candidate_path = app.config.get("CANDIDATE_PATH")
    candidate = _load_candidate(model, str(candidate_path)) if candidate_path else None
    logs = _prediction_logs(app.config.get("PREDICTION_LOG_DIR"))
    app.register_blueprint(blueprint)
    metrics = ServiceMetrics(model, shadow=candidate is not None)
    shadow = None
    if candidate is not None and candidate.artifact is not None:
        shadow = Shadow(
            candidate.artifact,
            compare=metrics.observe_shadow,
            failed=metrics.observe_shadow_failure,
            skipped=metrics.observe_shadow_skipped,
        )

    app.extensions[EXTENSION] = Service(
        model=model,
        metrics=metrics,
        openapi=build_openapi(app, model, max_rows),
        max_rows=max_rows,
        batcher=MicroBatcher(
            scorer(model, shadow, metrics.observe_skew),
            max_rows=batch_rows,
            max_wait=batch_wait,
            observe=metrics.observe_batch,
        ),
        prediction_log=logs[0] if logs else None,
        feedback_log=logs[1] if logs else None,
        shadow=shadow,
        candidate_error=candidate.error if candidate is not None else None,
    )
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _load_candidate(live: ServedModel, path: str) -> ServedModel:
    """Load the candidate model after checking its data contract against the live model's.

    A candidate with another data contract is refused (:class:`ConfigError`); one that
    fails to load or to self-check is reported by ``/ready`` and never scores.
    """
    metadata = read_metadata(path)
    if live.artifact is not None:
        check_candidate(live.artifact.schema, metadata.schema, path)
    candidate = ServedModel.load(path)
    if candidate.artifact is not None:
        logger.info(
            "candidate model %s scores beside the live model",
            candidate.version,
            extra={"candidate_version": candidate.version},
        )
    return candidate


def _prediction_logs(directory: Any) -> tuple[JsonLinesLog, JsonLinesLog] | None:
    """The prediction and feedback logs in ``directory``, or None when it is not set."""
    if not directory:
        return None
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"{CONFIG_PREFIX}_PREDICTION_LOG_DIR {directory}: cannot create it ({exc.strerror})"
        ) from None
    return JsonLinesLog(directory, PREDICTIONS), JsonLinesLog(directory, FEEDBACK)


def _positive_int(config: dict[str, Any], key: str) -> int:
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{CONFIG_PREFIX}_{key} must be a positive integer, got {value!r}")
    return value


def _non_negative(config: dict[str, Any], key: str, *, integer: bool) -> float:
    value = config[key]
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not 0 <= value < float("inf"):
        kind = "integer" if integer else "number"
        raise ConfigError(f"{CONFIG_PREFIX}_{key} must be a non-negative {kind}, got {value!r}")
    return float(value)


def _start_request() -> None:
    """Take the caller's request id when it is well formed, else make one; start the clock."""
    g.request_id = request_id(request.headers.get(REQUEST_ID_HEADER))
    g.started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    """Record metrics, return the request id and write the one access-log line."""
    seconds = time.perf_counter() - g.started
    service = current_service()
    endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
    service.metrics.observe_request(endpoint, request.method, response.status_code, seconds)
    error_code = g.get("error_code")
    if error_code and endpoint in PREDICTION_ENDPOINTS and response.status_code < 500:
        service.metrics.observe_validation_failure(error_code)
    response.headers[REQUEST_ID_HEADER] = g.request_id
    access_logger.info(
        "%s %s %d %.1f ms",
        request.method,
        request.path,
        response.status_code,
        seconds * 1000,
        extra={
            "request_id": g.request_id,
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "latency_ms": round(seconds * 1000, 3),
            "model_version": service.model.version,
        },
    )
    return response


def _api_error(error: ApiError) -> Response:
    return _error_response(error.status, error.code, error.message, error.details)


def _http_error(error: HTTPException) -> Response:
    """Werkzeug's errors (404, 405, 413, ...) as JSON instead of HTML."""
    if isinstance(error, RequestEntityTooLarge):
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return _error_response(
            413,
            "payload_too_large",
            f"the request body is larger than the limit of {limit} bytes",
            {"max_content_length": limit},
        )
    code = "_".join(error.name.lower().split())
    response = _error_response(error.code or 500, code, error.description or error.name)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _unexpected_error(error: Exception) -> Response:
    """A bug: log it with the request id; the client gets JSON without internals."""
    request_id = g.get("request_id")
    logger.error(
        "unexpected error answering %s %s (request id %s)",
        request.method,
        request.path,
        request_id,
        exc_info=error,
        extra={"request_id": request_id},
    )
    return _error_response(
        500,
        "internal_error",
        f"unexpected server error; quote request id {request_id} when reporting it",
        {"request_id": request_id},
    )


def _error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    g.error_code = code
    response = jsonify(error_body(code, message, details))
    response.status_code = status
    return response
