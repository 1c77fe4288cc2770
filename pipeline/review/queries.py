"""Read side of review: the queue, one draft, its versions and comments, scoped by the viewer.

Every function takes the caller's ``Identity``: a client identity sees only its own client's
drafts, and another client's draft id answers exactly like a missing one. The write side
(edit, approve …) is in ``pipeline.review.workflow``, which re-exports everything here.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from pipeline.core.vocab import (APPROVED, CHANGES_REQUESTED, CLIENT_REVIEW, DRAFT, DRAFT_STATUSES, STAGE_CLIENT,
                                 STAGE_VA)
from pipeline.core.clock import as_utc
from pipeline.access.identity import Identity, check_session
from pipeline.access.permissions import client_scope
from pipeline.drafts.queries import get_draft as visible_draft  # the draft if the identity may see it
from pipeline.core.errors import NotFoundError
from pipeline.store.models import Approval, Client, Clip, Comment, Draft, DraftVersion, Episode, Highlight
from pipeline.platforms import UnknownPlatform, get_platform
from pipeline.transcribe.speakers import with_names
from pipeline.clips.stage import framing

# Draft statuses (documented on models.Draft.status).
STATUSES = DRAFT_STATUSES  # re-exported for callers of pipeline.review


@dataclass(frozen=True)
class DraftCard:
    """One draft's latest version with everything the review page shows."""

    draft_id: int
    client_slug: str
    episode_id: int
    episode_title: str
    platform: str
    status: str
    version_number: int
    text: str  # the parts joined by a blank line
    parts: list[str]  # the post, then thread replies
    hashtags: list[str]
    media: list[dict]  # what the post carries: {"kind", "path" (when rendered), "status", "seconds" …}
    highlight_title: str | None  # None for the episode post
    highlight_reasons: list[str]  # speaker labels replaced by the names the VA gave them
    highlight_start: float | None  # seconds into the episode
    highlight_end: float | None
    updated_at: datetime  # UTC
    needs_action_by: str | None  # "va" | "client" | None (approved or rejected)
    client_id: int
    language: str
    highlight_key: str  # "episode" or "<start>-<end>"
    version_hash: str
    # The highlight's rendered files (video, audiogram, audio, thumbnail) for previews: {"kind", "path",
    # "aspect", "format", "framing" (how a video was framed and why)}; the episode post has none.
    clips: list[dict]
    # Who speaks in the highlight, most first, by name (or label "S1" while unnamed); empty when not diarized.
    speakers: list[str] = field(default_factory=list)
    quote_by: str = ""  # who says the pull quote, likewise
    # Set when the post quotes a machine translation of the highlight: {"from", "to" (language codes),
    # "by" (what translated it), "spoken_quote" (the quote as said), "quote" (as translated)}.
    translation: dict | None = None
    first_comment: str = ""  # posted right after the post; part of what is approved

    @cached_property
    def violations(self) -> list[str]:
        """One line per platform rule the latest version breaks. Computed on first use: checking
        takes ~1 ms a draft, and a page shows a few dozen of the queue's hundreds."""
        return violations_of(self.platform, self.parts, self.media, self.first_comment)


@dataclass(frozen=True)
class ApprovalInfo:
    version_number: int
    stage: str  # va | client
    decision: str  # approved | rejected | changes_requested
    actor: str
    reason: str
    override_reason: str
    at: datetime  # UTC
    voided_at: datetime | None  # set when an edit (or a later request for changes) made it stale


@dataclass(frozen=True)
class VersionInfo:
    number: int
    text: str
    parts: list[str]
    hashtags: list[str]
    media: list[dict]
    author: str
    source: str  # "edit", "template <path> sha256:<12>" or "llm <model>"
    created_at: datetime  # UTC
    hash: str
    approvals: list[ApprovalInfo]  # decisions taken on this version, oldest first


@dataclass(frozen=True)
class CommentInfo:
    id: int
    draft_id: int
    version_number: int  # the version that was the latest when the comment was written
    author: str
    body: str  # as typed: show it as text, never as HTML
    created_at: datetime  # UTC


# --------------------------------------------------------------------------- helpers

def version_hash(parts: list[str], hashtags: list[str], media: list[dict], first_comment: str = "") -> str:
    """sha256 of the version's content as canonical JSON: what an approval is bound to. A first comment
    counts only when there is one, so versions without one keep the hash they were approved with."""
    content = {"parts": list(parts), "hashtags": list(hashtags or []), "media": list(media or [])}
    if first_comment:
        content["first_comment"] = first_comment
    blob = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def hash_of(version: DraftVersion) -> str:
    return version_hash(version.parts, version.hashtags, version.media, version.first_comment or "")


def violations_of(platform_name: str, parts: list[str], media: list[dict], first_comment: str = "") -> list[str]:
    """The platform rules a text (and its first comment) breaks, checked like the drafts stage checks them."""
    from pipeline.drafts.generate import posts_of

    try:
        platform = get_platform(platform_name)
    except UnknownPlatform as exc:
        return [str(exc)]
    found = platform.validate(posts_of(list(parts), list(media or [])))
    return [v.message for v in found + platform.validate_first_comment(first_comment or "")]


def needs_action_by(status: str, approval_stages: int) -> str | None:
    if status == DRAFT:
        return STAGE_VA if approval_stages == 2 else STAGE_CLIENT
    if status == CLIENT_REVIEW:
        return STAGE_CLIENT
    if status == CHANGES_REQUESTED:
        return STAGE_VA  # the VA edits (or approves it again as it is)
    return None


def _scoped(query: Select, identity: Identity) -> Select:
    return client_scope(query, identity, Draft.client_id)


def latest_version(session: Session, draft_id: int) -> DraftVersion | None:
    return session.scalar(select(DraftVersion).where(DraftVersion.draft_id == draft_id)
                          .order_by(DraftVersion.number.desc()).limit(1))


# --------------------------------------------------------------------------- queue

def _card_query() -> Select:
    newest = (select(DraftVersion.draft_id, func.max(DraftVersion.number).label("number"))
              .group_by(DraftVersion.draft_id).subquery())
    return (select(Draft, DraftVersion, Client.slug, Client.approval_stages, Episode.title, Highlight.title,
                   Highlight.reasons, Highlight.start, Highlight.end, Highlight.quote, Highlight.translation,
                   Highlight.speakers, Highlight.quote_by, Episode.speaker_names)
            .join(newest, newest.c.draft_id == Draft.id)
            .join(DraftVersion, (DraftVersion.draft_id == Draft.id) & (DraftVersion.number == newest.c.number))
            .join(Client, Client.id == Draft.client_id)
            .join(Episode, Episode.id == Draft.episode_id)
            .outerjoin(Highlight, Highlight.id == Draft.highlight_id))


def queue(session: Session, identity: Identity, *, client_slug: str | None = None, episode_id: int | None = None,
          platform: str | None = None, statuses: list[str] | tuple[str, ...] | None = None) -> list[DraftCard]:
    """Drafts the identity may see, newest episode first, then platform; two queries in all."""
    check_session(identity)
    query = _scoped(_card_query(), identity).order_by(Draft.episode_id.desc(), Draft.platform, Draft.id)
    if client_slug:
        query = query.where(Client.slug == client_slug)
    if episode_id is not None:
        query = query.where(Draft.episode_id == episode_id)
    if platform:
        query = query.where(Draft.platform == platform.strip().lower())
    if statuses:
        query = query.where(Draft.status.in_(list(statuses)))
    return _cards(session, session.execute(query).all())


def draft_detail(session: Session, identity: Identity, draft_id: int) -> DraftCard:
    check_session(identity)
    rows = session.execute(_scoped(_card_query(), identity).where(Draft.id == draft_id)).all()
    if not rows:
        raise NotFoundError(f"no draft {draft_id}")
    return _cards(session, rows)[0]


def _cards(session: Session, rows) -> list[DraftCard]:
    clips = _clips_by_subject(session, {row[0].episode_id for row in rows})
    return [_card(row, clips) for row in rows]


def _card(row, clips: dict) -> DraftCard:
    (draft, version, slug, stages, episode_title, h_title, h_reasons, h_start, h_end, h_quote, h_translation,
     h_speakers, h_quote_by, names) = row
    names = names or {}
    return DraftCard(
        draft_id=draft.id, client_slug=slug, episode_id=draft.episode_id, episode_title=episode_title or "",
        platform=draft.platform, status=draft.status, version_number=version.number, text=version.text,
        parts=list(version.parts), hashtags=list(version.hashtags or []), media=[dict(m) for m in version.media or []],
        highlight_title=(h_translation or {}).get("title", h_title), highlight_reasons=[with_names(r, names) for r in h_reasons or []],
        highlight_start=h_start, highlight_end=h_end, updated_at=as_utc(draft.updated_at),
        needs_action_by=needs_action_by(draft.status, stages or 2),
        client_id=draft.client_id, language=draft.language, highlight_key=draft.highlight_key,
        version_hash=hash_of(version), clips=clips.get((draft.episode_id, draft.highlight_key), []),
        translation=_translation_label(h_translation, h_quote), first_comment=version.first_comment or "",
        speakers=[names.get(s) or s for s in h_speakers or []], quote_by=names.get(h_quote_by or "") or h_quote_by or "",
    )


def _translation_label(translation: dict | None, spoken_quote: str | None) -> dict | None:
    if not translation:
        return None
    return {"from": translation["from"], "to": translation["to"], "by": translation["by"],
            "spoken_quote": spoken_quote or "", "quote": translation["quote"]}


def _clips_by_subject(session: Session, episode_ids: set[int]) -> dict[tuple[int, str], list[dict]]:
    if not episode_ids:
        return {}
    rows = session.execute(
        select(Clip.episode_id, Clip.highlight_key, Clip.kind, Clip.aspect, Clip.format, Clip.path, Clip.probe)
        .where(Clip.episode_id.in_(sorted(episode_ids)), Clip.status == "ready").order_by(Clip.id))
    found: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for episode_id, key, kind, aspect, fmt, path, probe in rows:
        found[(episode_id, key)].append({"kind": kind, "aspect": aspect, "format": fmt, "path": path,
                                         "framing": framing(probe)})
    return found


# --------------------------------------------------------------------------- history

def versions(session: Session, identity: Identity, draft_id: int) -> list[VersionInfo]:
    """Every version of the draft, oldest first, each with the decisions taken on it."""
    draft = visible_draft(session, identity, draft_id)
    rows = list(session.scalars(select(DraftVersion).where(DraftVersion.draft_id == draft.id)
                                .order_by(DraftVersion.number)))
    numbers = {v.id: v.number for v in rows}
    decisions: dict[int, list[ApprovalInfo]] = defaultdict(list)
    for a in session.scalars(select(Approval).where(Approval.draft_id == draft.id).order_by(Approval.at, Approval.id)):
        decisions[a.version_id].append(ApprovalInfo(
            numbers.get(a.version_id, 0), a.stage, a.decision, a.actor, a.reason, a.override_reason, as_utc(a.at),
            as_utc(a.voided_at) if a.voided_at else None))
    return [VersionInfo(v.number, v.text, list(v.parts), list(v.hashtags or []), list(v.media or []), v.author,
                        v.source, as_utc(v.created_at), hash_of(v), decisions.get(v.id, [])) for v in rows]


def comments(session: Session, identity: Identity, draft_id: int) -> list[CommentInfo]:
    """The draft's comments, oldest first."""
    draft = visible_draft(session, identity, draft_id)
    rows = session.execute(select(Comment, DraftVersion.number)
                           .join(DraftVersion, DraftVersion.id == Comment.version_id)
                           .where(Comment.draft_id == draft.id).order_by(Comment.created_at, Comment.id))
    return [CommentInfo(c.id, c.draft_id, number, c.author, c.body, as_utc(c.created_at)) for c, number in rows]


# --------------------------------------------------------------------------- waiting for the client

@dataclass(frozen=True)
class AwaitingClient:
    """A draft whose next step is the client's approval, and since when (what reminders count from)."""

    draft_id: int
    client_id: int
    platform: str
    episode_title: str
    version_number: int  # the version the client is asked to approve
    since: datetime  # UTC: when that version reached the client (its VA approval, or its making for one stage)


def awaiting_client(session: Session, *, client_id: int | None = None) -> list[AwaitingClient]:
    """Every draft waiting for its client's approval (``needs_action_by`` says "client"), oldest first.

    That is a draft in ``client_review``, or a one-stage client's draft in ``draft``. It waits since its
    latest version was made or, when later, since the VA approved that version: an edit restarts the wait,
    and so does the VA approving again after changes were requested.
    """
    newest = (select(DraftVersion.draft_id, func.max(DraftVersion.number).label("number"))
              .group_by(DraftVersion.draft_id).subquery())
    query = (select(Draft.id, Draft.client_id, Draft.platform, Episode.title, DraftVersion.id, DraftVersion.number,
                    DraftVersion.created_at)
             .join(newest, newest.c.draft_id == Draft.id)
             .join(DraftVersion, and_(DraftVersion.draft_id == Draft.id, DraftVersion.number == newest.c.number))
             .join(Client, Client.id == Draft.client_id)
             .join(Episode, Episode.id == Draft.episode_id)
             .where(or_(Draft.status == CLIENT_REVIEW, and_(Draft.status == DRAFT, Client.approval_stages == 1))))
    if client_id is not None:
        query = query.where(Draft.client_id == client_id)
    rows = session.execute(query).all()
    va_approved = _va_approval_times(session, [row[4] for row in rows])
    waiting = [AwaitingClient(draft_id, owner, platform, title or "", number,
                              max([as_utc(made)] + ([va_approved[version_id]] if version_id in va_approved else [])))
               for draft_id, owner, platform, title, version_id, number, made in rows]
    return sorted(waiting, key=lambda w: (w.since, w.draft_id))


def _va_approval_times(session: Session, version_ids: list[int]) -> dict[int, datetime]:
    """The latest standing VA approval of each version."""
    if not version_ids:
        return {}
    rows = session.execute(select(Approval.version_id, func.max(Approval.at))
                           .where(Approval.version_id.in_(version_ids), Approval.stage == STAGE_VA,
                                  Approval.decision == APPROVED, Approval.voided_at.is_(None))
                           .group_by(Approval.version_id))
    return {version_id: as_utc(at) for version_id, at in rows}


@dataclass(frozen=True)
class SentBack:
    """A client's standing request for changes on a draft (the draft is back with the VA)."""

    draft_id: int
    client_id: int
    platform: str
    episode_title: str
    decision_id: int  # the approval row that records it: one notice per decision
    actor: str  # who asked: a client user's email, or "review link <client>"
    reason: str
    at: datetime  # UTC


def sent_back_by_client(session: Session, *, client_id: int | None = None) -> list[SentBack]:
    """Drafts in ``changes_requested`` whose request came from the client's side, oldest first. An edit voids
    the request, so a draft the VA has already reworked is not listed."""
    query = (select(Draft.id, Draft.client_id, Draft.platform, Episode.title, Approval.id, Approval.actor,
                    Approval.reason, Approval.at)
             .join(Approval, Approval.draft_id == Draft.id)
             .join(Episode, Episode.id == Draft.episode_id)
             .where(Draft.status == CHANGES_REQUESTED, Approval.decision == CHANGES_REQUESTED,
                    Approval.stage == STAGE_CLIENT, Approval.voided_at.is_(None))
             .order_by(Approval.at, Approval.id))
    if client_id is not None:
        query = query.where(Draft.client_id == client_id)
    return [SentBack(draft_id, owner, platform, title or "", decision_id, actor, reason or "", as_utc(at))
            for draft_id, owner, platform, title, decision_id, actor, reason, at in session.execute(query)]
