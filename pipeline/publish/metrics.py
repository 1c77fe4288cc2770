"""Engagement of published posts: likes, reposts, replies, views, fetched from the platforms.

``fetch_metrics`` asks each publisher (``Publisher.fetch_engagement``) about posts published in the
last ``max_age_days`` whose newest ``Metric`` row is older than ``min_interval``, and stores one new
``Metric`` row per answer (a time series: the report takes the newest). Platforms without an
engagement API answer None and are skipped; one failing post does not stop the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from pipeline.core.clock import as_utc
from pipeline.core.errors import CastmillError
from pipeline.store.models import Client, Metric, ScheduledPost
from pipeline.publish.attempts import PublisherFactory, SessionFactory, retry_when_locked

log = logging.getLogger("castmill.metrics")

MAX_AGE_DAYS = 30  # engagement stops changing much after a month; older posts keep their last numbers
MIN_INTERVAL = timedelta(hours=1)  # the scheduler's metrics job runs hourly


@dataclass(frozen=True)
class MetricsProblem:
    post_id: int
    message: str


@dataclass(frozen=True)
class MetricsReport:
    fetched: int  # Metric rows written
    unsupported: int  # the platform offers no engagement numbers
    problems: tuple[MetricsProblem, ...]


def posts_due_for_metrics(session_factory: SessionFactory, *, now: datetime, client_slug: str | None = None,
                          max_age_days: int = MAX_AGE_DAYS, min_interval: timedelta = MIN_INTERVAL) -> list[int]:
    now = as_utc(now)
    newest = (select(Metric.post_id, func.max(Metric.fetched_at).label("last"))
              .group_by(Metric.post_id).subquery())
    query = (select(ScheduledPost.id).outerjoin(newest, newest.c.post_id == ScheduledPost.id)
             .where(ScheduledPost.status == "published", ScheduledPost.remote_id != "",
                    ScheduledPost.published_at >= now - timedelta(days=max_age_days),
                    (newest.c.last.is_(None)) | (newest.c.last <= now - min_interval))
             .order_by(ScheduledPost.published_at))
    with session_factory() as session:
        if client_slug:
            query = query.join(Client, Client.id == ScheduledPost.client_id).where(Client.slug == client_slug)
        return list(session.scalars(query))


def fetch_metrics(session_factory: SessionFactory, publisher_for: PublisherFactory, *, now: datetime,
                  client_slug: str | None = None, max_age_days: int = MAX_AGE_DAYS,
                  min_interval: timedelta = MIN_INTERVAL) -> MetricsReport:
    now = as_utc(now)
    fetched = unsupported = 0
    problems: list[MetricsProblem] = []
    for post_id in posts_due_for_metrics(session_factory, now=now, client_slug=client_slug,
                                         max_age_days=max_age_days, min_interval=min_interval):
        try:
            engagement = _fetch_one(session_factory, publisher_for, post_id)
        except Exception as exc:  # a network error, a 4xx, a bug in one publisher: report, go on
            message = str(exc) if isinstance(exc, CastmillError) else f"{type(exc).__name__}: {exc}"
            problems.append(MetricsProblem(post_id, message))
            log.warning("metrics for post %s: %s", post_id, message)
            continue
        if engagement is None:
            unsupported += 1
            continue
        _store(session_factory, post_id, engagement, now)
        fetched += 1
    return MetricsReport(fetched, unsupported, tuple(problems))


def _fetch_one(session_factory: SessionFactory, publisher_for: PublisherFactory, post_id: int):
    with session_factory() as session:
        row = session.get(ScheduledPost, post_id)
        remote_id = row.remote_id
        publisher = publisher_for(session, row)
    return publisher.fetch_engagement(remote_id)  # outside any transaction: it is a network call


@retry_when_locked
def _store(session_factory: SessionFactory, post_id: int, engagement, now: datetime) -> None:
    with session_factory() as session:
        session.add(Metric(post_id=post_id, fetched_at=now, likes=engagement.likes, reposts=engagement.reposts,
                           replies=engagement.replies, views=engagement.views))


def latest_metrics(session, post_ids: list[int]) -> dict[int, Metric]:
    """The newest Metric row of each post (posts without any are absent)."""
    if not post_ids:
        return {}
    newest = (select(Metric.post_id, func.max(Metric.id).label("id"))
              .where(Metric.post_id.in_(post_ids)).group_by(Metric.post_id).subquery())
    rows = session.scalars(select(Metric).join(newest, newest.c.id == Metric.id))
    return {m.post_id: m for m in rows}
