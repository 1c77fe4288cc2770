"""Generic webhook (Zapier "Catch Hook", Make "Custom webhook" and the like): one JSON POST per post.

The request carries:

- ``Idempotency-Key: <post.idempotency_key>``: receivers that dedupe on it (most automation
  platforms can filter on a header) make re-sending after a timeout harmless;
- ``X-Castmill-Signature-256: sha256=<hex HMAC-SHA256 of the exact body>`` when
  ``account.extra["secret"]`` is set, so the receiver can verify the sender (same scheme as
  GitHub's ``X-Hub-Signature-256``);
- ``Authorization: Bearer <account.token>`` when a token is set.

Any 2xx answer means published; the remote id is the ``id`` of a JSON answer (Zapier answers
``{"id": …, "status": "success"}``), else the idempotency key.

Limitation, by nature of webhooks: a hook cannot be asked whether it already received a post, so
``find_existing`` returns None — unless the receiver offers a lookup endpoint, configured as
``account.extra["lookup_url"]``: ``GET <lookup_url>?idempotency_key=<key>`` answering 200 with
``{"id": …}`` when it has the post and 404 when not. Without one, the scheduler's retry after an
unknown outcome re-sends with the same Idempotency-Key and relies on the receiver to dedupe.

Media are described, not uploaded: each item lists its local path, kind, MIME type and alt text.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import requests

from pipeline.publish.publishers.base import Post, Published, PublishError, Publisher

SIGNATURE_HEADER = "X-Castmill-Signature-256"


def signature(secret: str, body: bytes) -> str:
    """The signature header value for ``body``: ``sha256=<hex digest>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookPublisher(Publisher):
    name = "webhook"
    media_kinds = ("video", "image", "audio")

    def publish(self, post: Post) -> Published:
        body = json.dumps(self.payload(post), ensure_ascii=False, sort_keys=True).encode("utf-8")
        response = self.request("POST", self._hook_url(), data=body, headers=self._headers(post, body),
                                 allow_redirects=False)
        if response.status_code >= 300:
            raise PublishError(f"webhook: HTTP {response.status_code}: the hook redirected instead of accepting",
                               status=response.status_code)
        return Published(remote_id=_remote_id(response) or post.idempotency_key)

    def find_existing(self, post: Post) -> Published | None:
        lookup = self.account.extra.get("lookup_url")
        if not lookup:
            return None
        try:
            response = self.request("GET", lookup, sent=False, params={"idempotency_key": post.idempotency_key},
                                    headers=self._auth_header())
        except PublishError as exc:
            if exc.status == 404:
                return None
            raise
        return Published(remote_id=_remote_id(response) or post.idempotency_key)

    def payload(self, post: Post) -> dict:
        return {
            "idempotency_key": post.idempotency_key,
            "client": self.account.handle,
            "parts": list(post.parts),
            "text": "\n\n".join(post.parts),
            "title": post.title,
            "link": post.link,
            "media": [{"path": str(m.path), "name": m.path.name, "kind": m.kind, "mime": m.mime, "alt": m.alt}
                      for m in post.media],
        }

    def _headers(self, post: Post, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": post.idempotency_key,
                   **self._auth_header()}
        secret = self.account.extra.get("secret")
        if secret:
            headers[SIGNATURE_HEADER] = signature(secret, body)
        return headers

    def _auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.token}"} if self.account.token else {}

    def _hook_url(self) -> str:
        if not self.account.base_url:
            raise PublishError("webhook: the account has no hook URL")
        return self.account.base_url


def _remote_id(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    value = body.get("id") if isinstance(body, dict) else None
    return str(value) if value not in (None, "") else ""
