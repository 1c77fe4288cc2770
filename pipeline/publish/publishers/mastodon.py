"""Mastodon: media via ``POST /api/v2/media`` (polled until processed), then ``POST /api/v1/statuses``.

Contract (docs.joinmastodon.org, methods/media and methods/statuses):

- ``POST /api/v2/media`` (multipart ``file``, ``description``) answers 200 when the file was
  processed synchronously (images) or 202 with ``url: null`` (video, audio); then
  ``GET /api/v1/media/:id`` answers 206 while processing and 200 when ready. A status that
  attaches unprocessed media is refused with 422.
- ``POST /api/v1/statuses`` takes ``status``, ``media_ids[]``, ``in_reply_to_id``,
  ``visibility`` and honours an ``Idempotency-Key`` header: "Idempotency keys are stored for up
  to 1 hour"; a repeat within that hour returns the original status instead of a new one.

A thread is the first status plus replies, each reply ``in_reply_to_id`` the previous one; each
part has its own key (``<key>`` for the first, ``<key>/2``, ``<key>/3`` … for the rest).

``find_existing`` reads, it never writes: it fetches the account
(``GET /api/v1/accounts/verify_credentials``) and its recent statuses
(``GET /api/v1/accounts/:id/statuses``, newest first, ``RECENT_PAGES`` pages of 40) and looks
for the first part's text among the statuses created inside the post's look-up window
(``created_at`` ≥ ``base.lookup_since``), then follows the replies for the other parts.
``publish`` resumes a half-posted thread the same way, on a retry only. Repeating the POST with
the same Idempotency-Key would also find a post — but only for an hour; after that it *creates* a
duplicate, and a scheduler that was down longer must not do that. ``publish`` still always sends
the key, so a quick retry is deduped by the server as well. Statuses come back as HTML; texts are
compared as plain text with all whitespace removed and remote mentions shortened to ``@user``,
the way Mastodon displays them. Limits: a status with the same text posted by hand inside the
window counts as this post; one older than the searched pages is not found.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from html import unescape
from html.parser import HTMLParser

import requests

from pipeline.publish.publishers.base import (AuthError, CredentialStatus, Engagement, MediaFile, Post,
                                                Published, PublishError, Publisher, created_within, lookup_since,
                                                part_key, platform_time)

RECENT_PAGES = 2  # pages of 40 recent statuses searched by find_existing (the API's maximum page size)
PAGE_SIZE = 40


class MastodonPublisher(Publisher):
    name = "mastodon"
    media_kinds = ("video", "image", "audio")
    media_poll_interval = 1.0  # seconds between GET /api/v1/media/:id while the server processes
    media_poll_timeout = 600.0  # give up (retryable) after this long

    # ------------------------------------------------------------------ publishing

    def publish(self, post: Post) -> Published:
        parts = post.parts or ("",)
        done = self._published_parts(post) if len(parts) > 1 and post.first_attempt_at is not None else []
        media_ids = self._upload_all(post.media) if post.media and not done else []
        statuses = list(done)
        for index in range(len(done), len(parts)):
            parent = statuses[-1]["id"] if statuses else None
            statuses.append(self._create_status(parts[index], part_key(post.idempotency_key, index),
                                                media_ids if index == 0 else [], parent))
        return _published(statuses[0])

    def find_existing(self, post: Post) -> Published | None:
        found = self._published_parts(post)
        return _published(found[0]) if len(found) == len(post.parts or ("",)) else None

    supports_comments = True

    def publish_comment(self, post_remote_id: str, text: str, *, key: str) -> Published:
        """A reply to our own status: ``in_reply_to_id`` with the comment's own Idempotency-Key."""
        return _published(self._create_status(text, key, [], post_remote_id))

    def find_comment(self, post_remote_id: str, text: str, *, key: str) -> Published | None:
        account_id = self._me()["id"]
        wanted = _comparable(text)
        match = next((s for s in reversed(self._recent_statuses(account_id))
                      if s.get("in_reply_to_id") == post_remote_id and _comparable(status_text(s)) == wanted), None)
        return _published(match) if match else None

    def check_credentials(self) -> CredentialStatus:
        try:
            account = self._me()
        except AuthError as exc:
            return CredentialStatus(False, f"{exc} — reconnect the account", self.account.expires_at)
        except PublishError as exc:
            return CredentialStatus(False, str(exc), self.account.expires_at)
        return CredentialStatus(True, f"mastodon: signed in as @{account.get('acct', '?')}", self.account.expires_at)

    def fetch_engagement(self, remote_id: str) -> Engagement | None:
        status = self._get(f"/api/v1/statuses/{remote_id}").json()
        return Engagement(likes=status.get("favourites_count", 0), reposts=status.get("reblogs_count", 0),
                          replies=status.get("replies_count", 0))

    # ------------------------------------------------------------------ calls

    def _create_status(self, text: str, key: str, media_ids: list[str], in_reply_to: str | None) -> dict:
        form: list[tuple[str, str]] = [("status", text), ("visibility", self.account.extra.get("visibility", "public"))]
        form += [("media_ids[]", media_id) for media_id in media_ids]
        if in_reply_to:
            form.append(("in_reply_to_id", in_reply_to))
        if self.account.extra.get("language"):
            form.append(("language", self.account.extra["language"]))
        headers = {**self._auth(), "Idempotency-Key": key}
        return self.request("POST", self._url("/api/v1/statuses"), data=form, headers=headers).json()

    def _upload_all(self, media: tuple[MediaFile, ...]) -> list[str]:
        for item in media:
            if item.kind not in self.media_kinds:
                raise PublishError(f"mastodon: cannot attach {item.kind} media")
        return [self._upload(item) for item in media]

    def _upload(self, item: MediaFile) -> str:
        with open(item.path, "rb") as handle:
            response = self.request("POST", self._url("/api/v2/media"), sent=False, headers=self._auth(),
                                    files={"file": (item.path.name, handle, item.mime)},
                                    data={"description": item.alt} if item.alt else None)
        attachment = response.json()
        if response.status_code == 202 or attachment.get("url") is None:
            self._wait_processed(attachment["id"])
        return attachment["id"]

    def _wait_processed(self, media_id: str) -> None:
        deadline = time.monotonic() + self.media_poll_timeout
        while True:
            if self._get(f"/api/v1/media/{media_id}").status_code == 200:
                return
            if time.monotonic() >= deadline:
                raise PublishError(f"mastodon: media {media_id} still processing after {self.media_poll_timeout:.0f} s",
                                   retryable=True)
            time.sleep(self.media_poll_interval)

    def _published_parts(self, post: Post) -> list[dict]:
        """Statuses already published for the leading parts of ``post`` (empty when none)."""
        account_id = self._me()["id"]
        since = lookup_since(post)
        recent = [status for status in self._recent_statuses(account_id)
                  if created_within(status.get("created_at"), since)]
        wanted = [_comparable(text) for text in (post.parts or ("",))]
        chain: list[dict] = []
        for index, text in enumerate(wanted):
            parent = chain[-1]["id"] if chain else None
            match = next((s for s in reversed(recent)  # oldest first: the original, not a later copy
                          if s.get("in_reply_to_id") == parent and _comparable(status_text(s)) == text), None)
            if match is None:
                break
            chain.append(match)
        return chain

    def _recent_statuses(self, account_id: str) -> list[dict]:
        statuses: list[dict] = []
        params = {"limit": PAGE_SIZE, "exclude_reblogs": "true"}
        for _ in range(RECENT_PAGES):
            page = self._get(f"/api/v1/accounts/{account_id}/statuses", params=params).json()
            statuses.extend(page)
            if len(page) < PAGE_SIZE:
                break
            params = {**params, "max_id": page[-1]["id"]}
        return statuses

    def _me(self) -> dict:
        return self._get("/api/v1/accounts/verify_credentials").json()

    def _get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", self._url(path), sent=False, headers=self._auth(), **kwargs)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.token}"}

    def _url(self, path: str) -> str:
        if not self.account.base_url:
            raise PublishError("mastodon: the account has no instance URL (e.g. https://mastodon.social)")
        return self.account.base_url.rstrip("/") + path

    # ------------------------------------------------------------------ errors

    def error_for(self, response: requests.Response) -> PublishError:
        error = super().error_for(response)
        if response.status_code == 429 and error.retry_after is None:
            error.retry_after = _seconds_until(response.headers.get("X-RateLimit-Reset"))
        return error


def _published(status: dict) -> Published:
    return Published(remote_id=str(status["id"]), url=status.get("url") or "")


def _seconds_until(stamp: str | None) -> float | None:
    """Seconds until an ISO 8601 time such as Mastodon's ``X-RateLimit-Reset``."""
    moment = platform_time(stamp)
    if moment is None:
        return None
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


# ---------------------------------------------------------------------- comparing texts

_REMOTE_MENTION = re.compile(r"(?<![\w/])(@[\w.-]*\w)@[\w.-]*\w")


class _PlainText(HTMLParser):
    """Mastodon status HTML to text: ``<br>`` is a newline, paragraphs are separated by blank lines."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.chunks.append("\n")
        elif tag == "p" and self.chunks:
            self.chunks.append("\n\n")

    def handle_data(self, data):
        self.chunks.append(data)


def status_text(status: dict) -> str:
    """The plain text of a status (``text`` when the server gives the source, else its HTML)."""
    if status.get("text"):
        return status["text"]
    parser = _PlainText()
    parser.feed(status.get("content") or "")
    return unescape("".join(parser.chunks))


def _comparable(text: str) -> str:
    return "".join(_REMOTE_MENTION.sub(r"\1", text).split())
