"""Bluesky (AT Protocol, XRPC over HTTP): createSession → uploadBlob → createRecord with our own rkey.

Contract (lexicons in bluesky-social/atproto; behaviour observed on a real PDS, tested against one in make test):

- ``com.atproto.server.createSession`` ``{identifier, password}`` → ``{accessJwt, refreshJwt, did,
  handle}``. The identifier is ``account.handle``; the password is an *app password*, passed as
  ``account.token``. Sessions are cached per (server, handle) for ``SESSION_SECONDS`` — the
  endpoint is rate limited per account — and re-created once when the server answers
  ``ExpiredToken``/``InvalidToken``.
- ``com.atproto.repo.uploadBlob``: the raw bytes with their Content-Type → ``{blob}``.
- ``com.atproto.repo.createRecord`` ``{repo, collection: "app.bsky.feed.post", rkey, record}``;
  ``record`` is ``{$type, text, createdAt, facets?, embed?, reply?}``. Text over 300 graphemes
  is refused (400). The rkey must be a TID (else 400) and re-using one gives a bare 500, so:
- **Exactly once**: every part gets a deterministic rkey, ``tid_for(key)``, and ``publish``
  asks ``com.atproto.repo.getRecord`` for it first (200 = already there, 400 ``RecordNotFound``
  = not): a retry never re-creates a part and a half-published thread resumes where it stopped.
  ``find_existing`` is the same read for every part.
- Links, mentions and hashtags are facets over the text with UTF-8 *byte* offsets
  (``app.bsky.richtext.facet``; the server does not check them, ``facets_for`` must be right).
  Mentions need the account's DID (``com.atproto.identity.resolveHandle``); a handle that does
  not resolve stays plain text, as in Bluesky's own app.
- Media: up to 4 images (``app.bsky.embed.images``, ``alt`` required) or one MP4
  (``app.bsky.embed.video``), on the first part. Threads: later parts carry
  ``reply: {root, parent}`` strong refs (``{uri, cid}``).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import quote

import requests

from pipeline.platforms import text as textlib
from pipeline.publish.publishers.base import (AuthError, CredentialStatus, Engagement, MediaFile, Post,
                                                Published, PublishError, Publisher, part_key)

DEFAULT_SERVER = "https://bsky.social"
WEB_URL = "https://bsky.app"
POST_COLLECTION = "app.bsky.feed.post"
SESSION_SECONDS = 90 * 60  # access JWTs last about 2 h; renew a little earlier
TAG_MAX_GRAPHEMES = 64  # app.bsky.richtext.facet#tag: maxGraphemes 64

# ---------------------------------------------------------------------- record keys (TIDs)

# atproto.com/specs/tid: 64-bit integer, top bit 0, 53 bits of microseconds since the epoch, 10 bits
# of "clock id", written in base32-sortable (this alphabet), always 13 characters.
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
# Derived TIDs carry a timestamp inside a fixed window in the past (2023-01-01 plus up to ~52 days):
# deterministic, never in the future, and 52 bits of the key's hash keep collisions negligible.
_TID_EPOCH_US = 1_672_531_200 * 1_000_000
_TID_WINDOW_BITS = 42


def tid_for(key: str) -> str:
    """The TID record key of the post with idempotency key ``key`` (same key, same TID)."""
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    micros = _TID_EPOCH_US + (digest >> 22) % (1 << _TID_WINDOW_BITS)
    return encode_tid((micros << 10) | (digest & 0x3FF))


def encode_tid(value: int) -> str:
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_tid(value: str) -> bool:
    return bool(_TID.fullmatch(value))


# ---------------------------------------------------------------------- facets

# A handle mention: "@" at the start or after whitespace/"(", then a domain-like handle (Bluesky's
# own detection rule in @atproto/api RichText).
_MENTION = re.compile(r"(?<![^\s(])@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z][a-zA-Z0-9-]*[a-zA-Z0-9])")


def facets_for(text: str, resolve_handle: Callable[[str], str | None] = lambda handle: None) -> list[dict]:
    """Link, mention and tag facets for ``text`` with UTF-8 byte offsets.

    ``resolve_handle`` maps a handle to its DID (None: leave the mention as plain text).
    """
    def index(start: int, end: int) -> dict:
        return {"byteStart": len(text[:start].encode("utf-8")), "byteEnd": len(text[:end].encode("utf-8"))}

    urls = textlib.find_urls(text)
    found: list[tuple[int, dict]] = []
    for span in urls:
        uri = span.text if "://" in span.text else f"https://{span.text}"
        found.append((span.start, {"index": index(span.start, span.end),
                                   "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}]}))
    for match in _MENTION.finditer(text):
        if any(u.start <= match.start() < u.end for u in urls):
            continue
        did = resolve_handle(match.group(1).lower())
        if did:
            found.append((match.start(), {"index": index(match.start(), match.end()),
                                          "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}]}))
    for span in textlib.find_hashtags(text):
        tag = span.text[1:]
        if len(textlib.graphemes(tag)) <= TAG_MAX_GRAPHEMES:
            found.append((span.start, {"index": index(span.start, span.end),
                                       "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}]}))
    return [facet for _, facet in sorted(found, key=lambda item: item[0])]


# ---------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class Session:
    did: str
    handle: str
    access_jwt: str
    created: float


_SESSIONS: dict[tuple[str, str, str], Session] = {}  # (server, handle, password digest) -> session
_SESSIONS_LOCK = threading.Lock()


# ---------------------------------------------------------------------- publisher


class BlueskyPublisher(Publisher):
    name = "bluesky"
    media_kinds = ("video", "image")

    def publish(self, post: Post) -> Published:
        parts = post.parts or ("",)
        refs: list[dict] = []  # strong refs {uri, cid} of the parts, in order
        embed = None
        for index, text in enumerate(parts):
            rkey = tid_for(part_key(post.idempotency_key, index))
            existing = self._get_record(rkey)
            if existing is None:
                if index == 0 and post.media and embed is None:
                    embed = self._embed(post.media)
                reply = {"root": refs[0], "parent": refs[-1]} if refs else None
                existing = self._create_record(rkey, self._record(text, embed if index == 0 else None, reply))
            refs.append({"uri": existing["uri"], "cid": existing["cid"]})
        return self._published(refs[0]["uri"])

    def find_existing(self, post: Post) -> Published | None:
        uris = []
        for index in range(len(post.parts or ("",))):
            record = self._get_record(tid_for(part_key(post.idempotency_key, index)))
            if record is None:
                return None  # missing or half-published: publish() completes it
            uris.append(record["uri"])
        return self._published(uris[0])

    supports_comments = True

    def publish_comment(self, post_remote_id: str, text: str, *, key: str) -> Published:
        """A reply record whose root and parent are our post, under the rkey ``tid_for(key)``: a retry
        finds it instead of making a second one."""
        rkey = tid_for(key)
        existing = self._get_record(rkey)
        if existing is None:
            root = self._get_record(post_remote_id.rsplit("/", 1)[-1])
            if root is None:
                raise PublishError(f"bluesky: the post {post_remote_id} is gone; cannot reply to it")
            ref = {"uri": root["uri"], "cid": root["cid"]}
            existing = self._create_record(rkey, self._record(text, None, {"root": ref, "parent": ref}))
        return self._published(existing["uri"])

    def find_comment(self, post_remote_id: str, text: str, *, key: str) -> Published | None:
        record = self._get_record(tid_for(key))
        return self._published(record["uri"]) if record else None

    def check_credentials(self) -> CredentialStatus:
        try:
            session = self._session(fresh=True)
        except AuthError as exc:
            return CredentialStatus(False, f"{exc} — create a new app password", self.account.expires_at)
        except PublishError as exc:
            return CredentialStatus(False, str(exc), self.account.expires_at)
        return CredentialStatus(True, f"bluesky: signed in as {session.handle}", self.account.expires_at)

    def fetch_engagement(self, remote_id: str) -> Engagement | None:
        response = self._xrpc("GET", "app.bsky.feed.getPosts", sent=False, params={"uris": remote_id})
        posts = response.json().get("posts") or []
        if not posts:
            return None
        view = posts[0]
        return Engagement(likes=view.get("likeCount", 0), reposts=view.get("repostCount", 0) + view.get("quoteCount", 0),
                          replies=view.get("replyCount", 0))

    # ------------------------------------------------------------------ records

    def _record(self, text: str, embed: dict | None, reply: dict | None) -> dict:
        record: dict = {"$type": POST_COLLECTION, "text": text, "createdAt": _now()}
        facets = facets_for(text, self._resolve_handle)
        if facets:
            record["facets"] = facets
        if embed:
            record["embed"] = embed
        if reply:
            record["reply"] = reply
        if self.account.extra.get("langs"):
            record["langs"] = list(self.account.extra["langs"])[:3]
        return record

    def _create_record(self, rkey: str, record: dict) -> dict:
        session = self._session()
        body = {"repo": session.did, "collection": POST_COLLECTION, "rkey": rkey, "record": record}
        return self._xrpc("POST", "com.atproto.repo.createRecord", json=body).json()

    def _get_record(self, rkey: str) -> dict | None:
        params = {"repo": self._session().did, "collection": POST_COLLECTION, "rkey": rkey}
        try:
            return self._xrpc("GET", "com.atproto.repo.getRecord", sent=False, params=params).json()
        except PublishError as exc:
            if exc.status == 400 and "RecordNotFound" in str(exc):
                return None
            raise

    def _embed(self, media: tuple[MediaFile, ...]) -> dict:
        videos = [m for m in media if m.kind == "video"]
        images = [m for m in media if m.kind == "image"]
        if len(media) != len(videos) + len(images):
            raise PublishError("bluesky: only images and video can be attached")
        if videos and (images or len(videos) > 1):
            raise PublishError("bluesky: a post carries one video, or up to 4 images, not both")
        if videos:
            embed = {"$type": "app.bsky.embed.video", "video": self._upload(videos[0])}
            return {**embed, "alt": videos[0].alt} if videos[0].alt else embed
        if len(images) > 4:
            raise PublishError("bluesky: at most 4 images per post")
        return {"$type": "app.bsky.embed.images",
                "images": [{"image": self._upload(image), "alt": image.alt} for image in images]}

    def _upload(self, item: MediaFile) -> dict:
        with open(item.path, "rb") as handle:
            response = self._xrpc("POST", "com.atproto.repo.uploadBlob", sent=False, data=handle,
                                  headers={"Content-Type": item.mime})
        return response.json()["blob"]

    def _resolve_handle(self, handle: str) -> str | None:
        try:
            response = self._xrpc("GET", "com.atproto.identity.resolveHandle", sent=False, params={"handle": handle})
        except PublishError as exc:
            if exc.status == 400:
                return None
            raise
        return response.json().get("did")

    def _published(self, uri: str) -> Published:
        rkey = uri.rsplit("/", 1)[-1]
        return Published(remote_id=uri, url=f"{WEB_URL}/profile/{quote(self._session().handle)}/post/{rkey}")

    # ------------------------------------------------------------------ XRPC and sessions

    def _xrpc(self, method: str, nsid: str, *, sent: bool = True, headers: dict | None = None,
              **kwargs) -> requests.Response:
        """One authenticated XRPC call; an expired cached session is renewed once."""
        for attempt in (1, 2):
            session = self._session(fresh=attempt == 2)
            try:
                return self.request(method, self._url(nsid), sent=sent,
                                    headers={**(headers or {}), "Authorization": f"Bearer {session.access_jwt}"},
                                    **kwargs)
            except AuthError:
                if attempt == 2:
                    raise
                self._forget_session()
                if "data" in kwargs and hasattr(kwargs["data"], "seek"):
                    kwargs["data"].seek(0)
        raise AssertionError("unreachable")

    def _session(self, *, fresh: bool = False) -> Session:
        key = self._session_key()
        with _SESSIONS_LOCK:
            cached = _SESSIONS.get(key)
            if cached and not fresh and time.monotonic() - cached.created < SESSION_SECONDS:
                return cached
        if not self.account.handle or not self.account.token:
            raise AuthError("bluesky: the account needs a handle and an app password")
        body = {"identifier": self.account.handle, "password": self.account.token}
        answer = self.request("POST", self._url("com.atproto.server.createSession"), sent=False, json=body).json()
        session = Session(answer["did"], answer.get("handle", self.account.handle), answer["accessJwt"],
                          time.monotonic())
        with _SESSIONS_LOCK:
            _SESSIONS[key] = session
        return session

    def _forget_session(self) -> None:
        with _SESSIONS_LOCK:
            _SESSIONS.pop(self._session_key(), None)

    def _session_key(self) -> tuple[str, str, str]:
        # The password's digest is part of the key so a changed app password never reuses a session.
        digest = hashlib.sha256(self.account.token.encode("utf-8")).hexdigest()
        return self._server(), self.account.handle.lower(), digest

    def _server(self) -> str:
        return (self.account.base_url or DEFAULT_SERVER).rstrip("/")

    def _url(self, nsid: str) -> str:
        return f"{self._server()}/xrpc/{nsid}"

    # ------------------------------------------------------------------ errors

    def error_message(self, response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return super().error_message(response)
        if isinstance(body, dict) and body.get("error"):
            return f"{body['error']}: {body.get('message') or ''}".rstrip(": ")
        return super().error_message(response)

    def error_for(self, response: requests.Response) -> PublishError:
        error = super().error_for(response)
        if response.status_code == 400 and any(name in str(error) for name in ("ExpiredToken", "InvalidToken")):
            return AuthError(str(error), status=400)
        if response.status_code == 429 and error.retry_after is None:
            reset = response.headers.get("ratelimit-reset")
            if reset and reset.isdigit():
                error.retry_after = max(0.0, int(reset) - time.time())
        return error


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
