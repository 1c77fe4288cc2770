"""RSS/Atom feeds: fetch, parse with feedparser, pick the newest enclosures."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timezone

import feedparser
import requests

from pipeline.media.download import USER_AGENT
from pipeline.media.safe_fetch import RefusedURL, fetch, safe_session
from pipeline.core.errors import IngestError
from pipeline.core.settings import NetworkSettings

MEDIA_TYPE_PREFIXES = ("audio/", "video/")
MAX_FEED_BYTES = 50 * 1024**2  # the largest real podcast feeds are a few MB


@dataclass(frozen=True)
class FeedItem:
    feed_url: str
    url: str
    title: str
    published: datetime | None
    media_type: str
    length: int
    # itunes:episode and the entry's web page, when the feed gives them (templates use both).
    number: str | None = None
    page: str | None = None
    # The episode's artwork (itunes:image), else the show's: the audiogram's cover.
    image: str | None = None
    # The entry's <guid> (Atom: <id>), when it has one: a feed watch knows an episode by it or by its enclosure.
    guid: str | None = None


@dataclass(frozen=True)
class FeedFetch:
    """A feed fetched with the validators of the last fetch: ``body`` is None when the server answered
    304 Not Modified. ``etag`` and ``last_modified`` are the validators to send next time."""

    body: bytes | None
    etag: str = ""
    last_modified: str = ""

    @property
    def not_modified(self) -> bool:
        return self.body is None


def fetch_feed(url: str, timeout: float, network: NetworkSettings | None = None) -> bytes:
    """The feed's body, fetched through ``safe_fetch`` with the ``[network]`` settings (default: loaded)."""
    return fetch_feed_if_changed(url, timeout, network).body


def fetch_feed_if_changed(url: str, timeout: float, network: NetworkSettings | None = None, *, etag: str = "",
                          last_modified: str = "") -> FeedFetch:
    """A conditional GET: sends If-None-Match / If-Modified-Since when given; a 304 has no body."""
    headers = {"User-Agent": USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with safe_session(network) as session:
            response = fetch(session, url, what="feed URL", timeout=timeout, headers=headers)
            body = response.content
    except RefusedURL as exc:
        raise IngestError(exc.reason, source=url) from None
    except requests.RequestException as exc:
        raise IngestError(f"cannot fetch feed: {type(exc).__name__}", source=url) from exc
    validators = {"etag": response.headers.get("ETag", ""), "last_modified": response.headers.get("Last-Modified", "")}
    if response.status_code == 304 and (etag or last_modified):
        return FeedFetch(None, validators["etag"] or etag, validators["last_modified"] or last_modified)
    if response.status_code >= 400:
        raise IngestError(f"feed returned HTTP {response.status_code}", source=url)
    if len(body) > MAX_FEED_BYTES:
        raise IngestError(f"feed is larger than {MAX_FEED_BYTES:,} bytes", source=url)
    return FeedFetch(body, **validators)


def parse_feed(url: str, body: bytes, *, allow_empty: bool = False) -> list[FeedItem]:
    """All media enclosures of the feed, newest first. ``allow_empty``: a feed without any is an empty list
    (a watched feed may have none yet), not an error."""
    parsed = feedparser.parse(body)
    if not parsed.get("version"):  # feedparser names the format it recognised; an HTML page has none
        raise IngestError("not an RSS or Atom feed", source=url)
    if not parsed.entries and not allow_empty:
        raise IngestError("feed has no episodes", source=url)
    show_image = _image_url(parsed.feed)
    items = [item for entry in parsed.entries if (item := _media_item(url, entry, show_image))]
    if not items and not allow_empty:
        raise IngestError("feed has no audio or video enclosures", source=url)
    return sorted(items, key=lambda i: i.published or datetime.min.replace(tzinfo=timezone.utc), reverse=True)


def _image_url(node) -> str | None:
    href = (node.get("image") or {}).get("href") or ""
    return href if href.startswith(("http://", "https://")) else None


def _media_item(feed_url: str, entry, show_image: str | None = None) -> FeedItem | None:
    for link in entry.get("enclosures", []) or []:
        media_type = (link.get("type") or "").lower()
        href = link.get("href")
        if href and (media_type.startswith(MEDIA_TYPE_PREFIXES) or not media_type):
            return FeedItem(
                feed_url=feed_url,
                url=href,
                title=entry.get("title", ""),
                published=_published(entry),
                media_type=media_type,
                length=_int(link.get("length")),
                number=str(entry.get("itunes_episode") or "").strip() or None,
                page=entry.get("link") if str(entry.get("link", "")).startswith(("http://", "https://")) else None,
                image=_image_url(entry) or show_image,
                guid=str(entry.get("id") or "").strip() or None,
            )
    return None


def _published(entry) -> datetime | None:
    struct = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(calendar.timegm(struct), tz=timezone.utc) if struct else None


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def latest_items(url: str, timeout: float, latest: int, network: NetworkSettings | None = None) -> list[FeedItem]:
    return parse_feed(url, fetch_feed(url, timeout, network))[:latest]
