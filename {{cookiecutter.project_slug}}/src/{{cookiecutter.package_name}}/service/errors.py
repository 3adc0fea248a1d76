"""The one error shape of the HTTP API: an ``error`` object of ``code``, ``message``, ``details``."""

from __future__ import annotations

import re
import uuid
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class ApiError(Exception):
    """A request the service refuses, with the HTTP status and a machine-readable code.

    Parameters
    ----------
    status : int
        HTTP status code (4xx for client errors, 503 when no model is loaded).
    code : str
        Short snake_case name of the failure, stable for clients and metrics.
    message : str
        One line for a human.
    details : dict, optional
        Structured context, such as ``fields``: each offending field and what is wrong.
    """

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(status, code, message, details)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})

    def __str__(self) -> str:
        return self.message


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the JSON body of an error response."""
    error = {"code": code, "message": message, "details": dict(details or {})}
    return {"error": error}


def request_id(supplied: str | None) -> str:
    """The caller's request id when it is well formed, else a new one."""
    if supplied and _VALID_REQUEST_ID.fullmatch(supplied):
        return supplied
    return str(uuid.uuid4())
