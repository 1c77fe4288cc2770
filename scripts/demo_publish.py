#!/usr/bin/env python3
"""`make demo`: approve the sample episode's drafts, put them on the calendar, publish some now.

The demo VA approves every draft of the sample that passes its platform's rules, then the
client approves them through a review link (the two stages of a two-stage client). One draft
per platform is scheduled a few seconds ahead so `castmill scheduler run --once` publishes it
to the outbox folder; `castmill schedule auto` then fills the client's posting slots with the
rest. Run it after `castmill process`.

    .venv/bin/python scripts/demo_publish.py [--client acme] [--title "Castmill Sample Episode"]
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone

import click
from sqlalchemy import select

from pipeline import calendar, review
from pipeline.access import auth
from pipeline.core.settings import load_settings
from pipeline.store.db import Database
from pipeline.core.errors import CastmillError
from pipeline.store.clients import get_client
from pipeline.store.models import Client, Draft, Episode, ScheduledPost

LEAD_SECONDS = 3


def approve_all(session, client: Client, episode: Episode) -> list[Draft]:
    """Both approval stages for every draft of the episode that breaks no platform rule."""
    va = auth.system_identity("demo VA")
    token = auth.make_review_link_token(session, client.slug, hours=1, actor="demo")
    client_reviewer = auth.identity_from_review_link(session, token)
    approved = []
    drafts = session.scalars(select(Draft).where(Draft.episode_id == episode.id).order_by(Draft.id)).all()
    for draft in drafts:
        card = review.draft_detail(session, va, draft.id)
        if card.violations or card.status == review.APPROVED:
            continue
        if card.status != review.CLIENT_REVIEW:
            review.approve(session, va, draft.id, version=card.version_number)
        review.approve(session, client_reviewer, draft.id, version=card.version_number)
        approved.append(draft)
    return approved


def schedule_one_per_platform(session, drafts: list[Draft], due: datetime) -> list[ScheduledPost]:
    staff, posts, seen = auth.system_identity("demo"), [], set()
    for draft in drafts:
        live = session.scalar(select(ScheduledPost).where(ScheduledPost.draft_id == draft.id,
                                                           ScheduledPost.status != "cancelled"))
        if draft.platform in seen or live is not None:
            continue
        seen.add(draft.platform)
        posts.append(calendar.schedule(session, staff, draft.id, at=due))
    return posts


@click.command()
@click.option("--client", "client_slug", default="acme", show_default=True)
@click.option("--title", default="Castmill Sample Episode", show_default=True, help="The episode to use.")
def main(client_slug: str, title: str) -> None:
    db = Database(load_settings().database_url)
    try:
        with db.session() as session:
            client = get_client(session, client_slug)
            episode = session.scalar(select(Episode).where(Episode.client_id == client.id, Episode.title == title))
            if episode is None:
                raise CastmillError(f"no episode titled {title!r} for client {client_slug}: run castmill process first")
            approved = approve_all(session, client, episode)
            due = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=LEAD_SECONDS + 1)
            posts = schedule_one_per_platform(session, approved, due)
    except CastmillError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"approved {len(approved)} draft(s) (VA, then the client through a review link); "
               f"{len(posts)} scheduled for {due:%H:%M:%S} UTC to the outbox")
    time.sleep(max(0.0, (due - datetime.now(timezone.utc)).total_seconds()) + 0.5)


if __name__ == "__main__":
    main()
