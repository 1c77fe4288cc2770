"""A tiny threaded HTTP server on 127.0.0.1 for feeds, enclosures and model hubs.

``LocalHTTPServer`` is the lifecycle part (free port, serving thread, start/stop, ``with``);
``tests/fakes/server.py`` builds the platform fakes on it too.

Routes map a path to a ``Route`` (status, body, content type). Range requests
are honoured for byte bodies so resumable downloads can be tested; every request
is logged in ``server.requests``.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/octet-stream"
    headers: dict = field(default_factory=dict)
    support_range: bool = True
    # Cut the connection after this many body bytes (simulates a dropped download).
    drop_after: int | None = None
    # Answer the first ``fail_times`` requests with ``fail_status`` (a flaky server).
    fail_times: int = 0
    fail_status: int = 500
    # Content-Length to announce: None = the real length, "" = send no header at all.
    claimed_length: int | str | None = None


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """Clients that hang up mid-body (size caps, refused types) or give up (read timeouts) are
        expected, not errors."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class LocalHTTPServer:
    """Serves ``handler_class`` on a free port of 127.0.0.1 from a daemon thread."""

    def __init__(self, handler_class: type[BaseHTTPRequestHandler]) -> None:
        self._server = _QuietServer(("127.0.0.1", 0), handler_class)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class FakeHTTPServer(LocalHTTPServer):
    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict]] = []
        super().__init__(self._handler())

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server.requests.append((self.path, dict(self.headers)))
                route = server.routes.get(self.path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    self.wfile.write(b"<html>not found</html>")
                    return
                if route.fail_times > 0:
                    route.fail_times -= 1
                    self.send_response(route.fail_status)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(b"server error")
                    return
                body, status = route.body, route.status
                range_header = self.headers.get("Range")
                if range_header and route.support_range and status == 200:
                    start = int(range_header.split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.end_headers()
                        return
                    body, status = body[start:], 206
                self.send_response(status)
                self.send_header("Content-Type", route.content_type)
                length = route.claimed_length
                if length is None:
                    length = len(route.body if route.drop_after else body)
                if length != "":
                    self.send_header("Content-Length", str(length))
                for key, value in route.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if route.drop_after is not None:
                    self.wfile.write(body[: route.drop_after])
                    self.wfile.flush()
                    self.connection.close()
                    route.drop_after = None  # the next attempt succeeds
                    return
                self.wfile.write(body)

        return Handler
