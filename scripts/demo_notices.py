#!/usr/bin/env python3
"""`make demo`: a client's approval is awaited past its deadline, and one notices pass reminds them by email.

Run after `scripts/demo_publish.py` and `castmill schedule auto`: the demo VA rewords one of the client's
scheduled posts and approves the new version, so the post waits for the client again with its slot coming up.
One pass of the notices (what every `castmill scheduler run` pass does) runs as of that draft's reminder
deadline (at once if it has passed) and mails the client user a reminder with a fresh review link through a
local SMTP sink (aiosmtpd on 127.0.0.1, the one `demo_publish.py` uses) that keeps each message in
``$CASTMILL_HOME/mail-sink/``. The delivered reminder's file and subject are printed.

    .venv/bin/python scripts/demo_notices.py [--client acme]
"""

from __future__ import annotations

import secrets
import sys
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import click
from sqlalchemy import select

from demo_publish import MailSink  # the same sink, in scripts/
from pipeline import review
from pipeline.access import auth
from pipeline.core.clock import utcnow
from pipeline.core.errors import CastmillError
from pipeline.core.settings import NotifySettings, load_settings
from pipeline.publish.notices import NoticeService, reminder_deadline
from pipeline.publish.options import NoticeOptions
from pipeline.review.queries import awaiting_client
from pipeline.store.clients import get_client
from pipeline.store.db import Database
from pipeline.store.models import Client, Draft, ScheduledPost, User

SENDER = "Castmill <castmill@castmill.test>"


def ensure_client_user(session, slug: str) -> str:
    """The client's first user, or ``client@<slug>.test`` made now (demo_users.py gives it a password later)."""
    client = get_client(session, slug)
    email = session.scalar(select(User.email).where(User.client_id == client.id, User.disabled.is_(False))
                           .order_by(User.id).limit(1))
    if email:
        return email
    email = f"client@{slug}.test"
    auth.add_user(session, email, secrets.token_urlsafe(16), "client", client_slug=slug,
                  display_name=f"Demo client ({slug})", actor="demo_notices")
    return email


def waiting_draft(session, slug: str) -> int:
    """A draft of the client waiting for its approval: one already waiting, or a scheduled one the VA rewords."""
    client = get_client(session, slug)
    waiting = awaiting_client(session, client_id=client.id)
    if waiting:
        return waiting[0].draft_id
    draft = session.scalar(select(Draft).join(ScheduledPost, ScheduledPost.draft_id == Draft.id)
                           .where(Draft.client_id == client.id, Draft.status == review.APPROVED,
                                  ScheduledPost.status == "scheduled").order_by(ScheduledPost.due_at).limit(1))
    if draft is None:
        raise CastmillError(f"client {slug} has no scheduled post: run demo_publish.py and `castmill schedule auto`")
    va = auth.system_identity("demo VA")
    latest = review.latest_version(session, draft.id)
    parts = list(latest.parts)
    parts[0] = parts[0].rstrip() + " \u2014 now with the guest's name."
    edited = review.edit(session, va, draft.id, parts, base_version=latest.number)
    if edited.status == review.DRAFT:  # two stages: the VA approves the new version, then it is the client's turn
        review.approve(session, va, draft.id, version=edited.version_number,
                       override_reason="demo: a small rewording" if edited.violations else "")
    return draft.id


def pass_time(session, draft_id: int, options: NoticeOptions):
    """The draft's reminder deadline, or now when that has passed: the moment the demo's pass runs at."""
    [waiting] = [w for w in awaiting_client(session) if w.draft_id == draft_id]
    slot = session.scalar(select(ScheduledPost.due_at).where(ScheduledPost.draft_id == draft_id,
                                                               ScheduledPost.status == "scheduled"))
    client = session.get(Client, waiting.client_id)
    deadline = reminder_deadline(waiting.since, slot, options.for_client(client.reminder_settings))
    return max(utcnow(), deadline + timedelta(minutes=1))


@click.command()
@click.option("--client", "client_slug", default="acme", show_default=True)
def main(client_slug: str) -> None:
    settings = load_settings()
    db = Database(settings.database_url)
    options = NoticeOptions.from_settings(settings.notices)
    try:
        with db.session() as session:
            email = ensure_client_user(session, client_slug)
            draft_id = waiting_draft(session, client_slug)
        with db.session() as session:
            at = pass_time(session, draft_id, options)
    except CastmillError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    with MailSink(settings.home / "mail-sink") as sink:
        before = set(sink.folder.glob("*.eml"))
        service = NoticeService(db.session, email=NotifySettings(smtp_host="127.0.0.1", smtp_port=sink.port,
                                                                 email_from=SENDER),
                                options=options, public_url=settings.server.public_url, home=settings.home,
                                worker="demo")
        report = service.run(now=at)
    click.echo(f"draft {draft_id} waits for {client_slug}'s approval; one notices pass as of {at:%Y-%m-%d %H:%M} UTC: "
               f"{report.queued} queued, {report.delivered} sent, {report.failed} failed")
    show_reminders(sorted(set(sink.folder.glob("*.eml")) - before), email, draft_id)


def show_reminders(paths: list[Path], email: str, draft_id: int) -> None:
    found = False
    for path in paths:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == email and f"draft={draft_id}" in message.get_content():
            click.echo(f"reminder to {email}: {path}\n  Subject: {message['Subject']}")
            found = True
    if not found:
        click.echo(f"no new reminder for draft {draft_id}: it was already reminded in this period "
                   "(`castmill notices list` shows the outbox)")


if __name__ == "__main__":
    main()
