#!/usr/bin/env python3
"""`make demo`: approve the sample episodes' drafts, put them on the calendar, publish some now.

The demo VA approves every draft of the samples that passes its platform's rules, then the
client approves them through a review link (the two stages of a two-stage client). Before that,
the VA gives the first episode's first LinkedIn draft a first comment (hashtags and the episode
link), which the outbox writes beside the post as ``<post>.comment.json``. One draft
per platform is scheduled a few seconds ahead and published by one scheduler pass: social posts,
show notes and the blog post to the outbox folder (the demo client has no accounts), the
newsletter by SMTP to a local mail sink (aiosmtpd on 127.0.0.1, given a newsletter account for
the pass) that keeps each message in ``$CASTMILL_HOME/mail-sink/``. `castmill schedule auto`
then fills the client's posting slots with the rest. Run it after `castmill process`.

    .venv/bin/python scripts/demo_publish.py [--client acme] [--title "Castmill Sample Episode" …]
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

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
# The long sample first: the first approved draft of each platform goes out now, and its newsletter,
# show notes and blog post have chapters.
TITLES = ("Castmill Sample Episode: Three Topics", "Castmill Sample Episode")
NEWSLETTER_FROM = "Acme Podcast <news@acmepodcast.example>"
NEWSLETTER_TO = "listener.one@acmepodcast.example,listener.two@acmepodcast.example"
FIRST_COMMENT_PLATFORM = "linkedin"
FIRST_COMMENT = "#podcast #smallbusiness Full episode: https://acmepodcast.example/episodes/sample"


class MailSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that writes every message it accepts to ``folder``."""

    def __init__(self, folder: Path):
        from aiosmtpd.controller import Controller

        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        path = self.folder / f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}.eml"
        path.write_bytes(envelope.content)
        return "250 2.0.0 kept in the demo mail sink"

    def __enter__(self) -> "MailSink":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def add_first_comment(session, episode: Episode) -> int | None:
    """The VA's edit that gives the episode's first LinkedIn draft a first comment (the id of that draft)."""
    draft = session.scalar(select(Draft).where(Draft.episode_id == episode.id, Draft.platform == FIRST_COMMENT_PLATFORM)
                           .order_by(Draft.id).limit(1))
    if draft is None:
        return None
    va = auth.system_identity("demo VA")
    card = review.draft_detail(session, va, draft.id)
    if card.status == review.APPROVED:
        return None
    review.edit(session, va, draft.id, card.parts, base_version=card.version_number, first_comment=FIRST_COMMENT)
    return draft.id


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
@click.option("--title", "titles", multiple=True, default=TITLES, show_default=True, help="Episodes to use.")
def main(client_slug: str, titles: tuple[str, ...]) -> None:
    settings = load_settings()
    db = Database(settings.database_url)
    with MailSink(settings.home / "mail-sink") as sink:
        try:
            approved, posts, due = approve_and_schedule(db, client_slug, titles, sink.url)
        except CastmillError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        click.echo(f"approved {len(approved)} draft(s) (VA, then the client through a review link); "
                   f"{len(posts)} scheduled for {due:%H:%M:%S} UTC")
        time.sleep(max(0.0, (due - datetime.now(timezone.utc)).total_seconds()) + 0.5)
        report = publish_due(db, settings.home)
    click.echo(f"published {report.published} post(s): to the outbox ({settings.home / 'outbox' / client_slug}) and "
               f"the newsletter by SMTP to the demo mail sink ({sink.folder}: "
               f"{len(list(sink.folder.glob('*.eml')))} message(s))")
    for outcome in report.outcomes:
        if outcome.status != "published":
            click.echo(f"  post {outcome.post_id}: {outcome.status}: {outcome.message}")
    for comment in report.comments:
        where = settings.home / "outbox" / client_slug / f"{comment.remote_id}.json" if comment.remote_id else ""
        click.echo(f"  post {comment.post_id}: first comment {comment.status}" + (f": {where}" if where else "")
                   + (f" ({comment.message})" if comment.message else ""))


def approve_and_schedule(db: Database, client_slug: str, titles: tuple[str, ...], smtp_url: str):
    from pipeline.publish.credentials import add_account

    with db.session() as session:
        client = get_client(session, client_slug)
        add_account(session, client_slug, "newsletter", base_url=smtp_url,
                    extra={"from": NEWSLETTER_FROM, "to": NEWSLETTER_TO, "starttls": "false"})
        approved = []
        for index, title in enumerate(titles):
            episode = session.scalar(select(Episode).where(Episode.client_id == client.id, Episode.title == title))
            if episode is None:
                raise CastmillError(f"no episode titled {title!r} for client {client_slug}: run castmill process first")
            if index == 0:
                add_first_comment(session, episode)
            approved += approve_all(session, client, episode)
        due = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=LEAD_SECONDS + 1)
        return approved, schedule_one_per_platform(session, approved, due), due


def publish_due(db: Database, home: Path):
    """One scheduler pass, as `castmill scheduler run --once` makes it (here, while the mail sink listens)."""
    from pipeline.publish.attempts import default_publisher_factory
    from pipeline.publish.scheduler import Scheduler, SchedulerOptions

    runner = Scheduler(db.session, default_publisher_factory(home), SchedulerOptions(worker="demo"))
    runner.startup()
    return runner.tick()


if __name__ == "__main__":
    main()
