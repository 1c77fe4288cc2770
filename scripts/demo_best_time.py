#!/usr/bin/env python3
"""`make demo`: the best time to post, learned from the demo client's engagement.

A fresh demo client has published nothing, so for each platform with fewer posts than [best_time]
min_posts this seeds DEMO history: twelve past weeks of synthetic published posts with engagement
numbers, drawn from a seeded RNG with a planted truth (LinkedIn: Wednesday 17:00 and Saturday 10:00
get about twice the engagement; X: Tuesday 08:00). Every seeded row says so: the episode is titled
"DEMO engagement history (synthetic)", each post's text starts with "[demo]", and the posts have no
remote id, so `castmill metrics fetch` never asks a platform about them. It then stores the proposals
(`castmill slots propose`), writes this week's HTML report with the heatmaps to
$CASTMILL_HOME/reports/, and prints its path and the proposals.

    .venv/bin/python scripts/demo_best_time.py [--client acme]
"""

from __future__ import annotations

import secrets
import sys
from datetime import datetime, time, timedelta, timezone

import click
import numpy as np
from sqlalchemy import select

from pipeline.access.identity import system_identity
from pipeline.core.clock import WEEKDAYS, to_utc
from pipeline.core.errors import CastmillError
from pipeline.core.settings import load_settings
from pipeline.publish.best_time import analyse_client
from pipeline.publish.options import BestTimeOptions
from pipeline.publish.reports import build_weekly, render_weekly
from pipeline.publish.slot_proposals import propose
from pipeline.store.clients import get_client
from pipeline.store.db import Database
from pipeline.store.models import Draft, DraftVersion, Episode, Metric, ScheduledPost

DEMO_TITLE = "DEMO engagement history (synthetic)"
WEEKS = 12
SEED = 20261207
# platform -> (times tried each week, local to the client; the better ones and their lift)
HISTORY = {
    "linkedin": ([("tue", "09:00"), ("thu", "09:00"), ("wed", "17:00"), ("sat", "10:00"), ("mon", "13:00"),
                  ("fri", "08:00")], {("wed", "17:00"): 2.0, ("sat", "10:00"): 1.9}, 0.025, 900),
    "x": ([("mon", "12:30"), ("wed", "12:30"), ("fri", "12:30"), ("tue", "08:00"), ("thu", "19:00")],
          {("tue", "08:00"): 2.0}, 0.012, 2500),
}


@click.command()
@click.option("--client", "client_slug", default="acme", show_default=True)
def main(client_slug: str) -> None:
    settings = load_settings()
    db = Database(settings.database_url)
    options = BestTimeOptions.from_settings(settings.best_time)
    now = datetime.now(timezone.utc)
    try:
        with db.session() as session:
            for platform, seeded in seed_where_thin(session, client_slug, options, now).items():
                click.echo(f"seeded {seeded} DEMO posts with synthetic engagement on {platform} "
                           f"(episode \"{DEMO_TITLE}\")")
        with db.session() as session:
            outcomes = propose(session, system_identity("demo"), client_slug, now=now, options=options)
        with db.session() as session:
            report = build_weekly(session, client_slug, now=now, best_time=options)
    except CastmillError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    path = settings.home / "reports" / f"weekly-{client_slug}-{report.week}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_weekly(report, "html"), encoding="utf-8")
    click.echo(f"weekly report with the best-time heatmaps: {path}")
    for outcome in outcomes:
        say(outcome)


def seed_where_thin(session, client_slug: str, options: BestTimeOptions, now: datetime) -> dict[str, int]:
    """Seed DEMO history for each demo platform with too few posts to say anything; platform -> posts seeded."""
    enough = {a.platform for a in analyse_client(session, client_slug, now=now, options=options) if a.bins}
    thin = [platform for platform in HISTORY if platform not in enough]
    if not thin:
        return {}
    client = get_client(session, client_slug)
    episode = _demo_episode(session, client.id)
    rng = np.random.default_rng(SEED)
    return {platform: _seed(session, client, episode, platform, rng, now) for platform in thin}


def _demo_episode(session, client_id: int) -> Episode:
    episode = session.scalar(select(Episode).where(Episode.client_id == client_id, Episode.title == DEMO_TITLE))
    if episode is None:
        episode = Episode(client_id=client_id, source_uri="demo://engagement-history", media_path="demo://none",
                          sha256=secrets.token_hex(32), title=DEMO_TITLE, feed_meta={"demo": True})
        session.add(episode)
        session.flush()
    return episode


def _seed(session, client, episode: Episode, platform: str, rng, now: datetime) -> int:
    times, lifts, base_rate, views = HISTORY[platform]
    this_monday = now.astimezone(timezone.utc).date() - timedelta(days=now.weekday())
    count = 0
    for week in range(WEEKS, 0, -1):
        monday = this_monday - timedelta(weeks=week)
        for day, hhmm in times:
            at = to_utc(datetime.combine(monday + timedelta(days=WEEKDAYS.index(day)), time.fromisoformat(hhmm)),
                        client.timezone or "UTC")
            shown = int(rng.integers(int(views * 0.7), int(views * 1.3)))
            rate = base_rate * lifts.get((day, hhmm), 1.0) * float(rng.lognormal(0.0, 0.25))
            interactions = int(rng.binomial(shown, min(1.0, rate)))
            _add_post(session, client.id, episode.id, platform, at, interactions, shown,
                      fetched=min(at + timedelta(days=3), now))
            count += 1
    return count


def _add_post(session, client_id: int, episode_id: int, platform: str, at: datetime, interactions: int,
              views: int, *, fetched: datetime) -> None:
    draft = Draft(client_id=client_id, episode_id=episode_id, highlight_key=f"demo-{secrets.token_hex(4)}",
                  platform=platform, language="en", status="approved")
    session.add(draft)
    session.flush()
    version = DraftVersion(draft_id=draft.id, number=1,
                           parts=[f"[demo] synthetic {platform} post for the best-time demo"],
                           author="demo", source="demo engagement history")
    session.add(version)
    session.flush()
    post = ScheduledPost(client_id=client_id, draft_id=draft.id, version_id=version.id, platform="outbox",
                         due_at=at, published_at=at, status="published", timezone="UTC",
                         idempotency_key=f"demo-history-{secrets.token_hex(12)}")
    session.add(post)
    session.flush()
    replies, reposts = interactions // 10, interactions // 5
    session.add(Metric(post_id=post.id, fetched_at=fetched, likes=interactions - replies - reposts,
                       reposts=reposts, replies=replies, views=views))


def say(outcome) -> None:
    analysis = outcome.analysis
    if outcome.proposal_id is None:
        click.echo(f"{analysis.platform}: no proposal: {analysis.reason}")
        return
    slots = "; ".join(f"{','.join(s['days'])} {s['time']}" for s in analysis.posting_slots())
    again = " (already open)" if outcome.reused else ""
    click.echo(f"{analysis.platform}: proposal {outcome.proposal_id}{again}: {slots} "
               f"(current slots {analysis.rate_text(analysis.baseline)} over {analysis.baseline_posts} posts)")
    for slot in analysis.new_slots:
        click.echo(f"  {slot.day} {slot.time}: {slot.posts} posts, {analysis.rate_text(slot.rate)} "
                   f"({analysis.rate_text(slot.low)} – {analysis.rate_text(slot.high)}), replaces {slot.replaces}")
    click.echo(f"  accept with: castmill slots accept {outcome.proposal_id}   (or reject)")


if __name__ == "__main__":
    main()
