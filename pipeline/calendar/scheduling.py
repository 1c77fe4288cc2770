"""The publishing calendar: posting slots, time zones, scheduling approved drafts, calendar views.

Time rules (every function here follows them):

- Instants are stored and compared in UTC (``ScheduledPost.due_at``); a zone name travels
  with them only to show local times.
- A naive local time is read with ``fold=0`` (PEP 495), which gives:
  * a time inside a spring-forward gap moves forward by the length of the gap:
    02:30 on the US spring-forward day is 03:30 EDT (07:30 UTC); 02:15 on Lord Howe's
    30-minute change is 02:45;
  * a time in the repeated autumn hour is its first occurrence (still summer time):
    01:30 on the US fall-back day is 01:30 EDT (05:30 UTC).
- Due times are whole seconds (the iCal feed cannot carry fractions).

Every function that reads or changes posts takes the caller's ``Identity`` and is scoped by
it: a client identity sees and changes only its own client's posts, and another client's
post id is "not found", exactly like a missing one.
"""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pipeline import review
from pipeline.access import audit
from pipeline.core.clock import UTC, WEEKDAYS, as_utc, to_local, to_utc, utcnow, whole_seconds
from pipeline.calendar.options import DEFAULTS
from pipeline.core.vocab import CANCELLABLE, LIVE, OUTBOX, RESCHEDULABLE, TAKES_SLOT
from pipeline.access.auth import Identity, check_session
from pipeline.core.errors import CastmillError, NotFoundError
from pipeline.store.models import Account, Approval, Client, Draft, DraftVersion, EvergreenRepost, ScheduledPost

SLOT_SEARCH_DAYS = DEFAULTS.slot_search_days
PREVIEW_CHARS = DEFAULTS.preview_chars

__all__ = ["ScheduleError", "account_for", "auto_schedule", "cancel", "free_slots", "next_free_slot", "reschedule", "resolve",
           "schedule", "slot_times"]


class ScheduleError(CastmillError):
    """A post cannot be scheduled, rescheduled or cancelled as asked."""


# --- slots --------------------------------------------------------------------------------------

def slot_times(client: Client, platform: str, start_utc: datetime, end_utc: datetime) -> list[datetime]:
    """UTC instants of the client's recurring ``platform`` slots in [start_utc, end_utc), sorted."""
    start, end = as_utc(start_utc), as_utc(end_utc)
    slots = [s for s in client.posting_slots or [] if s["platform"] == platform]
    if not slots or end <= start:
        return []
    tz = client.timezone or "UTC"
    found = set()
    for day in _local_days(start, end, tz):
        weekday = WEEKDAYS[day.weekday()]
        for slot in slots:
            if weekday in slot["days"]:
                instant = to_utc(datetime.combine(day, time.fromisoformat(slot["time"])), tz)
                if start <= instant < end:
                    found.add(instant)
    return sorted(found)


def _local_days(start: datetime, end: datetime, tz: str):
    """Every local calendar day of ``tz`` that overlaps [start, end), with a day's margin each side."""
    day = to_local(start, tz).date() - timedelta(days=1)
    last = to_local(end, tz).date() + timedelta(days=1)
    while day <= last:
        yield day
        day += timedelta(days=1)


def next_free_slot(session: Session, client: Client, platform: str, after_utc: datetime) -> datetime:
    """The first slot of ``client`` on ``platform`` strictly after ``after_utc`` that no post occupies."""
    after = as_utc(after_utc) + timedelta(seconds=1)
    end = after + timedelta(days=SLOT_SEARCH_DAYS)
    candidates = slot_times(client, platform, after, end)
    if not candidates:
        raise ScheduleError(f"client {client.slug} has no posting slots for {platform}: "
                            "pass a time (--at) or add posting_slots to the client's profile")
    taken = _taken_instants(session, client.id, platform, candidates[0], candidates[-1])
    for instant in candidates:
        if instant not in taken:
            return instant
    raise ScheduleError(f"every {platform} slot of client {client.slug} in the next {SLOT_SEARCH_DAYS} days is taken")


def _taken_instants(session: Session, client_id: int, platform: str, first: datetime, last: datetime) -> set[datetime]:
    rows = session.scalars(
        select(ScheduledPost.due_at)
        .join(Draft, Draft.id == ScheduledPost.draft_id)
        .where(ScheduledPost.client_id == client_id, Draft.platform == platform,
               ScheduledPost.status.in_(TAKES_SLOT), ScheduledPost.due_at >= first, ScheduledPost.due_at <= last))
    return {as_utc(value) for value in rows}


# --- scoping ------------------------------------------------------------------------------------

def _client_by_slug(session: Session, identity: Identity, slug: str) -> Client:
    client = session.scalar(select(Client).where(Client.slug == slug))
    if client is None or not identity.can_see_client(client.id):
        raise NotFoundError(f"unknown client {slug!r}")
    return client


def _post_for(session: Session, identity: Identity, post_id: int) -> ScheduledPost:
    post = session.get(ScheduledPost, post_id)
    if post is None or not identity.can_see_client(post.client_id):
        raise NotFoundError(f"no scheduled post {post_id}")
    return post


# --- scheduling ---------------------------------------------------------------------------------

def schedule(session: Session, identity: Identity, draft_id: int, *, at: datetime | None = None,
             tz: str | None = None, account_name: str | None = None, late_minutes: int = DEFAULTS.late_minutes,
             now: datetime | None = None) -> ScheduledPost:
    """Put the approved version of a draft on the calendar.

    ``at``: naive = local to ``tz`` (default the client's zone), aware = that instant,
    None = the client's next free posting slot for the draft's platform.
    """
    check_session(identity)
    now = as_utc(now or utcnow())
    draft = review.visible_draft(session, identity, draft_id)
    version = _claim_draft(session, draft)
    client = session.get(Client, draft.client_id)
    zone_name = tz or client.timezone or "UTC"
    due = _due_instant(session, client, draft.platform, at, zone_name, now)
    return _create_post(session, identity, draft, version, client, due, zone_name,
                        _account_for(session, client, draft.platform, account_name), late_minutes)


def _claim_draft(session: Session, draft: Draft) -> DraftVersion:
    """The draft's approved version, checked under the draft row's write lock (the one review edits take),
    so an edit or a second scheduling cannot slip in between the checks and the new post."""
    session.execute(update(Draft).where(Draft.id == draft.id).values(updated_at=Draft.updated_at)
                    .execution_options(synchronize_session=False))
    session.refresh(draft)
    version = _approved(session, draft)
    _refuse_second_post(session, draft)
    return version


def _approved(session: Session, draft: Draft) -> DraftVersion:
    version = review.approved_version(session, draft.id)
    if version is None:
        raise ScheduleError(f"draft {draft.id} is not approved (status {draft.status}): "
                            "only an approved version can be scheduled")
    return version


def _refuse_second_post(session: Session, draft: Draft) -> None:
    live = session.scalar(select(ScheduledPost).where(ScheduledPost.draft_id == draft.id,
                                                      ScheduledPost.status.in_(LIVE)).limit(1))
    if live is None:
        return
    if live.status == "published":
        raise ScheduleError(f"draft {draft.id} was already published (post {live.id})")
    raise ScheduleError(f"draft {draft.id} already has post {live.id} ({live.status}): "
                        f"use `castmill calendar reschedule {live.id} --at …` to move it")


def _due_instant(session: Session, client: Client, platform: str, at: datetime | None, zone_name: str,
                 now: datetime) -> datetime:
    if at is None:
        return next_free_slot(session, client, platform, now)
    return _chosen_instant(at, zone_name, now)


def _chosen_instant(at: datetime, zone_name: str, now: datetime) -> datetime:
    """``at`` as UTC (naive = local to ``zone_name``), refused when it is not in the future."""
    due = whole_seconds(to_utc(at, zone_name) if at.tzinfo is None else at.astimezone(UTC))
    if due <= now:
        shown = to_local(due, zone_name).strftime("%Y-%m-%d %H:%M %Z")
        raise ScheduleError(f"{shown} is in the past; pick a later time")
    return due


def _account_for(session: Session, client: Client, platform: str, name: str | None) -> Account | None:
    """The client's account for ``platform`` (the named one, else "default", else the first); None = outbox."""
    accounts = list(session.scalars(select(Account).where(Account.client_id == client.id,
                                                           Account.platform == platform).order_by(Account.name)))
    if name is not None:
        chosen = next((a for a in accounts if a.name == name), None)
        if chosen is None:
            known = ", ".join(a.name for a in accounts) or "none"
            raise NotFoundError(f"client {client.slug} has no {platform} account {name!r} (known: {known})")
        return chosen
    return next((a for a in accounts if a.name == "default"), accounts[0] if accounts else None)


def _create_post(session: Session, identity: Identity, draft: Draft, version: DraftVersion, client: Client,
                 due: datetime, zone_name: str, account: Account | None, late_minutes: int) -> ScheduledPost:
    if late_minutes < 0:
        raise ScheduleError("late minutes cannot be negative")
    post = ScheduledPost(client_id=client.id, draft_id=draft.id, version_id=version.id,
                         account_id=account.id if account else None,
                         platform=account.platform if account else OUTBOX, due_at=due, timezone=zone_name,
                         status="scheduled", idempotency_key=secrets.token_hex(16), late_minutes=late_minutes,
                         created_at=utcnow(), updated_at=utcnow())
    session.add(post)
    session.flush()
    _audit(session, identity, "post.schedule", post, before=None, after=_snapshot(post))
    return post


def reschedule(session: Session, identity: Identity, post_id: int, *, at: datetime, tz: str | None = None,
               now: datetime | None = None) -> ScheduledPost:
    """Move a scheduled, missed or failed post to ``at`` (naive = local to ``tz``, default the client's zone)."""
    check_session(identity)
    now = as_utc(now or utcnow())
    post = _post_for(session, identity, post_id)
    _require_status(post, RESCHEDULABLE, "rescheduled")
    approved = review.approved_version(session, post.draft_id)
    if approved is None or approved.id != post.version_id:
        raise ScheduleError(f"draft {post.draft_id} changed since post {post.id} was scheduled: cancel the post, "
                            "approve the draft again and schedule it anew")
    zone_name = tz or session.get(Client, post.client_id).timezone or "UTC"
    due = _chosen_instant(at, zone_name, now)
    before = _snapshot(post)
    _conditional_update(session, post, RESCHEDULABLE, "rescheduled",
                        due_at=due, timezone=zone_name, status="scheduled", error="", attempts=0,
                        next_attempt_at=None, lease_until=None, worker="", notified_at=None)
    _audit(session, identity, "post.reschedule", post, before=before, after=_snapshot(post))
    return post


def cancel(session: Session, identity: Identity, post_id: int, reason: str) -> ScheduledPost:
    """Take a scheduled, missed or failed post off the calendar; the reason goes to the audit trail."""
    if not reason.strip():
        raise ScheduleError("say why the post is cancelled (a reason is required)")
    check_session(identity)
    post = _post_for(session, identity, post_id)
    _require_status(post, CANCELLABLE, "cancelled")
    before = _snapshot(post)
    _conditional_update(session, post, CANCELLABLE, "cancelled", status="cancelled", lease_until=None)
    _audit(session, identity, "post.cancel", post, before=before, after=_snapshot(post) | {"reason": reason.strip()})
    return post


def _require_status(post: ScheduledPost, allowed: tuple[str, ...], verb: str) -> None:
    if post.status not in allowed:
        raise ScheduleError(f"post {post.id} is {post.status}: only {', '.join(allowed)} posts can be {verb}")


def _conditional_update(session: Session, post: ScheduledPost, allowed: tuple[str, ...], verb: str,
                        **values) -> None:
    """One UPDATE guarded by the status, so a scheduler claiming the post meanwhile wins cleanly."""
    result = session.execute(
        update(ScheduledPost).where(ScheduledPost.id == post.id, ScheduledPost.status.in_(allowed))
        .values(updated_at=utcnow(), **values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.refresh(post)
        raise ScheduleError(f"post {post.id} became {post.status} meanwhile and cannot be {verb}")
    session.refresh(post)


def _snapshot(post: ScheduledPost) -> dict:
    return {"status": post.status, "due_at": as_utc(post.due_at).isoformat(), "timezone": post.timezone,
            "platform": post.platform, "account_id": post.account_id, "version_id": post.version_id}


def _audit(session: Session, identity: Identity, action: str, post: ScheduledPost, *, before, after) -> None:
    audit.record(session, actor=identity.email, action=action, entity_type="post", entity_id=post.id,
                 client_id=post.client_id, user_id=identity.user_id, before=before, after=after)


# --- auto-scheduling ----------------------------------------------------------------------------

def auto_schedule(session: Session, identity: Identity, client_slug: str, *, horizon_days: int = DEFAULTS.horizon_days,
                  now: datetime | None = None) -> list[ScheduledPost]:
    """Fill the client's free posting slots in the next ``horizon_days`` with approved, unscheduled
    drafts, per platform, oldest approval first. Drafts beyond the free slots wait for the next run."""
    check_session(identity)
    now = as_utc(now or utcnow())
    client = _client_by_slug(session, identity, client_slug)
    created = []
    for platform, drafts in _waiting_drafts(session, client).items():
        free = _free_slots(session, client, platform, now, now + timedelta(days=horizon_days))
        account = _account_for(session, client, platform, None)
        for draft in drafts:
            if not free:
                break
            try:
                version = _claim_draft(session, draft)
            except ScheduleError:
                continue  # edited or scheduled by someone else since the query
            created.append(_create_post(session, identity, draft, version, client, free.pop(0),
                                        client.timezone or "UTC", account, late_minutes=DEFAULTS.late_minutes))
    return created


def _waiting_drafts(session: Session, client: Client) -> dict[str, list[Draft]]:
    """Approved drafts of the client without a live post, by platform, oldest final approval first."""
    approved_at = (select(Approval.draft_id, func.max(Approval.at).label("at"))
                   .where(Approval.decision == "approved", Approval.voided_at.is_(None))
                   .group_by(Approval.draft_id).subquery())
    has_post = select(ScheduledPost.id).where(ScheduledPost.draft_id == Draft.id, ScheduledPost.status.in_(LIVE))
    # Evergreen copies are placed by the recycler (weekly cap, interval, never twice in a row), not here.
    is_copy = select(EvergreenRepost.id).where(EvergreenRepost.draft_id == Draft.id)
    rows = session.execute(
        select(Draft).join(approved_at, approved_at.c.draft_id == Draft.id)
        .where(Draft.client_id == client.id, Draft.status == "approved", ~has_post.exists(), ~is_copy.exists())
        .order_by(approved_at.c.at, Draft.id)).scalars()
    waiting: dict[str, list[Draft]] = {}
    for draft in rows:
        waiting.setdefault(draft.platform, []).append(draft)
    return waiting


def free_slots(session: Session, client: Client, platform: str, start: datetime, end: datetime) -> list[datetime]:
    """The client's ``platform`` slots strictly after ``start`` and before ``end`` that no post occupies."""
    return _free_slots(session, client, platform, as_utc(start), as_utc(end))


def account_for(session: Session, client: Client, platform: str) -> Account | None:
    """The account a post of ``platform`` goes out on by default ("default", else the first; None = outbox)."""
    return _account_for(session, client, platform, None)


def _free_slots(session: Session, client: Client, platform: str, start: datetime, end: datetime) -> list[datetime]:
    candidates = slot_times(client, platform, start + timedelta(seconds=1), end)
    if not candidates:
        return []
    taken = _taken_instants(session, client.id, platform, candidates[0], candidates[-1])
    return [instant for instant in candidates if instant not in taken]


def resolve(session: Session, identity: Identity, post_id: int, *, published: bool, note: str,
            url: str = "", now: datetime | None = None) -> ScheduledPost:
    """A person's answer for a post left ``unknown`` (the platform could not say whether it went out).

    published: it is on the platform (``url`` where it is); otherwise it did not go out and the
    post becomes ``failed``, ready to be rescheduled or cancelled. Staff only; audited with the note.
    """
    check_session(identity)
    if not identity.is_staff:
        raise ScheduleError("only the VA or an admin can resolve a post")
    if not note.strip():
        raise ScheduleError("say how you checked (a note is required)")
    post = _post_for(session, identity, post_id)
    _require_status(post, ("unknown",), "resolved")
    before = _snapshot(post)
    if published:
        values = dict(status="published", remote_url=url, published_at=as_utc(now or utcnow()), error="")
    else:
        values = dict(status="failed", error=f"not published (checked by {identity.email}: {note.strip()}); "
                                             "reschedule or cancel it")
    _conditional_update(session, post, ("unknown",), "resolved", lease_until=None, **values)
    session.refresh(post)
    _audit(session, identity, "post.resolve", post, before=before, after=_snapshot(post) | {"note": note.strip()})
    return post
