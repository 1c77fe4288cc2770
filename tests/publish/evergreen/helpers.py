"""Clients with a daily slot, published posts, and one recycling pass at a given instant."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipeline.core.clock import Clock, to_local
from pipeline.core.settings import EvergreenSettings
from pipeline.publish.evergreen import mark, recycle
from pipeline.store.models import ScheduledPost
from tests.helpers.calendar import add_client, add_draft, add_post, approve

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)  # a Monday, 09:00 UTC
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def daily_client(session, slug: str = "acme", platform: str = "x", at: str = "09:00", **settings):
    client = add_client(session, slug, slots=[{"platform": platform, "days": EVERY_DAY, "time": at}],
                        approval_stages=2)
    client.evergreen_settings = settings
    session.flush()
    return client


def published(session, staff, client, text: str, at: datetime, platform: str = "x", account=None,
              hashtags: list[str] | None = None) -> ScheduledPost:
    draft = add_draft(session, client, platform, text)
    draft.latest.hashtags = hashtags or []
    session.flush()
    approve(session, staff, draft)
    post = add_post(session, draft, at, status="published")
    post.published_at = at
    post.account_id = account.id if account else None
    session.flush()
    return post


def evergreen(session, staff, client, text: str, at: datetime, **kwargs) -> ScheduledPost:
    post = published(session, staff, client, text, at, **kwargs)
    mark(session, staff, post.id)
    return post


def run(session, staff, clock: Clock, client_slug: str | None = None, **settings):
    return recycle(session, staff, EvergreenSettings(**settings), client_slug=client_slug, now=clock())


def at(moment: datetime) -> Clock:
    return lambda: moment


def week_of(moment: datetime, tz: str = "UTC") -> tuple[int, int]:
    return tuple(to_local(moment, tz).isocalendar()[:2])


def days(n: float) -> timedelta:
    return timedelta(days=n)
