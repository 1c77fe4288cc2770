"""A podcast host on 127.0.0.1: one RSS feed whose episodes a test adds, edits, removes and re-orders, their
enclosures, and a hook that keeps what is posted to it (the VA's notices).

The feed's contract is a real host's: an ``ETag`` (a hash of the document) and a ``Last-Modified`` (the
time of its last change) on every answer; a request whose ``If-None-Match`` is the current ETag, or (without
one) whose ``If-Modified-Since`` is not older than the last change, gets ``304 Not Modified`` and no body.
``send_etag = False`` makes it a host that sends only Last-Modified; ``media_status`` (e.g. 404) is what every
enclosure answers instead of its bytes. ``status`` makes the feed answer with
that status instead (404, 500 …); ``delay`` holds every feed answer that many seconds (a client with a
shorter timeout gives up). Every feed request's headers are kept in ``requests``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from xml.sax.saxutils import escape

from tests.fakes.http_server import LocalHTTPServer

FEED_PATH = "/feed.xml"
HOOK_PATH = "/hook"


@dataclass(frozen=True)
class Episode:
    slug: str  # its enclosure is /media/<slug>.mp3
    title: str
    published: datetime | None
    media: bytes = b""
    guid: str | None = None


class FeedServer(LocalHTTPServer):
    def __init__(self, title: str = "The Acme Show"):
        self.title = title
        self.episodes: list[Episode] = []  # in the order the document lists them
        self.status = 200
        self.delay = 0.0
        self.send_etag = True
        self.media_status = 200  # e.g. 404: every enclosure is missing
        self.requests: list[dict] = []  # the feed requests' headers
        self.notices: list[dict] = []  # JSON bodies posted to the hook
        self.downloads: list[str] = []  # enclosure paths fetched
        self._changed = datetime(2026, 1, 1, tzinfo=timezone.utc)
        self._lock = threading.Lock()
        super().__init__(self._handler())

    @property
    def feed_url(self) -> str:
        return self.url(FEED_PATH)

    @property
    def hook_url(self) -> str:
        return self.url(HOOK_PATH)

    def enclosure_url(self, slug: str) -> str:
        return self.url(f"/media/{slug}.mp3")

    # --- what the test does to the feed ------------------------------------------------------------

    def add(self, *episodes: Episode, first: bool = True) -> None:
        self._change(lambda eps: [*episodes, *eps] if first else [*eps, *episodes])

    def edit(self, which: str, **changes) -> None:
        """Change episode ``which``'s title, guid, published date or slug (its enclosure address) in place."""
        self._change(lambda eps: [replace(e, **changes) if e.slug == which else e for e in eps])

    def remove(self, which: str) -> None:
        self._change(lambda eps: [e for e in eps if e.slug != which])

    def reverse(self) -> None:
        self._change(lambda eps: list(reversed(eps)))

    def _change(self, change) -> None:
        with self._lock:
            self.episodes = change(self.episodes)
            self._changed = datetime.now(timezone.utc).replace(microsecond=0)

    # --- what it serves ----------------------------------------------------------------------------

    def document(self) -> bytes:
        items = "".join(self._item(e) for e in self.episodes)
        return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                f"<title>{escape(self.title)}</title><link>{self.base_url}</link>{items}</channel></rss>").encode()

    def _item(self, episode: Episode) -> str:
        guid = f'<guid isPermaLink="false">{escape(episode.guid)}</guid>' if episode.guid else ""
        date = f"<pubDate>{format_datetime(episode.published)}</pubDate>" if episode.published else ""
        return (f"<item><title>{escape(episode.title)}</title>{guid}{date}"
                f'<enclosure url="{self.enclosure_url(episode.slug)}" length="{len(episode.media)}" type="audio/mpeg"/>'
                "</item>")

    def _answer_feed(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests.append(dict(handler.headers))
        if self.delay:
            time.sleep(self.delay)
        if self.status != 200:
            return _send(handler, self.status, b"no feed here", "text/plain")
        with self._lock:
            body, changed = self.document(), self._changed
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        headers = {"Last-Modified": format_datetime(changed, usegmt=True)}
        if self.send_etag:
            headers["ETag"] = etag
        if _not_modified(handler.headers, etag, changed):
            return _send(handler, 304, b"", "application/rss+xml", headers)
        _send(handler, 200, body, "application/rss+xml", headers)

    def _answer_media(self, handler: BaseHTTPRequestHandler) -> None:
        slug = handler.path.removeprefix("/media/").removesuffix(".mp3")
        episode = next((e for e in self.episodes if e.slug == slug and e.media), None)
        if episode is None or self.media_status != 200:
            return _send(handler, 404 if episode is None else self.media_status, b"no such episode", "text/plain")
        self.downloads.append(handler.path)
        _send(handler, 200, episode.media, "audio/mpeg")

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == FEED_PATH:
                    server._answer_feed(self)
                elif self.path.startswith("/media/"):
                    server._answer_media(self)
                else:
                    _send(self, 404, b"not found", "text/plain")

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != HOOK_PATH:
                    return _send(self, 404, b"not found", "text/plain")
                server.notices.append(json.loads(body))
                _send(self, 200, b'{"ok": true}', "application/json")

        return Handler


def _not_modified(headers, etag: str, changed: datetime) -> bool:
    if headers.get("If-None-Match"):  # RFC 9110: If-Modified-Since is ignored when If-None-Match is sent
        return headers["If-None-Match"] == etag
    since = headers.get("If-Modified-Since")
    if not since:
        return False
    try:
        return changed <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
          headers: dict | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    if status != 304:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if status != 304:
        handler.wfile.write(body)
