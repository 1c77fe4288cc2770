"""A fake automation-platform hook (Zapier/Make style) that enforces Castmill's webhook contract.

- ``POST /hooks/catch`` needs ``Idempotency-Key`` (400 without) and, when the fake has a
  ``secret``, a valid ``X-Castmill-Signature-256`` of the exact body (401 otherwise).
- Dedupes on the key: a repeat answers the original id and creates nothing.
- Answers Zapier's shape ``{"id", "request_id", "status": "success"}``, or Make's bare text
  ``Accepted`` when ``returns_id`` is False.
- Rejects a text over ``max_text`` characters with 422 (a receiver's own validation).
- ``GET /hooks/lookup?idempotency_key=…``: 200 ``{"id"}`` or 404, the optional lookup endpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools

from pipeline.publish.publishers import Account, Post
from tests.fakes.server import ContractFake, Request, Response


class FakeWebhook(ContractFake):
    platform = "webhook"
    create_path = r"^/hooks/catch$"
    invalid_message = "text is longer than"
    token = "whsec-fake-0123456789"  # the HMAC secret the hook verifies

    def __init__(self, *, secret: str | None = token, returns_id: bool = True, max_text: int = 5000):
        super().__init__()
        self.secret = secret
        self.returns_id = returns_id
        self.max_text = max_text
        self.posts: dict[str, dict] = {}  # idempotency key -> {"id", "payload"}
        self._ids = itertools.count(1001)
        self.route("POST", r"/hooks/catch", self.catch)
        self.route("GET", r"/hooks/lookup", self.lookup)

    # ---------------------------------------------------------------- ContractFake

    def account(self, *, token: str | None = None, lookup: bool = True) -> Account:
        extra = {"secret": self.token if token is None else token}
        if lookup:
            extra["lookup_url"] = self.url("/hooks/lookup")
        return Account(platform="webhook", base_url=self.url("/hooks/catch"), handle="acme", extra=extra)

    def sample_post(self, key: str) -> Post:
        return Post(parts=("New episode: listen now https://example.com/ep/1",), idempotency_key=key)

    def invalid_post(self, key: str) -> Post:
        return Post(parts=("x" * (self.max_text + 1),), idempotency_key=key)

    @property
    def post_count(self) -> int:
        return len(self.posts)

    # ---------------------------------------------------------------- routes

    def catch(self, request: Request) -> Response:
        key = request.header("idempotency-key")
        if not key:
            return Response(400, {"status": "error", "message": "Idempotency-Key header is required"})
        if self.secret is not None and not self._signed(request):
            return Response(401, {"status": "error", "message": "signature mismatch"})
        if key in self.posts:
            return self._accepted(self.posts[key]["id"])
        try:
            payload = request.json()
        except ValueError:
            return Response(400, {"status": "error", "message": "body is not JSON"})
        if len(payload.get("text", "")) > self.max_text:
            return Response(422, {"status": "error", "message": f"text is longer than {self.max_text} characters"})
        remote_id = f"hook-{next(self._ids)}"
        self.posts[key] = {"id": remote_id, "payload": payload}
        return self._accepted(remote_id)

    def lookup(self, request: Request) -> Response:
        found = self.posts.get(request.arg("idempotency_key") or "")
        if found is None:
            return Response(404, {"status": "error", "message": "not found"})
        return Response(200, {"id": found["id"]})

    def _signed(self, request: Request) -> bool:
        expected = "sha256=" + hmac.new(self.secret.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, request.header("x-castmill-signature-256") or "")

    def _accepted(self, remote_id: str) -> Response:
        if not self.returns_id:
            return Response(200, body=b"Accepted", content_type="text/plain")
        return Response(200, {"id": remote_id, "request_id": remote_id, "status": "success"})


def contract_fake() -> FakeWebhook:
    return FakeWebhook()
