"""X (API v2): chunked media upload, then ``POST /2/tweets``; OAuth 2 user token as Bearer.

Contract (docs.x.com, X API v2):

- Media, every kind through the chunked endpoints: ``POST /2/media/upload/initialize``
  ``{media_type, total_bytes, media_category}`` → ``data.id``; ``POST /2/media/upload/{id}/append``
  (multipart ``segment_index``, ``media``; chunks ≤ 5 MB); ``POST /2/media/upload/{id}/finalize``;
  when the answer has ``processing_info``, poll ``GET /2/media/upload?command=STATUS&media_id=…``
  (waiting ``check_after_secs``) until ``succeeded`` (``failed`` carries an error). Image alt text:
  ``POST /2/media/metadata`` ``{id, metadata: {alt_text: {text}}}``.
- ``POST /2/tweets`` JSON ``{text, media: {media_ids}, reply: {in_reply_to_tweet_id}}`` →
  ``{data: {id, text}}``. A thread is a chain of self-replies.
- Errors are RFC 7807 problems (``title``, ``detail``, ``errors[].message``); a duplicate text is
  403 "You are not allowed to create a Tweet with duplicate content."

X has no idempotency key. The marker of a post is **the exact text of its first part**:
``find_existing`` reads the user's recent tweets (``GET /2/users/me``, then
``GET /2/users/:id/tweets`` with ``created_at``, ``entities`` and ``referenced_tweets``,
``RECENT_PAGES`` pages of 100) and looks for that text among the tweets created inside the post's
look-up window (``created_at`` ≥ ``base.lookup_since``), then for the replies carrying the other
parts; ``publish`` looks first only on a retry (``Post.first_attempt_at`` set). Texts are compared
the way X returns them: HTML entities (``&amp;``) decoded, t.co links replaced by their expanded
URL (the link X appends for attached media dropped), URLs compared without scheme or trailing
slash, whitespace ignored. A 403 duplicate on a retry is resolved the same way: the earlier tweet
is looked up in the window and returned as the published post; a duplicate of an older tweet (or
any duplicate on a first attempt) fails with a clear message, never counts as published. Limits:
a tweet with the same text posted by hand inside the window counts as this post; one older than
the searched pages is not found.
"""

from __future__ import annotations

import html
import math
import time
import unicodedata

import requests

from pipeline.platforms import text as textlib
from pipeline.publish.publishers.base import (AuthError, CredentialStatus, Engagement, MediaFile, Post,
                                                Published, PublishError, Publisher, created_within, lookup_since)

DEFAULT_API = "https://api.x.com"
WEB_URL = "https://x.com"
CHUNK_BYTES = 4 * 1024 * 1024  # APPEND chunks must be ≤ 5 MB
RECENT_PAGES = 2
PAGE_SIZE = 100  # GET /2/users/:id/tweets max_results is 5..100
MEDIA_CATEGORY = {"video": "tweet_video", "image": "tweet_image"}


class DuplicateContent(PublishError):
    """X refused a text it already has from this account."""


class XPublisher(Publisher):
    name = "x"
    media_kinds = ("video", "image")
    media_poll_interval: float | None = None  # None: wait as long as X's check_after_secs says
    media_poll_timeout = 600.0

    def __init__(self, account, http=None):
        super().__init__(account, http)
        self._user_id: str | None = None

    # ------------------------------------------------------------------ publishing

    def publish(self, post: Post) -> Published:
        parts = post.parts or ("",)
        tweets = self._published_parts(post) if len(parts) > 1 and post.first_attempt_at is not None else []
        media_ids = self._upload_all(post.media) if post.media and not tweets else []
        for index in range(len(tweets), len(parts)):
            parent = tweets[-1]["id"] if tweets else None
            tweets.append(self._create_or_find(post, index, media_ids if index == 0 else [], parent))
        return _published(tweets[0]["id"])

    def find_existing(self, post: Post) -> Published | None:
        found = self._published_parts(post)
        return _published(found[0]["id"]) if len(found) == len(post.parts or ("",)) else None

    supports_comments = True

    def publish_comment(self, post_remote_id: str, text: str, *, key: str) -> Published:
        """A self-reply (``reply.in_reply_to_tweet_id``). X has no idempotency key: a duplicate answer
        means an earlier attempt got through when the same reply is found under the post."""
        body = {"text": text, "reply": {"in_reply_to_tweet_id": post_remote_id}}
        try:
            tweet = self.request("POST", self._url("/2/tweets"), json=body, headers=self._auth()).json()["data"]
        except DuplicateContent:
            found = self.find_comment(post_remote_id, text, key=key)
            if found is not None:
                return found
            raise PublishError("x: X refused the first comment as duplicate content: the account already has a "
                               "tweet with this text; change the first comment", status=403) from None
        return _published(tweet["id"])

    def find_comment(self, post_remote_id: str, text: str, *, key: str) -> Published | None:
        wanted = comparable(text)
        match = next((t for t in reversed(self._recent_tweets())
                      if _replied_to(t) == post_remote_id and comparable(tweet_text(t)) == wanted), None)
        return _published(match["id"]) if match else None

    def check_credentials(self) -> CredentialStatus:
        try:
            user = self._get("/2/users/me").json()["data"]
        except AuthError as exc:
            return CredentialStatus(False, f"{exc} — reconnect the account", self.account.expires_at)
        except PublishError as exc:
            return CredentialStatus(False, str(exc), self.account.expires_at)
        return CredentialStatus(True, f"x: signed in as @{user.get('username', '?')}", self.account.expires_at)

    def fetch_engagement(self, remote_id: str) -> Engagement | None:
        metrics = self._get(f"/2/tweets/{remote_id}", params={"tweet.fields": "public_metrics"}).json()["data"].get(
            "public_metrics") or {}
        return Engagement(likes=metrics.get("like_count", 0),
                          reposts=metrics.get("retweet_count", 0) + metrics.get("quote_count", 0),
                          replies=metrics.get("reply_count", 0), views=metrics.get("impression_count"))

    # ------------------------------------------------------------------ tweets

    def _create_or_find(self, post: Post, index: int, media_ids: list[str], parent: str | None) -> dict:
        body: dict = {"text": post.parts[index] if post.parts else ""}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if parent:
            body["reply"] = {"in_reply_to_tweet_id": parent}
        try:
            return self.request("POST", self._url("/2/tweets"), json=body, headers=self._auth()).json()["data"]
        except DuplicateContent:
            # On a first attempt nothing of this post existed before this call, so the duplicate is an older tweet.
            chain = self._published_parts(post) if post.first_attempt_at is not None else []
            if len(chain) > index:
                return chain[index]
            raise PublishError("x: X refused the post as duplicate content: the account already has a tweet with "
                               "this text from before this post was first sent; change the text",
                               status=403) from None

    def _published_parts(self, post: Post) -> list[dict]:
        """Tweets already published for the leading parts of ``post``, oldest part first."""
        since = lookup_since(post)
        recent = [t for t in reversed(self._recent_tweets())  # oldest first: the original, not a later copy
                  if created_within(t.get("created_at"), since)]
        chain: list[dict] = []
        for text in post.parts or ("",):
            parent = chain[-1]["id"] if chain else None
            wanted = comparable(text)
            match = next((t for t in recent if _replied_to(t) == parent and comparable(tweet_text(t)) == wanted), None)
            if match is None:
                break
            chain.append(match)
        return chain

    def _recent_tweets(self) -> list[dict]:
        tweets: list[dict] = []
        params = {"max_results": PAGE_SIZE, "tweet.fields": "created_at,entities,referenced_tweets"}
        for _ in range(RECENT_PAGES):
            page = self._get(f"/2/users/{self._me()}/tweets", params=params).json()
            tweets.extend(page.get("data") or [])
            next_token = (page.get("meta") or {}).get("next_token")
            if not next_token:
                break
            params = {**params, "pagination_token": next_token}
        return tweets

    def _me(self) -> str:
        if self._user_id is None:
            self._user_id = self._get("/2/users/me").json()["data"]["id"]
        return self._user_id

    # ------------------------------------------------------------------ media

    def _upload_all(self, media: tuple[MediaFile, ...]) -> list[str]:
        for item in media:
            if item.kind not in MEDIA_CATEGORY:
                raise PublishError(f"x: cannot attach {item.kind} media")
        return [self._upload(item) for item in media]

    def _upload(self, item: MediaFile) -> str:
        size = item.path.stat().st_size
        init = {"media_type": item.mime, "total_bytes": size, "media_category": MEDIA_CATEGORY[item.kind]}
        media_id = self._post_json("/2/media/upload/initialize", init)["data"]["id"]
        with open(item.path, "rb") as handle:
            for segment in range(max(1, math.ceil(size / CHUNK_BYTES))):
                chunk = handle.read(CHUNK_BYTES)
                self.request("POST", self._url(f"/2/media/upload/{media_id}/append"), sent=False, headers=self._auth(),
                             data={"segment_index": str(segment)},
                             files={"media": (item.path.name, chunk, "application/octet-stream")})
        final = self._post_json(f"/2/media/upload/{media_id}/finalize", None)["data"]
        if final.get("processing_info"):
            self._wait_processed(media_id, final["processing_info"])
        if item.kind == "image" and item.alt:
            self._post_json("/2/media/metadata", {"id": media_id, "metadata": {"alt_text": {"text": item.alt[:1000]}}})
        return media_id

    def _wait_processed(self, media_id: str, info: dict) -> None:
        deadline = time.monotonic() + self.media_poll_timeout
        while info.get("state") not in ("succeeded", "failed"):
            if time.monotonic() >= deadline:
                raise PublishError(f"x: media {media_id} still processing after {self.media_poll_timeout:.0f} s",
                                   retryable=True)
            wait = self.media_poll_interval if self.media_poll_interval is not None else info.get("check_after_secs", 1)
            time.sleep(wait)
            status = self._get("/2/media/upload", params={"command": "STATUS", "media_id": media_id}).json()["data"]
            info = status.get("processing_info") or {"state": "succeeded"}
        if info["state"] == "failed":
            error = info.get("error") or {}
            raise PublishError(f"x: media processing failed: {error.get('message') or error.get('name') or 'unknown'}")

    # ------------------------------------------------------------------ HTTP

    def _post_json(self, path: str, body: dict | None) -> dict:
        response = self.request("POST", self._url(path), sent=False, json=body, headers=self._auth())
        return response.json() if response.content else {}

    def _get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", self._url(path), sent=False, headers=self._auth(), **kwargs)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.token}"}

    def _url(self, path: str) -> str:
        return (self.account.base_url or DEFAULT_API).rstrip("/") + path

    def error_message(self, response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return super().error_message(response)
        if isinstance(body, dict):
            messages = [e.get("message") for e in body.get("errors") or [] if isinstance(e, dict) and e.get("message")]
            if messages:
                return "; ".join(messages)
            if body.get("detail") or body.get("title"):
                return body.get("detail") or body["title"]
        return super().error_message(response)

    def error_for(self, response: requests.Response) -> PublishError:
        error = super().error_for(response)
        if response.status_code == 403 and "duplicate content" in str(error):
            return DuplicateContent(str(error), status=403)
        if response.status_code == 429 and error.retry_after is None:
            reset = response.headers.get("x-rate-limit-reset")
            if reset and reset.isdigit():
                error.retry_after = max(0.0, int(reset) - time.time())
        return error


# ---------------------------------------------------------------------- the marker


def tweet_text(tweet: dict) -> str:
    """A tweet's text as written: entities decoded, t.co links expanded, the media link dropped."""
    text = html.unescape(tweet.get("text", ""))
    for url in (tweet.get("entities") or {}).get("urls") or []:
        if not url.get("url"):
            continue
        replacement = "" if url.get("media_key") else (url.get("unwound_url") or url.get("expanded_url") or url["url"])
        text = text.replace(url["url"], replacement)
    return text


def comparable(text: str) -> str:
    """``text`` reduced to what survives X's rewriting: NFC, URLs without scheme/trailing slash, no whitespace."""
    text = unicodedata.normalize("NFC", text)
    pieces, position = [], 0
    for span in textlib.find_urls(text):
        pieces.append(text[position:span.start])
        url = span.text.split("://", 1)[-1]
        pieces.append(url.rstrip("/"))
        position = span.end
    pieces.append(text[position:])
    return "".join("".join(pieces).split())


def _replied_to(tweet: dict) -> str | None:
    for ref in tweet.get("referenced_tweets") or []:
        if ref.get("type") == "replied_to":
            return ref.get("id")
    return None


def _published(tweet_id: str) -> Published:
    return Published(remote_id=str(tweet_id), url=f"{WEB_URL}/i/web/status/{tweet_id}")
