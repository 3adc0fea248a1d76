"""gunicorn's threaded worker, hardened for slow clients and answering protocol errors in JSON.

gunicorn's ``gthread`` worker hands a connection to a thread as soon as its first byte
arrives, and the thread then blocks until the whole request is in: 50 clients sending
their headers one byte a second hold 50 threads and nobody else is served ("slowloris").
:class:`ServiceWorker` reads each request ahead in the worker's event loop instead, without
a thread, and hands it to a thread only once its head and body have arrived (bodies up to
:data:`READ_AHEAD_BODY` bytes). A request that has not arrived within
:data:`REQUEST_TIMEOUT` seconds, plus a second per :data:`MIN_RATE` bytes received, is
answered 408 and its connection closed. Slow clients then cost a socket and their bytes,
never a thread.

gunicorn answers requests it cannot parse (400, 414, 431, ...) with an HTML page; this
worker answers them with the service's JSON error body and an ``X-Request-ID`` header.

It extends the internals of gunicorn 27's ``gthread`` worker (``enqueue_req``, ``handle``,
``murder_pending``, the parser's buffer): hence the lower bound on gunicorn.
"""

from __future__ import annotations

import json
import re
import selectors
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from .errors import REQUEST_ID_HEADER, error_body, request_id

REQUEST_TIMEOUT = 10.0
"""Seconds a request's head and body may take to arrive, plus one per MIN_RATE bytes."""
MIN_RATE = 1024
"""Bytes a second that a client sending a large body is expected to keep up."""
READ_AHEAD_BODY = 1024 * 1024
"""Most body bytes read ahead; the rest of a larger body is read by the request's thread."""
_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d{1,18})[ \t]*\r?$", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding[ \t]*:.*chunked", re.I | re.M)
_EXPECT = re.compile(rb"^expect[ \t]*:", re.I | re.M)


@dataclass
class _Arrival:
    """The bytes of one request received so far, and when it must have arrived."""

    data: bytearray
    started: float
    idle_until: float | None = None

    def deadline(self) -> float:
        if self.idle_until is not None:
            return self.idle_until
        return self.started + REQUEST_TIMEOUT + len(self.data) / MIN_RATE

    def add(self, data: bytes, now: float) -> None:
        if self.idle_until is not None:  # a kept-alive connection starts its next request
            self.idle_until = None
            self.started = now
        self.data += data


def request_arrived(data: bytes | bytearray, max_head: int) -> bool:
    """Whether ``data`` holds a whole request head and its body (up to READ_AHEAD_BODY).

    Also true when what arrived is already too large or malformed for a request head, so
    that gunicorn's parser answers it at once.
    """
    end = data.find(_HEAD_END)
    if end < 0:
        return len(data) > max_head
    head, body = bytes(data[:end]), memoryview(data)[end + len(_HEAD_END) :]
    if _EXPECT.search(head):
        return True  # the client waits for "100 Continue" before it sends the body
    if _CHUNKED.search(head):
        return len(body) >= READ_AHEAD_BODY or _chunked_body_complete(bytes(body))
    lengths = _CONTENT_LENGTH.findall(head)
    if len(lengths) != 1:
        return True  # no body, or conflicting lengths that gunicorn refuses
    return len(body) >= min(int(lengths[0]), READ_AHEAD_BODY)


def _chunked_body_complete(body: bytes) -> bool:
    """Whether a chunked body, trailers included, has fully arrived (or is malformed)."""
    position = 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            return False
        size_text = body[position:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return True  # malformed: gunicorn answers 400
        if size == 0:
            trailers = body[line_end + 2 :]
            return trailers.startswith(b"\r\n") or _HEAD_END in trailers
        position = line_end + 2 + size + 2
        if position > len(body):
            return False


class ServiceWorker(ThreadWorker):
    """The ``gthread`` worker, reading requests ahead without a thread (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arriving: dict[Any, _Arrival] = {}

    def enqueue_req(self, conn: Any) -> None:
        """Read the request ahead in the event loop; hand it to a thread once it is in."""
        if (
            self.cfg.is_ssl
            or conn.is_http2
            or getattr(self.cfg, "http2_cleartext", "off") != "off"
        ):
            super().enqueue_req(conn)  # TLS and HTTP/2 are read by gunicorn as usual
            return
        now = time.monotonic()
        buffered = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        arrival = _Arrival(bytearray(buffered), now)
        if conn.initialized and not buffered:
            arrival.idle_until = now + self.cfg.keepalive
        if buffered and request_arrived(arrival.data, self._max_head()):
            self._dispatch(conn, arrival)
            return
        conn.sock.setblocking(False)
        self.arriving[conn] = arrival
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def handle(self, conn: Any) -> Any:
        """Give the parser the bytes read ahead, then serve the request (in a thread)."""
        ahead = conn.__dict__.pop("read_ahead", None)
        if ahead is not None:
            conn.init()
            conn.parser.unreader.unread(ahead)
        return super().handle(conn)

    def murder_pending(self) -> None:
        """Close connections whose request did not arrive in time (called every loop)."""
        super().murder_pending()
        now = time.monotonic()
        for conn, arrival in list(self.arriving.items()):
            idle = arrival.idle_until is not None and not arrival.data
            if arrival.deadline() <= now or (idle and not self.alive):
                self._forget(conn)
                if arrival.data:
                    self._send_error(conn.sock, 408, "Request Timeout", request_id(None), "")
                self.nr_conns -= 1
                conn.close()

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """gunicorn's handling (log, status), with a JSON body instead of its HTML page."""
        page = _ErrorPage()
        super().handle_error(req, page, addr, exc)
        status, reason = page.status()
        answer_id = request_id(_header(req, REQUEST_ID_HEADER))
        message = str(exc) if status < 500 else ""
        self.log.info(
            "answered %d %s (request id %s)",
            status,
            reason,
            answer_id,
            extra={"request_id": answer_id, "status": status},
        )
        self._send_error(client, status, reason, answer_id, message)

    def _on_readable(self, conn: Any, _sock: Any) -> None:
        arrival = self.arriving[conn]
        try:
            data = conn.sock.recv(64 * 1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._forget(conn)
            self.nr_conns -= 1
            conn.close()
            return
        arrival.add(data, time.monotonic())
        if request_arrived(arrival.data, self._max_head()):
            self._forget(conn)
            self._dispatch(conn, arrival)

    def _dispatch(self, conn: Any, arrival: _Arrival) -> None:
        conn.read_ahead = bytes(arrival.data)
        conn.data_ready = True
        super().enqueue_req(conn)

    def _forget(self, conn: Any) -> None:
        del self.arriving[conn]
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass  # already closed

    def _max_head(self) -> int:
        """The largest request head gunicorn's limits allow (0 means no limit there)."""
        line = self.cfg.limit_request_line or 8190
        fields = self.cfg.limit_request_fields or 100
        size = self.cfg.limit_request_field_size or 8190
        return int(line + 2 + fields * (size + 2) + 2)

    def _send_error(
        self, sock: Any, status: int, reason: str, answer_id: str, message: str
    ) -> None:
        """Write a JSON error response and ask to close the connection; never raise."""
        code = "_".join(reason.lower().split())
        if status >= 500:
            code = "internal_error"
            message = f"unexpected server error; quote request id {answer_id} when reporting it"
        details = {"request_id": answer_id}
        body = json.dumps(error_body(code, message or reason, details)).encode() + b"\n"
        head = (
            f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"{REQUEST_ID_HEADER}: {answer_id}\r\n\r\n"
        )
        try:
            util.write_nonblock(sock, head.encode("latin-1") + body)
        except Exception:  # the client is gone; nothing to answer
            self.log.debug("could not send the %d answer", status)


class _ErrorPage:
    """Stands in for the client socket while gunicorn writes its HTML error page."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0

    def setblocking(self, flag: bool) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.data += data

    def status(self) -> tuple[int, str]:
        """The status and reason of the page gunicorn wrote (500 if none)."""
        line = self.data.split(b"\r\n", 1)[0].decode("latin-1")
        _, _, rest = line.partition(" ")
        status, _, reason = rest.partition(" ")
        if not status.isdigit():
            return 500, "Internal Server Error"
        return int(status), reason or "Error"


def _header(req: Any, name: str) -> str | None:
    """A header of a request gunicorn parsed (None when it got no request, or no header)."""
    for key, value in getattr(req, "headers", None) or ():
        if key.upper() == name.upper():
            return str(value)
    return None
