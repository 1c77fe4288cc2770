"""A fake OpenAI-compatible chat-completions server on 127.0.0.1 (never the network).

It enforces the parts of the contract Castmill relies on: only ``POST /v1/chat/completions``,
a bearer key, a JSON body with ``model`` and well-formed ``messages`` (and, with
``response_format: json_object``, the word "json" somewhere in the messages, as the real
API demands). Every request is recorded in ``server.requests``.

Replies come from a queue of scripted behaviours (``Content``, ``Error``, ``Delay``);
when the queue is empty the server answers like a model would: each candidate in the
user message's JSON list gets a score from its text length and a title.

    with FakeOpenAI(api_key="sk-test") as server:
        server.script(Error(500), Content('{"rankings": []}'))
        ... LLMSettings(base_url=server.base_url, api_key="sk-test") ...
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROLES = {"system", "user", "assistant"}
PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class Content:
    """Answer 200 with this assistant content wrapped in a chat.completion object."""

    text: str
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Error:
    """Answer ``status`` with an OpenAI error body (a dict body or raw text replaces it)."""

    status: int
    message: str = "The server had an error while processing your request."
    body: dict | str | None = None


@dataclass(frozen=True)
class Delay:
    """Sleep ``seconds`` (longer than the client's timeout), then give the default answer."""

    seconds: float


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict
    body: object  # parsed JSON, or None when the body was not JSON
    raw: bytes = field(repr=False, default=b"")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that timed out and hung up is expected, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeOpenAI:
    def __init__(self, api_key: str | None = "sk-test-key"):
        """``api_key=None`` accepts requests without (or with any) Authorization header."""
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self._queue: deque = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *behaviours: Content | Error | Delay) -> None:
        """Queue behaviours for the next requests that pass validation, in order."""
        with self._lock:
            self._queue.extend(behaviours)

    def start(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a Delay
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- request handling (runs on server threads) --

    def _next(self):
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def _handle(self, method: str, path: str, headers: dict, raw: bytes) -> tuple[int, dict | str]:
        body = _parse(raw)
        self.requests.append(RecordedRequest(method, path, headers, body, raw))
        if path != PATH:
            return 404, _error_body(f"Invalid URL ({method} {path})", "invalid_request_error")
        if method != "POST":
            return 405, _error_body(f"Method {method} not allowed", "invalid_request_error")
        if self.api_key is not None and headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, _auth_error(headers.get("Authorization", ""))
        if problem := _body_problem(body):
            return 400, _error_body(problem, "invalid_request_error")
        return self._reply(body, self._next())

    def _reply(self, body: dict, behaviour) -> tuple[int, dict | str]:
        if isinstance(behaviour, Error):
            kind = "server_error" if behaviour.status >= 500 else "invalid_request_error"
            default = _error_body(behaviour.message, kind)
            return behaviour.status, behaviour.body if behaviour.body is not None else default
        if isinstance(behaviour, Delay):
            self._stopping.wait(behaviour.seconds)
        if isinstance(behaviour, Content):
            return 200, completion(body["model"], behaviour.text, behaviour.finish_reason)
        return 200, completion(body["model"], default_answer(body["messages"]))


def _make_handler(server: FakeOpenAI):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, payload = server._handle(method, self.path, dict(self.headers), raw)
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            self._serve("POST")

        def do_GET(self):
            self._serve("GET")

    return Handler


def _parse(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _body_problem(body) -> str | None:
    if not isinstance(body, dict):
        return "We could not parse the JSON body of your request."
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty array"
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            return f"Invalid value for 'messages[{i}].role'"
        if not isinstance(message.get("content"), str):
            return f"Invalid type for 'messages[{i}].content': expected a string"
    return _format_problem(body)


def _format_problem(body: dict) -> str | None:
    fmt = body.get("response_format")
    if fmt is None:
        return None
    if not isinstance(fmt, dict) or fmt.get("type") not in {"text", "json_object", "json_schema"}:
        return "Invalid value for 'response_format.type'"
    if fmt["type"] == "json_object" and not any("json" in m["content"].lower() for m in body["messages"]):
        return "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'."
    return None


def _error_body(message: str, kind: str, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _auth_error(authorization: str) -> dict:
    # Echo the token verbatim: a careless proxy might, and the client must redact it.
    token = authorization.removeprefix("Bearer ").strip()
    if not token:
        return _error_body("You didn't provide an API key.", "invalid_request_error")
    return _error_body(
        f"Incorrect API key provided: {token}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    )


def completion(model: str, content: str, finish_reason: str = "stop") -> dict:
    """A chat.completion object around ``content``."""
    words = len(content.split())
    return {
        "id": f"chatcmpl-fake{time.time_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": words, "total_tokens": 100 + words},
    }


def default_answer(messages: list[dict]) -> str:
    """Score each candidate of the last user message by text length (longer is better)."""
    user = [m["content"] for m in messages if m["role"] == "user"]
    try:
        candidates = json.loads(user[-1]) if user else []
        rankings = [
            {
                "id": c["id"],
                "score": round(min(1.0, len(c["text"]) / 200), 3),
                "title": " ".join(c["text"].split()[:6]) or f"Moment {c['id']}",
                "reason": "longer moments carry more context",
            }
            for c in candidates
        ]
    except (ValueError, TypeError, KeyError):
        rankings = []
    return json.dumps({"rankings": rankings})
