"""Published posts with engagement numbers drawn from a known truth: a seeded RNG, a rate per local time.

``seed_history`` writes, for each of ``weeks`` past weeks and each (weekday, "HH:MM") of ``times`` local
to the client, one published post with one Metric row fetched three days later. Its views are drawn
around ``views``; its interactions are binomial in those views with the time's true rate, times a
per-post lift (lognormal), so posts of one time differ the way real posts do.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import numpy as np
from sqlalchemy.orm import Session

from pipeline.core.clock import WEEKDAYS, to_utc
from pipeline.store.models import Client, Draft, DraftVersion, Episode, Metric, ScheduledPost

NOW = datetime.fromisoformat("2026-12-07T12:00:00+00:00")  # a Monday
SETTLED_AFTER = timedelta(days=3)


def local_instant(client: Client, monday: date, day: str, hhmm: str) -> datetime:
    return to_utc(datetime.combine(monday + timedelta(days=WEEKDAYS.index(day)), time.fromisoformat(hhmm)),
                  client.timezone)


def past_mondays(weeks: int, now: datetime = NOW) -> list[date]:
    this_monday = now.date() - timedelta(days=now.date().weekday())
    return [this_monday - timedelta(weeks=k) for k in range(weeks, 0, -1)]


def seed_history(session: Session, client: Client, *, platform: str, times: list[tuple[str, str]], weeks: int,
                 rate: Callable[[str, str], float], seed: int, views: int | None = 1200, now: datetime = NOW,
                 shuffle: int | None = None) -> list[int]:
    """The posts of ``history`` written to the database; ``shuffle`` writes the same posts in a random order."""
    rows = history(client, times=times, weeks=weeks, rate=rate, seed=seed, views=views, now=now)
    if shuffle is not None:
        np.random.default_rng(shuffle).shuffle(rows)
    episode = Episode(client_id=client.id, source_uri="file:///history.mp3", media_path="/tmp/history.mp3",
                      sha256=secrets.token_hex(32), title="History")
    session.add(episode)
    session.flush()
    return [add_published(session, client, episode, platform, *row).id for row in rows]


def history(client: Client, *, times: list[tuple[str, str]], weeks: int, rate: Callable[[str, str], float],
            seed: int, views: int | None = 1200, now: datetime = NOW) -> list[tuple]:
    """(instant, likes, reposts, replies, views) of one post per week and time, drawn from ``rate``."""
    rng = np.random.default_rng(seed)
    return [(local_instant(client, monday, day, hhmm), *_numbers(rng, rate(day, hhmm), views))
            for monday in past_mondays(weeks, now) for day, hhmm in times]


def _numbers(rng, true_rate: float, views: int | None) -> tuple[int, int, int, int | None]:
    lift = float(rng.lognormal(0.0, 0.25))
    if views is None:  # a platform without views: interactions per post around true_rate
        interactions = int(rng.poisson(true_rate * lift))
        shown = None
    else:
        shown = int(rng.integers(int(views * 0.7), int(views * 1.3)))
        interactions = int(rng.binomial(shown, min(1.0, true_rate * lift)))
    replies = interactions // 10
    reposts = interactions // 5
    return interactions - reposts - replies, reposts, replies, shown


def add_published(session: Session, client: Client, episode: Episode, platform: str, at: datetime, likes: int,
                  reposts: int, replies: int, views: int | None, *,
                  fetched_after: timedelta = SETTLED_AFTER) -> ScheduledPost:
    draft = Draft(client_id=client.id, episode_id=episode.id, highlight_key=secrets.token_hex(4), platform=platform,
                  language="en", status="approved")
    session.add(draft)
    session.flush()
    version = DraftVersion(draft_id=draft.id, number=1, parts=[f"A {platform} post"], author="castmill",
                           source="history")
    session.add(version)
    session.flush()
    post = ScheduledPost(client_id=client.id, draft_id=draft.id, version_id=version.id, platform="outbox",
                         due_at=at, published_at=at, status="published", remote_id=f"r-{draft.id}",
                         idempotency_key=secrets.token_hex(16))
    session.add(post)
    session.flush()
    session.add(Metric(post_id=post.id, fetched_at=at + fetched_after, likes=likes, reposts=reposts, replies=replies,
                       views=views))
    return post
