"""A podcast host on 127.0.0.1 (``tests/fakes/feed.py``), a client, tiny spoken episodes, and the feed watch.

Processing an episode through every stage takes seconds (a real model), so only the tests about processing
itself use the batch runner; the others hand the new entries to ``ingest_only``: the real ingest stage
(download, content hash, probe: a real Episode row), which is all that deciding "new or not" depends on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from pipeline.access.identity import system_identity
from pipeline.core.errors import CastmillError
from pipeline.ingest.stage import run_stage
from pipeline.store.clients import build_profile, upsert_client
from pipeline.store.db import Database
from pipeline.store.models import Episode, FeedEntry, FeedSubscription
from pipeline.watch import WatchOptions, add_feed
from pipeline.watch.poll import ItemResult
from tests.fakes.feed import Episode as FeedEpisode
from tests.fakes.feed import FeedServer
from tests.helpers import media as mf

STAFF = system_identity("va-test")
LINES = ("Welcome to episode one, about pricing.", "Episode two is all about hiring.",
         "Episode three covers churn.", "Episode four, the finale.")


@pytest.fixture(scope="session")
def spoken(tmp_path_factory) -> list[bytes]:
    """Four short, different spoken mp3s."""
    folder = tmp_path_factory.mktemp("spoken")
    return [mf.speech_mp3(folder / f"ep{n}.mp3", line).read_bytes() for n, line in enumerate(LINES)]


@pytest.fixture
def host():
    with FeedServer() as server:
        yield server


@pytest.fixture
def db(settings):
    database = Database(settings.database_url)
    with database.session() as session:
        upsert_client(session, build_profile(slug="acme", name="Acme Show", speakers="off"))
    yield database
    database.dispose()


@dataclass
class Clock:
    now: datetime

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(timezone.utc).replace(microsecond=0))


OPTIONS = WatchOptions(poll_minutes=30, max_backoff_hours=24, max_new_per_poll=5, timeout=2)


def episode(slug: str, published: datetime | None, media: bytes = b"", *, title: str | None = None,
            guid: str | None = "") -> FeedEpisode:
    return FeedEpisode(slug, title or f"Episode {slug}", published, media, f"guid-{slug}" if guid == "" else guid)


def subscribe(db, settings, host, clock, backfill: int = 0, client: str = "acme") -> int:
    return add_feed(STAFF, db, settings, client, host.feed_url, backfill=backfill, now=clock.now).id


def ingest_only(db, settings, client_slug, sources) -> dict[str, ItemResult]:
    """The real ingest stage for each source; the batch runner's later stages are left out (they are slow)."""
    with db.session() as session:
        before = set(session.scalars(select(Episode.id)))
    results = {}
    for source in sources:
        try:
            ingested = run_stage(db, settings, client_slug, source)
        except CastmillError as exc:
            results[source.uri] = ItemResult("failed", error=str(exc))
            continue
        new = ingested.episode_id not in before
        before.add(ingested.episode_id)
        status = "duplicate" if not new else "failed" if ingested.error else "processed"
        results[source.uri] = ItemResult(status, ingested.episode_id, ingested.error or "", new_episode=new)
    return results


def entries(db, **where) -> list[FeedEntry]:
    with db.session() as session:
        query = select(FeedEntry).filter_by(**where).order_by(FeedEntry.id)
        return [_detached(session, e) for e in session.scalars(query)]


def _detached(session, row):
    session.expunge(row)
    return row


def subscription(db, feed_id: int) -> FeedSubscription:
    with db.session() as session:
        return _detached(session, session.get(FeedSubscription, feed_id))


def episode_count(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Episode))
