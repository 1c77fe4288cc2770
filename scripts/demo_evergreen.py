#!/usr/bin/env python3
"""`make demo`: mark one published demo post evergreen and run one recycling pass.

Run it after `scripts/demo_publish.py` (which publishes one post per platform to the outbox) and
`castmill schedule auto` (which fills the next weeks' slots: a copy never follows the original directly,
so it needs another post on the platform before it). The demo waits one day instead of [evergreen]
min_interval_days and looks 90 days ahead instead of [evergreen] horizon_days, so the copy lands in the
first free slot after the scheduled posts. The copy goes through review: the
demo VA approves it at both stages (an admin may), then a second pass puts it on the calendar.

    .venv/bin/python scripts/demo_evergreen.py [--client acme]
"""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from pipeline import review
from pipeline.access.identity import system_identity
from pipeline.core.clock import to_local
from pipeline.core.errors import CastmillError
from pipeline.core.settings import load_settings
from pipeline.platforms.longform import LONG_FORM
from pipeline.publish.evergreen import DUPLICATE_REJECTING, mark, recycle
from pipeline.store.clients import get_client
from pipeline.store.db import Database
from pipeline.store.models import Draft, ScheduledPost


@click.command()
@click.option("--client", "client_slug", default="acme", show_default=True)
def main(client_slug: str) -> None:
    settings = load_settings()
    demo_rules = settings.evergreen.model_copy(update={"min_interval_days": 1, "horizon_days": 90})
    va = system_identity("demo VA")
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            client = get_client(session, client_slug)
            post = _published_social_post(session, client.id)
            mark(session, va, post.id)
            click.echo(f"marked post {post.id} evergreen")
            outcomes = recycle(session, va, demo_rules, client_slug=client_slug)
            for outcome in outcomes:
                if outcome.action == "awaiting approval":
                    while review.approved_version(session, outcome.draft_id) is None:
                        review.approve(session, va, outcome.draft_id, version=1)
            outcomes = recycle(session, va, demo_rules, client_slug=client_slug)
            for outcome in outcomes:
                click.echo(outcome.line())
                if outcome.due_at is not None:
                    draft = session.get(Draft, outcome.draft_id)
                    click.echo(f"  repost scheduled at {to_local(outcome.due_at, client.timezone or 'UTC'):%Y-%m-%d %H:%M %Z}"
                               f" on {draft.platform}: {draft.latest.text[:80]!r}")
    except CastmillError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        db.dispose()


def _published_social_post(session, client_id: int) -> ScheduledPost:
    """A published post on a platform that refuses repeats (to show the variation), else any social one."""
    rows = session.execute(select(ScheduledPost, Draft.platform).join(Draft, Draft.id == ScheduledPost.draft_id)
                           .where(ScheduledPost.client_id == client_id, ScheduledPost.status == "published")
                           .order_by(ScheduledPost.id)).all()
    social = [(post, platform) for post, platform in rows
              if platform not in {kind.name for kind in LONG_FORM}]
    preferred = [post for post, platform in social if platform in DUPLICATE_REJECTING]
    if not (preferred or social):
        raise CastmillError("no published social post yet: run scripts/demo_publish.py first")
    return (preferred or [social[0][0]])[0]


if __name__ == "__main__":
    main()
