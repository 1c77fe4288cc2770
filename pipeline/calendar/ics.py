"""A client's posts as an iCalendar (RFC 5545) feed, built with the ``icalendar`` package.

One VEVENT per post, cancelled ones included (STATUS:CANCELLED tells a subscribed calendar
to drop the event). The feed is a pure function of the database rows: no "now" in it
(DTSTAMP is the post's last change), events in due order, so an unchanged calendar
exports byte for byte the same.
"""

from __future__ import annotations

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.calendar.scheduling import as_utc
from pipeline.store.clients import get_client
from pipeline.store.models import Draft, DraftVersion, ScheduledPost

PRODID = "-//Castmill//Publishing calendar//EN"
SUMMARY_CHARS = 60
# RFC 5545 VEVENT STATUS has three values; our own status travels in X-CASTMILL-STATUS.
ICAL_STATUS = {"scheduled": "CONFIRMED", "publishing": "CONFIRMED", "published": "CONFIRMED",
               "unknown": "TENTATIVE", "failed": "TENTATIVE", "missed": "TENTATIVE", "cancelled": "CANCELLED"}


def client_feed(session: Session, client_slug: str) -> bytes:
    client = get_client(session, client_slug)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Castmill: {client.name}")
    calendar.add("x-wr-timezone", client.timezone or "UTC")
    rows = session.execute(
        select(ScheduledPost, Draft.platform, DraftVersion.parts)
        .join(Draft, Draft.id == ScheduledPost.draft_id)
        .join(DraftVersion, DraftVersion.id == ScheduledPost.version_id)
        .where(ScheduledPost.client_id == client.id)
        .order_by(ScheduledPost.due_at, ScheduledPost.id))
    for post, platform, parts in rows:
        calendar.add_component(_event(post, platform, "\n\n".join(parts or [])))
    return calendar.to_ical()


def _event(post: ScheduledPost, platform: str, text: str) -> Event:
    event = Event()
    event.add("uid", f"{post.idempotency_key}@castmill")
    event.add("dtstamp", as_utc(post.updated_at or post.created_at))
    event.add("dtstart", as_utc(post.due_at))
    event.add("summary", summary(platform, text))
    event.add("description", text)
    event.add("status", ICAL_STATUS.get(post.status, "TENTATIVE"))
    event.add("x-castmill-status", post.status)
    if post.remote_url:
        event.add("url", post.remote_url)
    return event


def summary(platform: str, text: str) -> str:
    """``"<platform>: <first words>"`` on one line."""
    line = " ".join(text.split())
    if len(line) > SUMMARY_CHARS:
        line = line[:SUMMARY_CHARS - 1].rstrip() + "…"
    return f"{platform}: {line}"
