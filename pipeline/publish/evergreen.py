"""Evergreen posts: published posts the VA marks for recycling, and the recycler that queues copies of them.

The rules, enforced here:

* Only staff mark or unmark, and only a published post; every change is audited.
* A copy goes into a FREE posting slot of the client, strictly in the future (after downtime nothing is
  queued in the past, so nothing fires in a burst), no sooner than ``min_interval_days`` after the text
  last went out, within ``max_per_week`` copies per platform per week (the client's Monday to Sunday),
  and never right after another copy of the same text on that platform.
* Platforms that refuse a repeated text (X, Bluesky, LinkedIn) get a deterministic variation: a short
  phrase before the first line and the hashtags rotated, checked against the platform's limits and
  different from the last copy.
* Recycling stops for good, with a one-line reason, when the original post is gone or no longer
  published, or when the client's account for the platform is not the one the original went out on.
* Every copy is a new draft reviewed like any other (VA, then client) and scheduled by the next pass
  once approved; a client whose profile says ``auto_approve`` gets it approved by Castmill, audited so.
* Same data and same clock give the same schedule: evergreen posts are taken by client and id, slots in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline import review
from pipeline.access import audit
from pipeline.access.identity import Identity
from pipeline.access.permissions import client_scope, require_staff
from pipeline.calendar.scheduling import account_for, free_slots, schedule
from pipeline.access.identity import system_identity
from pipeline.core.clock import Clock, as_utc, system_clock, to_local, to_utc, utcnow
from pipeline.core.errors import CastmillError, NotFoundError
from pipeline.core.vocab import PUBLISHED, REJECTED, TAKES_SLOT
from pipeline.publish.options import EvergreenOptions
from pipeline.store.models import (Account, Client, Draft, DraftVersion, EvergreenPost, EvergreenRepost,
                                   ScheduledPost)

# Platforms that refuse a text identical to an earlier post of the account.
DUPLICATE_REJECTING = frozenset({"x", "bluesky", "linkedin"})
# Put before a copy's first line on those platforms, the copy's number choosing (so consecutive copies differ).
ARCHIVE_PHRASES = ("From the archive:", "In case you missed it:", "Worth another listen:", "Still true today:")
AUTO_APPROVER = "evergreen auto-approve"  # the actor of approvals Castmill gives on the client's say-so
OPEN_POST = ("scheduled", "publishing", "unknown")  # a copy's post that may still go out

__all__ = ["ARCHIVE_PHRASES", "DUPLICATE_REJECTING", "EvergreenError", "EvergreenInfo", "RecycleOutcome",
           "evergreen_of", "list_evergreen", "mark", "recycle", "recycle_pass", "unmark", "vary"]


class EvergreenError(CastmillError):
    """A post cannot be marked evergreen, or a copy cannot be made, as asked."""


@dataclass(frozen=True)
class EvergreenInfo:
    evergreen_id: int
    client_slug: str
    post_id: int | None
    platform: str
    active: bool
    stop_reason: str
    copies: int


@dataclass(frozen=True)
class RecycleOutcome:
    client_slug: str
    evergreen_id: int
    action: str  # scheduled | awaiting approval | waiting | stopped | no slot
    message: str
    draft_id: int | None = None
    post_id: int | None = None
    due_at: datetime | None = None

    def line(self) -> str:
        return f"{self.client_slug} evergreen {self.evergreen_id}: {self.action}: {self.message}"


# --- marking ------------------------------------------------------------------------------------

def _visible_post(session: Session, identity: Identity, post_id: int) -> ScheduledPost:
    post = session.get(ScheduledPost, post_id)
    if post is None or not identity.can_see_client(post.client_id):
        raise NotFoundError(f"no post {post_id}")
    return post


def mark(session: Session, identity: Identity, post_id: int) -> EvergreenPost:
    """Mark the published post ``post_id`` evergreen (again, when it was unmarked). Staff only."""
    require_staff(identity, "mark posts evergreen")
    post = _visible_post(session, identity, post_id)
    if post.status != PUBLISHED:
        raise EvergreenError(f"post {post_id} is {post.status}: only a published post can be marked evergreen")
    if session.scalar(select(EvergreenRepost.id).where(EvergreenRepost.post_id == post.id)) is not None:
        raise EvergreenError(f"post {post_id} is itself a recycled copy: mark its original instead")
    row = session.scalar(select(EvergreenPost).where(EvergreenPost.post_id == post.id))
    before = _state(row) if row else None
    if row is None:
        row = EvergreenPost(client_id=post.client_id, post_id=post.id, platform=session.get(Draft, post.draft_id).platform,
                            account_id=post.account_id, account_handle=_handle(session, post.account_id),
                            marked_by=identity.email, marked_at=utcnow())
        session.add(row)
    elif not row.active and row.stop_reason:
        raise EvergreenError(f"post {post_id} stopped being recycled ({row.stop_reason}); it cannot be marked again")
    row.active = True
    session.flush()
    _audit(session, identity.email, identity.user_id, "evergreen.mark", row, before, _state(row))
    return row


def _handle(session: Session, account_id: int | None) -> str:
    account = session.get(Account, account_id) if account_id is not None else None
    return account.handle if account else ""


def unmark(session: Session, identity: Identity, post_id: int) -> EvergreenPost:
    """Stop recycling ``post_id``; copies already on the calendar stay (cancel them there). Staff only."""
    require_staff(identity, "unmark evergreen posts")
    post = _visible_post(session, identity, post_id)
    row = session.scalar(select(EvergreenPost).where(EvergreenPost.post_id == post.id))
    if row is None:
        raise NotFoundError(f"post {post_id} is not marked evergreen")
    before = _state(row)
    row.active = False
    session.flush()
    _audit(session, identity.email, identity.user_id, "evergreen.unmark", row, before, _state(row))
    return row


def list_evergreen(session: Session, identity: Identity, client_slug: str | None = None) -> list[EvergreenInfo]:
    """The evergreen posts ``identity`` may see (a client sees its own), oldest mark first."""
    query = client_scope(select(EvergreenPost, Client.slug).join(Client, Client.id == EvergreenPost.client_id),
                         identity, EvergreenPost.client_id)
    if client_slug:
        query = query.where(Client.slug == client_slug)
    rows = session.execute(query.order_by(EvergreenPost.id)).all()
    return [_info(session, row, slug) for row, slug in rows]


def evergreen_of(session: Session, identity: Identity, post_id: int) -> EvergreenInfo | None:
    """The evergreen mark of one post ``identity`` may see (None: never marked); another client's is "no post"."""
    post = _visible_post(session, identity, post_id)
    row = session.scalar(select(EvergreenPost).where(EvergreenPost.post_id == post.id))
    return None if row is None else _info(session, row, session.get(Client, row.client_id).slug)


def _info(session: Session, row: EvergreenPost, client_slug: str) -> EvergreenInfo:
    return EvergreenInfo(row.id, client_slug, row.post_id, row.platform, row.active, row.stop_reason,
                         len(_copies(session, row)))


def _state(row: EvergreenPost) -> dict:
    return {"post_id": row.post_id, "platform": row.platform, "account_id": row.account_id,
            "account_handle": row.account_handle, "active": row.active,
            "stop_reason": row.stop_reason}


def _audit(session: Session, actor: str, user_id: int | None, action: str, row: EvergreenPost, before, after) -> None:
    audit.record(session, actor=actor, action=action, entity_type="evergreen", entity_id=row.id,
                 client_id=row.client_id, user_id=user_id, before=before, after=after)


# --- variation ----------------------------------------------------------------------------------

def vary(platform: str, parts: list[str], hashtags: list[str], media: list[dict], number: int,
         last_parts: list[str]) -> tuple[list[str], list[str]]:
    """The text of copy ``number`` (1, 2 …): the original's on platforms that accept a repeat; elsewhere a
    phrase before the first line and the hashtags rotated, within the platform's limits and unlike
    ``last_parts`` (the previous copy's text). EvergreenError when no phrase fits."""
    if platform not in DUPLICATE_REJECTING:
        return list(parts), list(hashtags)
    tags = _rotated(hashtags, number)
    for k in range(len(ARCHIVE_PHRASES)):
        phrase = ARCHIVE_PHRASES[(number - 1 + k) % len(ARCHIVE_PHRASES)]
        candidate = [f"{phrase} {_rotate_tag_line(parts[0], number)}", *parts[1:]]
        if candidate != list(last_parts) and not review.violations_of(platform, candidate, media):
            return candidate, tags
    raise EvergreenError(f"no variation of this {platform} post fits the platform's limits: shorten the original "
                         "or unmark it")


def _rotated(items: list[str], number: int) -> list[str]:
    if not items:
        return []
    shift = number % len(items)
    return list(items[shift:]) + list(items[:shift])


def _rotate_tag_line(text: str, number: int) -> str:
    """``text`` with its last line rotated when that line is nothing but hashtags."""
    head, sep, last = text.rpartition("\n")
    words = last.split()
    if len(words) < 2 or not all(w.startswith("#") for w in words):
        return text
    return f"{head}{sep}{' '.join(_rotated(words, number))}"


# --- recycling ----------------------------------------------------------------------------------

def recycle(session: Session, identity: Identity, settings, *, client_slug: str | None = None,
            now: datetime | None = None) -> list[RecycleOutcome]:
    """One pass over the active evergreen posts (of ``client_slug``, or every client's). Staff only.

    ``settings``: the ``[evergreen]`` table; each client's profile lays its own fields over it."""
    require_staff(identity, "recycle evergreen posts")
    now = as_utc(now or utcnow())
    query = (select(EvergreenPost).join(Client, Client.id == EvergreenPost.client_id)
             .where(EvergreenPost.active.is_(True)).order_by(Client.slug, EvergreenPost.id))
    if client_slug:
        query = query.where(Client.slug == client_slug)
    outcomes = []
    for row in list(session.scalars(query)):
        client = session.get(Client, row.client_id)
        options = EvergreenOptions.from_settings(settings, client.evergreen_settings)
        outcomes.append(_recycle_one(session, identity, row, client, options, now))
    return outcomes


def recycle_pass(session_factory, settings, *, clock: Clock = system_clock,
                 client_slug: str | None = None) -> list[RecycleOutcome]:
    """One pass in its own transaction, as Castmill ("evergreen" in the audit trail): the scheduler's hourly
    job and `castmill evergreen run`. ``settings``: the ``[evergreen]`` table."""
    with session_factory() as session:
        return recycle(session, system_identity("evergreen"), settings, client_slug=client_slug, now=clock())


def _recycle_one(session: Session, identity: Identity, row: EvergreenPost, client: Client,
                 options: EvergreenOptions, now: datetime) -> RecycleOutcome:
    def outcome(action: str, message: str, **more) -> RecycleOutcome:
        return RecycleOutcome(client.slug, row.id, action, message, **more)

    reason = _hard_stop(session, row, client)
    if reason:
        _stop(session, identity, row, reason)
        return outcome("stopped", reason)
    pending = _open_copy(session, row)
    if pending is not None and pending.post_id is not None:
        return outcome("waiting", f"copy {pending.number} is on the calendar (post {pending.post_id})",
                       draft_id=pending.draft_id, post_id=pending.post_id)
    if pending is not None and review.approved_version(session, pending.draft_id) is None:
        return outcome("waiting", f"copy {pending.number} (draft {pending.draft_id}) awaits approval",
                       draft_id=pending.draft_id)
    slot = _first_slot(session, row, client, options, now)
    if slot is None:
        return outcome("no slot", "no free slot within the interval, the weekly cap and the horizon yet")
    if pending is None:
        try:
            pending = _new_copy(session, identity, row, client)
        except EvergreenError as exc:
            _stop(session, identity, row, str(exc))
            return outcome("stopped", str(exc))
        if not options.auto_approve:
            return outcome("awaiting approval", f"copy {pending.number} is draft {pending.draft_id}, for review",
                           draft_id=pending.draft_id)
        try:
            review.approve_by_rule(session, pending.draft_id, actor=AUTO_APPROVER,
                                   reason="the client's profile says evergreen auto_approve")
        except review.ReviewError as exc:
            return outcome("awaiting approval", f"copy {pending.number} is draft {pending.draft_id}: {exc}",
                           draft_id=pending.draft_id)
    return _schedule_copy(session, identity, pending, client, slot, now, outcome)


def _schedule_copy(session, identity, copy: EvergreenRepost, client: Client, slot: datetime, now: datetime,
                   outcome) -> RecycleOutcome:
    account = account_for(session, client, session.get(Draft, copy.draft_id).platform)
    post = schedule(session, identity, copy.draft_id, at=slot, account_name=account.name if account else None,
                    now=now)
    copy.post_id = post.id
    session.flush()
    return outcome("scheduled", f"copy {copy.number} (draft {copy.draft_id}) is post {post.id} at "
                                f"{to_local(slot, client.timezone or 'UTC'):%Y-%m-%d %H:%M %Z}",
                   draft_id=copy.draft_id, post_id=post.id, due_at=slot)


# --- hard stops ---------------------------------------------------------------------------------

def _hard_stop(session: Session, row: EvergreenPost, client: Client) -> str:
    """Why this post may never be recycled again, or ""."""
    original = session.get(ScheduledPost, row.post_id) if row.post_id is not None else None
    if original is None or session.get(Draft, original.draft_id) is None:
        return "the original post was deleted"
    if original.status != PUBLISHED:
        return f"the original post is {original.status} now, not published"
    account = account_for(session, client, row.platform)
    if (account.id if account else None) != row.account_id or (account.handle if account else "") != row.account_handle:
        return f"the client's {row.platform} account changed since the original went out"
    return ""


def _stop(session: Session, identity: Identity, row: EvergreenPost, reason: str) -> None:
    before = _state(row)
    row.active, row.stop_reason = False, reason
    session.flush()
    _audit(session, identity.email, identity.user_id, "evergreen.stop", row, before, _state(row))


# --- copies -------------------------------------------------------------------------------------

def _copies(session: Session, row: EvergreenPost) -> list[EvergreenRepost]:
    return list(session.scalars(select(EvergreenRepost).where(EvergreenRepost.evergreen_id == row.id)
                                .order_by(EvergreenRepost.number)))


def _open_copy(session: Session, row: EvergreenPost) -> EvergreenRepost | None:
    """The copy still under way: in review or approved and unplaced, or on the calendar and not yet out."""
    for copy in reversed(_copies(session, row)):
        if copy.post_id is not None:
            post = session.get(ScheduledPost, copy.post_id)
            if post is not None and post.status in OPEN_POST:
                return copy
            continue
        draft = session.get(Draft, copy.draft_id)
        if draft is not None and draft.status != REJECTED:
            return copy
    return None


def _new_copy(session: Session, identity: Identity, row: EvergreenPost, client: Client) -> EvergreenRepost:
    original_post = session.get(ScheduledPost, row.post_id)
    original = session.get(Draft, original_post.draft_id)
    source = session.get(DraftVersion, original_post.version_id)
    copies = _copies(session, row)
    number = (copies[-1].number if copies else 0) + 1
    last = session.get(Draft, copies[-1].draft_id).latest.parts if copies else source.parts
    parts, hashtags = vary(row.platform, list(source.parts), list(source.hashtags or []), list(source.media or []),
                           number, list(last))
    draft = Draft(client_id=client.id, episode_id=original.episode_id, highlight_id=original.highlight_id,
                  highlight_key=f"evergreen {row.id}.{number}", platform=original.platform,
                  language=original.language, status="draft", created_at=utcnow(), updated_at=utcnow())
    session.add(draft)
    session.flush()
    session.add(DraftVersion(draft_id=draft.id, number=1, parts=parts, hashtags=hashtags,
                             media=list(source.media or []), author=identity.email,
                             source=f"evergreen copy {number} of post {original_post.id}", created_at=utcnow()))
    copy = EvergreenRepost(client_id=client.id, evergreen_id=row.id, number=number, draft_id=draft.id,
                           created_at=utcnow())
    session.add(copy)
    session.flush()
    audit.record(session, actor=identity.email, action="evergreen.copy", entity_type="draft", entity_id=draft.id,
                 client_id=client.id, user_id=identity.user_id, before=None,
                 after={"evergreen_id": row.id, "copy": number, "original_post_id": original_post.id,
                        "status": draft.status})
    return copy


# --- placing ------------------------------------------------------------------------------------

def _first_slot(session: Session, row: EvergreenPost, client: Client, options: EvergreenOptions,
                now: datetime) -> datetime | None:
    """The first free future slot the rules allow for a copy of ``row``, or None within the horizon."""
    chain = _chain_posts(session, row)
    went_out = [_out_at(post) for post in chain if post.status in TAKES_SLOT]
    earliest = max([now, *(t + timedelta(days=options.min_interval_days) for t in went_out)])
    end = now + timedelta(days=options.horizon_days)
    chain_ids = {post.id for post in chain}
    for slot in free_slots(session, client, row.platform, earliest - timedelta(seconds=1), end):
        if slot <= now:
            continue
        if _copies_in_week(session, client, row.platform, slot) >= options.max_per_week:
            continue
        if _neighbour_is_same_text(session, client, row.platform, slot, chain_ids):
            continue
        return slot
    return None


def _out_at(post: ScheduledPost) -> datetime:
    return as_utc(post.published_at or post.due_at)


def _chain_posts(session: Session, row: EvergreenPost) -> list[ScheduledPost]:
    """The original post and every copy's post: the same text on the platform."""
    ids = [row.post_id] + [copy.post_id for copy in _copies(session, row) if copy.post_id is not None]
    return [post for post in (session.get(ScheduledPost, i) for i in ids if i is not None) if post is not None]


def _platform_posts(client: Client, platform: str):
    return (select(ScheduledPost).join(Draft, Draft.id == ScheduledPost.draft_id)
            .where(ScheduledPost.client_id == client.id, Draft.platform == platform,
                   ScheduledPost.status.in_(TAKES_SLOT)))


def _copies_in_week(session: Session, client: Client, platform: str, slot: datetime) -> int:
    """Copies of any evergreen post of the client on ``platform`` in ``slot``'s week (Monday, client's zone)."""
    tz = client.timezone or "UTC"
    local = to_local(slot, tz)
    monday = datetime.combine(local.date() - timedelta(days=local.weekday()), datetime.min.time())
    start, end = to_utc(monday, tz), to_utc(monday + timedelta(days=7), tz)
    query = (_platform_posts(client, platform)
             .join(EvergreenRepost, EvergreenRepost.post_id == ScheduledPost.id)
             .where(ScheduledPost.due_at >= start, ScheduledPost.due_at < end))
    return len(list(session.scalars(query)))


def _neighbour_is_same_text(session: Session, client: Client, platform: str, slot: datetime,
                            chain_ids: set[int]) -> bool:
    """Whether the post just before ``slot`` on the platform, or just after it, is this same text."""
    before = session.scalar(_platform_posts(client, platform).where(ScheduledPost.due_at < slot)
                            .order_by(ScheduledPost.due_at.desc(), ScheduledPost.id.desc()).limit(1))
    after = session.scalar(_platform_posts(client, platform).where(ScheduledPost.due_at > slot)
                           .order_by(ScheduledPost.due_at, ScheduledPost.id).limit(1))
    return any(post is not None and post.id in chain_ids for post in (before, after))
