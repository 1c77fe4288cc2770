"""Rows for calendar tests: clients with posting slots, drafts with versions, posts."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from pipeline.store.clients import build_profile, upsert_client
from pipeline.store.models import Client, Draft, DraftVersion, Episode, ScheduledPost

NY_WEEKDAYS_0900 = [{"platform": "x", "days": ["mon", "wed", "fri"], "time": "09:00"}]


def add_client(session: Session, slug: str, tz: str = "UTC", slots: list[dict] | None = None,
               approval_stages: int = 1) -> Client:
    profile = build_profile(slug=slug, name=slug.title(), timezone=tz, posting_slots=slots or [],
                            platforms=sorted({s["platform"] for s in slots or []}), approval_stages=approval_stages)
    client, _created = upsert_client(session, profile)
    client.approval_stages = approval_stages
    session.flush()
    return client


def add_draft(session: Session, client: Client, platform: str = "x", text: str = "A post about the episode",
              *, parts: list[str] | None = None) -> Draft:
    episode = Episode(client_id=client.id, source_uri="file:///ep.mp3", media_path="/tmp/ep.mp3",
                      sha256=secrets.token_hex(32), title="Episode")
    session.add(episode)
    session.flush()
    draft = Draft(client_id=client.id, episode_id=episode.id, highlight_key=secrets.token_hex(4), platform=platform,
                  language="en", status="draft")
    session.add(draft)
    session.flush()
    session.add(DraftVersion(draft_id=draft.id, number=1, parts=parts or [text], author="generator",
                             source="template test"))
    session.flush()
    session.refresh(draft)
    return draft


def add_post(session: Session, draft: Draft, due: datetime, status: str = "scheduled") -> ScheduledPost:
    """A post row written directly (for slot bookkeeping tests that do not go through approval)."""
    post = ScheduledPost(client_id=draft.client_id, draft_id=draft.id, version_id=draft.latest.id, platform="outbox",
                         due_at=due, status=status, idempotency_key=secrets.token_hex(16))
    session.add(post)
    session.flush()
    return post


def staff_identity(session: Session, email: str = "anna@example.com", role: str = "admin"):
    """A signed-in admin (or va): made the honest way, through add_user and login."""
    from pipeline.access.auth import add_user, login

    add_user(session, email, PASSWORD, role)
    return login(session, email, PASSWORD)


def client_identity(session: Session, client_slug: str, email: str | None = None):
    from pipeline.access.auth import add_user, login

    email = email or f"owner@{client_slug}.example"
    add_user(session, email, PASSWORD, "client", client_slug)
    return login(session, email, PASSWORD)


def approve(session: Session, identity, draft: Draft) -> Draft:
    """Approve the draft's latest version through pipeline.review.workflow (admin: both stages if needed)."""
    from pipeline import review

    while review.approved_version(session, draft.id) is None:
        review.approve(session, identity, draft.id, version=review.latest_version(session, draft.id).number)
    return draft


def approved_draft(session: Session, identity, client: Client, platform: str = "x",
                   text: str = "A post about the episode") -> Draft:
    return approve(session, identity, add_draft(session, client, platform, text))


@dataclass(frozen=True)
class Race:
    first_post_id: int
    second_waited: bool  # the second person was still blocked while the first's transaction was open
    second: dict  # {"post": id} or {"error": message}


def schedule_at_once(db, identity, draft_id: int, now: datetime) -> Race:
    """Two people schedule one draft at the same time: the second starts while the first has not committed."""
    from pipeline.calendar import ScheduleError, schedule

    second: dict = {}

    def second_person():
        try:
            with db.session() as session:
                second["post"] = schedule(session, identity, draft_id, now=now).id
        except ScheduleError as exc:
            second["error"] = str(exc)

    with db.session() as first:
        post = schedule(first, identity, draft_id, now=now)
        other = threading.Thread(target=second_person)
        other.start()
        other.join(timeout=1.0)  # it waits for the draft's lock while the first is open
        waited = other.is_alive()
    other.join(timeout=30)
    return Race(post.id, waited, second)


PASSWORD = "correct horse battery"
