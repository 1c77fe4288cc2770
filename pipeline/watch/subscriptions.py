"""Which feeds a client's new episodes come from: add, list and remove subscriptions (staff only).

Adding reads the feed once, so a wrong address is refused on the spot, and makes the subscription due at
once; its first poll (``pipeline.watch.poll``) records what the feed already lists as old, apart from
the newest ``backfill`` entries the VA asked for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

import feedparser
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from pipeline.access import audit
from pipeline.access.identity import Identity
from pipeline.access.permissions import require_staff
from pipeline.core.clock import as_utc, utcnow
from pipeline.core.errors import CastmillError, ConfigError, NotFoundError
from pipeline.core.settings import Settings
from pipeline.ingest.feeds import fetch_feed, parse_feed
from pipeline.ingest.sources import is_url
from pipeline.store.clients import get_client
from pipeline.store.db import Database
from pipeline.store.models import Client, FeedEntry, FeedSubscription

MAX_BACKFILL = 50


class FeedWatchError(CastmillError):
    """A feed cannot be watched (already watched, not a feed URL)."""


@dataclass(frozen=True)
class FeedView:
    """One subscription as the VA sees it (``castmill feeds list``)."""

    id: int
    client: str
    url: str
    title: str
    state: str  # waiting (never polled) | ok | failing | off
    added_at: datetime
    backfill: int
    last_poll_at: datetime | None
    last_result: str
    last_error: str
    failures: int
    next_poll_at: datetime
    entries: dict[str, int] = field(default_factory=dict)  # entries seen, by status

    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("added_at", "last_poll_at", "next_poll_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def add_feed(identity: Identity, db: Database, settings: Settings, client_slug: str, url: str, *,
             backfill: int = 0, now: datetime | None = None) -> FeedView:
    """Watch ``url`` for ``client_slug``'s new episodes; ``backfill``: also take the newest N it lists now."""
    require_staff(identity, "watch a client's feeds")
    url = url.strip()
    if not is_url(url):
        raise FeedWatchError(f"{url!r} is not a feed address; give its http:// or https:// URL")
    if not 0 <= backfill <= MAX_BACKFILL:
        raise ConfigError(f"backfill must be between 0 and {MAX_BACKFILL} episodes, got {backfill}")
    with db.session() as session:
        client = get_client(session, client_slug)
        _refuse_duplicate(session, client, url)
    body = fetch_feed(url, settings.ingest.http_timeout, settings.network)
    listed = len(parse_feed(url, body, allow_empty=True))  # refuses a page that is not a feed
    now = as_utc(now or utcnow())
    with db.session() as session:
        client = get_client(session, client_slug)
        _refuse_duplicate(session, client, url)
        feed = FeedSubscription(client_id=client.id, url=url, title=_feed_title(body), added_at=now,
                                added_by=identity.email, enabled=True, backfill=backfill, next_poll_at=now)
        session.add(feed)
        session.flush()
        audit.record(session, actor=identity.email, action="feed.add", entity_type="feed", entity_id=feed.id,
                     client_id=client.id, user_id=identity.user_id,
                     after={"url": url, "backfill": backfill, "listed": listed})
        return _view(session, feed, client.slug)


def list_feeds(identity: Identity, session: Session, client_slug: str | None = None) -> list[FeedView]:
    """Every subscription (or one client's), by client then address."""
    require_staff(identity, "see the watched feeds")
    query = select(FeedSubscription, Client.slug).join(Client, Client.id == FeedSubscription.client_id)
    if client_slug:
        query = query.where(FeedSubscription.client_id == get_client(session, client_slug).id)
    rows = session.execute(query.order_by(Client.slug, FeedSubscription.url)).all()
    return [_view(session, feed, slug) for feed, slug in rows]


def remove_feed(identity: Identity, session: Session, client_slug: str, ref: str) -> FeedView:
    """Stop watching the feed ``ref`` (its id or its URL) of ``client_slug``; its episodes stay."""
    require_staff(identity, "stop watching a client's feed")
    client = get_client(session, client_slug)
    feed = find_feed(session, client, ref)
    view = _view(session, feed, client.slug)
    session.execute(delete(FeedEntry).where(FeedEntry.subscription_id == feed.id))
    session.delete(feed)
    audit.record(session, actor=identity.email, action="feed.remove", entity_type="feed", entity_id=feed.id,
                 client_id=client.id, user_id=identity.user_id, before={"url": feed.url})
    return view


def find_feed(session: Session, client: Client, ref: str) -> FeedSubscription:
    ref = ref.strip()
    where = FeedSubscription.id == int(ref) if ref.isdigit() else FeedSubscription.url == ref
    feed = session.scalar(select(FeedSubscription).where(FeedSubscription.client_id == client.id, where))
    if feed is None:
        raise NotFoundError(f"{client.slug} watches no feed {ref!r}; see `castmill feeds list --client {client.slug}`")
    return feed


def _refuse_duplicate(session: Session, client: Client, url: str) -> None:
    existing = session.scalar(select(FeedSubscription.id).where(FeedSubscription.client_id == client.id,
                                                                FeedSubscription.url == url))
    if existing is not None:
        raise FeedWatchError(f"{client.slug} already watches {url} (feed {existing})")


def _feed_title(body: bytes) -> str:
    return str(feedparser.parse(body).feed.get("title", "")).strip()[:200]


def _view(session: Session, feed: FeedSubscription, slug: str) -> FeedView:
    counts = dict(session.execute(select(FeedEntry.status, func.count()).where(FeedEntry.subscription_id == feed.id)
                                  .group_by(FeedEntry.status)).all())
    return FeedView(feed.id, slug, feed.url, feed.title, _state(feed), as_utc(feed.added_at), feed.backfill,
                    as_utc(feed.last_poll_at) if feed.last_poll_at else None, feed.last_result, feed.last_error,
                    feed.failures, as_utc(feed.next_poll_at), counts)


def _state(feed: FeedSubscription) -> str:
    if not feed.enabled:
        return "off"
    if feed.failures:
        return "failing"
    return "ok" if feed.last_poll_at else "waiting"
