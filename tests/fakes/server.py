"""A small threaded fake HTTP server on 127.0.0.1 (free port) for contract-enforcing platform fakes.

Subclass ``FakeServer``, register routes in ``__init__`` and keep the platform's state
(posts, media, tokens) on the instance. Every request is recorded in ``server.requests``.
Handlers run one at a time under ``server.lock``, so state needs no further locking.

Example::

    class Echo(FakeServer):
        def __init__(self):
            super().__init__()
            self.route("POST", r"/echo/(?P<name>\\w+)", self.echo)

        def echo(self, request: Request, name: str) -> Response:
            if request.bearer() != "t0ken":
                return Response(401, {"error": "unauthorized"})
            return Response(200, {"name": name, "got": request.json()})

    with Echo() as server:                      # starts; stops on exit
        requests.post(server.url("/echo/a"), json={"x": 1}, headers={"Authorization": "Bearer t0ken"})
        assert server.requests[-1].json() == {"x": 1}

Switches every fake gets for free (each applies to the next ``times`` matching requests;
``method``/``path`` narrow the match, ``path`` being a regex searched in the request path):

- ``server.fail_next(429, headers={"Retry-After": "7"}, json={...})`` answers with that status
  *without* running the handler (nothing is created);
- ``server.hang_next(path=r"/statuses$")`` runs the handler (the post IS created) and then holds
  the answer for ``seconds`` (default 30) or until ``stop()``: a client with a shorter read
  timeout sees a timeout after the platform accepted the post.
- both take ``after=n`` to let the first ``n`` matching requests through untouched (e.g. fail
  the second part of a thread only).

Subclasses may override ``check(request)`` to reject requests before routing (auth, required
headers): return a ``Response`` to answer with it, or ``None`` to go on.

Platform fakes that ``tests/publish/publishers/test_contract.py`` drives subclass ``ContractFake`` and
their module (``tests/fakes/<platform>.py``) defines ``contract_fake() -> ContractFake`` returning
an unstarted fake; see ``ContractFake`` for the handful of members the contract test uses.
"""

from __future__ import annotations

import json as jsonlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from tests.fakes.http_server import LocalHTTPServer

if TYPE_CHECKING:
    from pipeline.publish.publishers import Account, Post


@dataclass(frozen=True)
class Part:
    """One part of a multipart/form-data body."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str = "text/plain"

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


@dataclass(frozen=True)
class Request:
    """One recorded request. ``headers`` keys are lower-case."""

    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def bearer(self) -> str | None:
        """The token of an ``Authorization: Bearer …`` header, else None."""
        value = self.header("authorization") or ""
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return jsonlib.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, list[str]]:
        """An application/x-www-form-urlencoded body."""
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    def multipart(self) -> list[Part]:
        """The parts of a multipart/form-data body ([] when the body is not multipart)."""
        content_type = self.header("content-type") or ""
        if not content_type.lower().startswith("multipart/form-data"):
            return []
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + self.body
        )
        parts = []
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name is None:
                continue
            parts.append(Part(name, part.get_payload(decode=True) or b"", part.get_filename(),
                              part.get_content_type()))
        return parts


@dataclass
class Response:
    """What a handler answers. ``json`` (when not None) is serialized as the body."""

    status: int = 200
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        if self.json is not None:
            return jsonlib.dumps(self.json).encode("utf-8")
        return self.body


Handler = Callable[..., Response]


@dataclass
class _Rule:
    """A switch: applies to the next ``times`` requests matching ``method`` and ``path``."""

    times: int
    method: str | None
    path: str | None
    response: Response | None = None  # fail_next: answer this instead of running the handler
    seconds: float = 0.0  # hang_next: hold the real answer this long
    after: int = 0  # matching requests to let through untouched first

    def matches(self, request: Request) -> bool:
        if self.times <= 0:
            return False
        if self.method and self.method.upper() != request.method:
            return False
        return self.path is None or re.search(self.path, request.path) is not None


class FakeServer(LocalHTTPServer):
    """Threaded HTTP server on 127.0.0.1 with regex routes, a request log and failure switches."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.errors: list[Exception] = []  # exceptions raised by handlers (bugs in a fake)
        self.lock = threading.RLock()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._fail_rules: list[_Rule] = []
        self._hang_rules: list[_Rule] = []
        self._stopping = threading.Event()
        super().__init__(self._handler_class())

    def stop(self) -> None:
        self._stopping.set()  # releases any held (hanging) answer
        super().stop()

    # ---------------------------------------------------------------- routes and switches

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Send ``method`` requests whose path fully matches ``pattern`` to ``handler(request, **groups)``."""
        self._routes.append((method.upper(), re.compile(pattern), handler))

    def fail_next(self, status: int, *, times: int = 1, method: str | None = None, path: str | None = None,
                  json: Any = None, headers: dict[str, str] | None = None, body: bytes = b"",
                  after: int = 0) -> None:
        """Answer the next ``times`` matching requests with ``status`` without running their handler
        (after letting ``after`` matching requests through normally)."""
        response = Response(status, json, dict(headers or {}), body,
                            "application/json" if json is not None else "text/plain")
        with self.lock:
            self._fail_rules.append(_Rule(times, method, path, response=response, after=after))

    def hang_next(self, *, times: int = 1, method: str | None = None, path: str | None = None,
                  seconds: float = 30.0, after: int = 0) -> None:
        """Run the next ``times`` matching requests, then hold their answer ``seconds`` (or until stop);
        ``after`` matching requests are let through normally first."""
        with self.lock:
            self._hang_rules.append(_Rule(times, method, path, seconds=seconds, after=after))

    def check(self, request: Request) -> Response | None:
        """Hook for subclasses: a Response rejects ``request`` before routing; None lets it through."""
        return None

    def not_found(self, request: Request) -> Response:
        return Response(404, {"error": f"no route for {request.method} {request.path}"})

    def requests_to(self, method: str, path_pattern: str) -> list[Request]:
        """Recorded requests with that method whose path fully matches the regex."""
        pattern = re.compile(path_pattern)
        return [r for r in list(self.requests) if r.method == method.upper() and pattern.fullmatch(r.path)]

    # ---------------------------------------------------------------- dispatch

    def dispatch(self, request: Request) -> tuple[Response, float]:
        """The answer to ``request`` and how long to hold it back."""
        with self.lock:
            self.requests.append(request)
            failure = self._take(self._fail_rules, request)
            if failure is not None:
                return failure.response, 0.0
            hang = self._take(self._hang_rules, request)
            try:
                response = self.check(request) or self._route(request)
            except Exception as exc:  # a bug in the fake: answer 500 and keep it for the test to see
                self.errors.append(exc)
                response = Response(500, {"error": f"fake crashed: {exc!r}"})
            return response, hang.seconds if hang else 0.0

    def _take(self, rules: list[_Rule], request: Request) -> _Rule | None:
        for rule in rules:
            if rule.matches(request):
                if rule.after > 0:
                    rule.after -= 1
                    continue
                rule.times -= 1
                return rule
        return None

    def _route(self, request: Request) -> Response:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                return handler(request, **match.groupdict())
        return self.not_found(request)

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _serve(self):
                split = urlsplit(self.path)
                request = Request(self.command, split.path, parse_qs(split.query, keep_blank_values=True),
                                  {k.lower(): v for k, v in self.headers.items()}, self._read_body())
                response, hold = server.dispatch(request)
                if hold:
                    server._stopping.wait(hold)
                body = response.encoded()
                try:
                    self.send_response(response.status)
                    self.send_header("Content-Type", response.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for key, value in response.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left, as intended by hang_next

            def _read_body(self) -> bytes:
                if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

        return Handler


class ContractFake(FakeServer):
    """What the table-driven contract test needs from a platform fake.

    The test publishes ``sample_post`` with ``account()``; re-publishes it; sends ``invalid_post``
    (expects a non-retryable PublishError whose message contains ``invalid_message``); uses
    ``fail_next(429|500, path=create_path)``, ``hang_next(path=create_path)`` and
    ``account(token="wrong")``; and reads ``post_count`` to prove exactly-once.
    """

    platform: ClassVar[str]  # the publisher registry name, e.g. "mastodon"
    create_path: ClassVar[str]  # regex (re.search) of the request that makes the post visible
    invalid_message: ClassVar[str]  # substring of the platform's error for ``invalid_post``
    token: ClassVar[str] = "fake-token-0123456789"  # the one credential the fake accepts

    def account(self, *, token: str | None = None) -> "Account":
        """An account pointing at this fake; ``token`` overrides the valid one."""
        raise NotImplementedError

    def sample_post(self, key: str) -> "Post":
        """A post the platform accepts (with the media it requires, if any)."""
        raise NotImplementedError

    def invalid_post(self, key: str) -> "Post":
        """A post the platform rejects with a 4xx validation error (e.g. text over the limit)."""
        raise NotImplementedError

    @property
    def post_count(self) -> int:
        """Posts created (visible) on this fake so far; thread replies count separately."""
        raise NotImplementedError
