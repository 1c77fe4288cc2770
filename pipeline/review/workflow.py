"""Review and approval: the rules the dashboard calls (edit, comment, approve, reject …).

The rules, enforced here and not in the UI:

* Two stages: the VA reviews (``draft``), then the client approves (``client_review``).
  A client with ``approval_stages == 1`` skips the VA: its drafts go straight to the client.
* It is someone's turn to approve. The VA stage is approved by a va or admin; the client stage
  by that client's users (or its review link) or an admin. A client may reject or ask for changes
  at any time; a VA only at the VA stage.
* An approval binds to one exact version (the sha256 of its parts, hashtags, media and first comment).
  Any edit creates a new immutable version, voids every approval of the draft and returns it to
  review; only a draft ``approved`` whose latest version carries a live client approval comes out
  of ``approved_version`` (what the calendar and scheduler may publish).
* A version that breaks a platform rule is saved and flagged, but approving it needs an override reason.
* An edit against a version that is no longer the latest raises ``EditConflict`` with a word diff.
* Every state change writes an audit event in the same transaction.

The read side (``queue``, ``draft_detail``, ``versions``, ``comments``) lives in
``pipeline.review.queries`` and is re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pipeline.access import audit
from pipeline.review.options import DEFAULTS
from pipeline.access.permissions import PermissionDenied, check_may_approve, may_send_back
from pipeline.access.auth import Identity, SessionExpired, check_session
from pipeline.core.errors import CastmillError
from pipeline.core.clock import utcnow
from pipeline.store.models import Approval, Client, Comment, Draft, DraftVersion, User
from pipeline.review.diff import DiffToken, word_diff
from pipeline.core.vocab import (APPROVED, CHANGES_REQUESTED, CLIENT_REVIEW, DRAFT, REJECTED, STAGE_CLIENT,
                                 STAGE_VA)
from pipeline.review.queries import (STATUSES, ApprovalInfo, CommentInfo, DraftCard, VersionInfo, comments,
                                     draft_detail, hash_of, latest_version, needs_action_by, queue, version_hash,
                                     versions, violations_of, visible_draft)

MAX_TEXT_CHARS = DEFAULTS.max_text_chars
MAX_COMMENT_CHARS = DEFAULTS.max_comment_chars

__all__ = [
    "APPROVED", "CHANGES_REQUESTED", "CLIENT_REVIEW", "DRAFT", "REJECTED", "STAGE_CLIENT", "STAGE_VA", "STATUSES",
    "ApprovalInfo", "ApprovalRefused", "ApprovalResult", "CommentInfo", "DiffToken", "DraftCard", "EditConflict",
    "EditResult", "ReviewError", "VersionInfo", "approve", "approve_by_rule", "approved_version", "bulk_approve", "comment", "comments",
    "draft_detail", "edit", "hash_of", "latest_version", "needs_action_by", "queue", "reject", "request_changes",
    "version_hash", "versions", "violations_of", "visible_draft", "word_diff",
]


class ReviewError(CastmillError):
    """A review action is refused (wrong turn, rule violations without a reason, empty text …)."""


class EditConflict(ReviewError):
    """The draft has a newer version than the one the edit (or approval) was made on."""

    def __init__(self, draft_id: int, base_version: int, latest_version: int, latest_text: str,
                 attempted_text: str | None, base_text: str):
        self.draft_id = draft_id
        self.base_version = base_version
        self.latest_version = latest_version
        self.latest_text = latest_text
        # latest -> your text (what saving yours would change); None when approving.
        self.diff: list[DiffToken] = word_diff(latest_text, attempted_text) if attempted_text is not None else []
        # your base -> latest (what others changed since you opened it).
        self.changes_since_base: list[DiffToken] = word_diff(base_text, latest_text)
        super().__init__(f"draft {draft_id} changed: version {latest_version} is the latest, not version "
                         f"{base_version}; nothing was saved")


@dataclass(frozen=True)
class EditResult:
    draft_id: int
    version_number: int
    status: str  # the draft's status after the edit
    created: bool  # False: the text was unchanged, no version was added
    violations: list[str]  # the platform rules the new version breaks (it is saved anyway)
    voided_approvals: int


@dataclass(frozen=True)
class ApprovalResult:
    draft_id: int
    version_number: int
    stage: str  # the stage this approval completed: va | client
    status: str  # the draft's status after it: client_review or approved
    override_reason: str
    ok = True  # not a field: lets bulk_approve's results be told apart without isinstance
    error = ""


@dataclass(frozen=True)
class ApprovalRefused:
    draft_id: int
    error: str  # the one-line reason
    ok = False


# --------------------------------------------------------------------------- shared checks

def _require_active(session: Session, identity: Identity) -> None:
    """A signed-in user must still exist with the same role and client, and not be disabled."""
    check_session(identity)
    if identity.user_id is None:
        return  # a review link: its token was checked when the identity was made
    user = session.get(User, identity.user_id)
    if user is None or user.disabled or user.role != identity.role or user.client_id != identity.client_id:
        raise SessionExpired("your account has changed; sign in again")


def _locked(session: Session, identity: Identity, draft_id: int) -> tuple[Draft, Client, DraftVersion]:
    """The draft, its client and its latest version, read after taking the draft row's write lock.

    The no-op UPDATE makes a second writer wait for the first to commit (a row lock on
    PostgreSQL, the database write lock on SQLite), so it sees the first one's version.
    """
    _require_active(session, identity)
    draft = visible_draft(session, identity, draft_id)
    session.execute(update(Draft).where(Draft.id == draft.id).values(updated_at=Draft.updated_at)
                    .execution_options(synchronize_session=False))
    session.refresh(draft)
    latest = latest_version(session, draft.id)
    if latest is None:
        raise ReviewError(f"draft {draft_id} has no text yet")
    return draft, session.get(Client, draft.client_id), latest


def _live_approvals(session: Session, draft_id: int, content_hash: str) -> list[Approval]:
    return list(session.scalars(select(Approval).where(
        Approval.draft_id == draft_id, Approval.decision == APPROVED, Approval.voided_at.is_(None),
        Approval.version_hash == content_hash)))


def _stage_now(client: Client, live: list[Approval]) -> str:
    """Whose approval the latest version needs next."""
    if client.approval_stages == 1 or any(a.stage == STAGE_VA for a in live):
        return STAGE_CLIENT
    return STAGE_VA


def _void_approvals(session: Session, draft_id: int) -> int:
    result = session.execute(update(Approval).where(Approval.draft_id == draft_id, Approval.voided_at.is_(None))
                             .values(voided_at=utcnow()))
    return result.rowcount or 0


def _record(session: Session, identity: Identity, action: str, draft: Draft, *, before: dict, after: dict) -> None:
    audit.record(session, actor=identity.email, action=action, entity_type="draft", entity_id=draft.id,
                 client_id=draft.client_id, user_id=identity.user_id, before=before, after=after)


# --------------------------------------------------------------------------- edit

def edit(session: Session, identity: Identity, draft_id: int, parts: list[str], *, base_version: int,
         hashtags: list[str] | None = None, first_comment: str | None = None) -> EditResult:
    """Save ``parts`` as a new version made on ``base_version``; see the module rules. ``first_comment``:
    None keeps the latest version's, "" removes it."""
    parts = _clean_parts(parts)
    comment_text = None if first_comment is None else _clean_first_comment(first_comment)
    draft, client, latest = _locked(session, identity, draft_id)
    if base_version != latest.number:
        raise EditConflict(draft.id, base_version, latest.number, latest.text, "\n\n".join(parts),
                           _text_of(session, draft.id, base_version))
    tags = list(latest.hashtags or []) if hashtags is None else _clean_hashtags(hashtags)
    comment_text = latest.first_comment or "" if comment_text is None else comment_text
    unchanged = comment_text == (latest.first_comment or "")
    if parts == list(latest.parts) and tags == list(latest.hashtags or []) and unchanged:
        return EditResult(draft.id, latest.number, draft.status, False, _violations(draft, latest), 0)
    version = DraftVersion(draft_id=draft.id, number=latest.number + 1, parts=parts, hashtags=tags,
                           media=list(latest.media or []), first_comment=comment_text, author=identity.email,
                           source="edit")
    session.add(version)
    session.flush()
    session.expire(draft, ["versions"])
    voided = _void_approvals(session, draft.id)
    before = {"status": draft.status, "version": latest.number, "text": latest.text,
              "first_comment": latest.first_comment or ""}
    # Back to the first stage: the VA for two-stage clients (also after a client's own edit).
    draft.status = DRAFT if client.approval_stages == 2 else CLIENT_REVIEW
    draft.updated_at = utcnow()
    _record(session, identity, "draft.edit", draft, before=before,
            after={"status": draft.status, "version": version.number, "text": version.text,
                   "first_comment": version.first_comment, "voided_approvals": voided})
    return EditResult(draft.id, version.number, draft.status, True, _violations(draft, version), voided)


def _violations(draft: Draft, version: DraftVersion) -> list[str]:
    return violations_of(draft.platform, version.parts, version.media, version.first_comment or "")


def _clean_first_comment(text: str) -> str:
    """The first comment as typed, trimmed; "" for none."""
    if not isinstance(text, str):
        raise ReviewError("a first comment is a text")
    if len(text) > MAX_TEXT_CHARS:
        raise ReviewError(f"a first comment may have at most {MAX_TEXT_CHARS:,} characters")
    return text.strip()


def _clean_parts(parts: list[str]) -> list[str]:
    """The posts as typed; blank ones (an emptied thread box) are dropped."""
    if isinstance(parts, str) or not all(isinstance(p, str) for p in parts):
        raise ReviewError("an edit is a list of post texts")
    if any(len(p) > MAX_TEXT_CHARS for p in parts):
        raise ReviewError(f"a post may have at most {MAX_TEXT_CHARS:,} characters")
    kept = [p for p in parts if p.strip()]
    if not kept:
        raise ReviewError("the post is empty: write some text")
    return kept


def _clean_hashtags(hashtags: list[str]) -> list[str]:
    tags = [t.strip() for t in hashtags if isinstance(t, str) and t.strip()]
    return [t if t.startswith("#") else f"#{t}" for t in tags]


def _text_of(session: Session, draft_id: int, number: int) -> str:
    version = session.scalar(select(DraftVersion).where(DraftVersion.draft_id == draft_id,
                                                        DraftVersion.number == number))
    return version.text if version else ""


# --------------------------------------------------------------------------- comments and decisions

def comment(session: Session, identity: Identity, draft_id: int, body: str) -> CommentInfo:
    """A comment on the draft's latest version; the body is stored exactly as typed."""
    if not isinstance(body, str) or not body.strip():
        raise ReviewError("the comment is empty")
    if len(body) > MAX_COMMENT_CHARS:
        raise ReviewError(f"a comment may have at most {MAX_COMMENT_CHARS:,} characters")
    _require_active(session, identity)
    draft = visible_draft(session, identity, draft_id)
    latest = latest_version(session, draft.id)
    if latest is None:
        raise ReviewError(f"draft {draft_id} has no text yet")
    note = Comment(draft_id=draft.id, version_id=latest.id, user_id=identity.user_id, author=identity.email,
                   body=body, created_at=utcnow())
    session.add(note)
    session.flush()
    _record(session, identity, "draft.comment", draft, before={},
            after={"comment_id": note.id, "version": latest.number, "body": body})
    return CommentInfo(note.id, draft.id, latest.number, note.author, note.body, note.created_at)


def request_changes(session: Session, identity: Identity, draft_id: int, reason: str) -> DraftCard:
    """Send the draft back to the VA with what should change; voids its approvals."""
    return _decide(session, identity, draft_id, CHANGES_REQUESTED, reason, "draft.request_changes",
                   "say what should change")


def reject(session: Session, identity: Identity, draft_id: int, reason: str) -> DraftCard:
    """Reject the draft for good (an edit reopens it); voids its approvals."""
    return _decide(session, identity, draft_id, REJECTED, reason, "draft.reject", "give a reason for rejecting")


def _decide(session: Session, identity: Identity, draft_id: int, decision: str, reason: str, action: str,
            missing_reason: str) -> DraftCard:
    if not isinstance(reason, str) or not reason.strip():
        raise ReviewError(missing_reason)
    draft, client, latest = _locked(session, identity, draft_id)
    if draft.status == REJECTED:
        raise ReviewError(f"draft {draft_id} is already rejected; edit it to send it back to review")
    content_hash = hash_of(latest)
    stage = _stage_now(client, _live_approvals(session, draft.id, content_hash))
    if not may_send_back(identity, draft.status, stage):
        raise ReviewError(f"draft {draft_id} is with the client now; edit it to take it back to VA review")
    voided = _void_approvals(session, draft.id)  # earlier approvals no longer stand
    session.add(Approval(draft_id=draft.id, version_id=latest.id, version_hash=content_hash,
                         stage=STAGE_CLIENT if identity.role == "client" else stage, user_id=identity.user_id,
                         actor=identity.email, decision=decision, reason=reason.strip(), at=utcnow()))
    before = {"status": draft.status, "version": latest.number}
    draft.status = decision
    draft.updated_at = utcnow()
    _record(session, identity, action, draft, before=before,
            after={"status": decision, "version": latest.number, "reason": reason.strip(),
                   "voided_approvals": voided})
    session.flush()
    return draft_detail(session, identity, draft.id)


# --------------------------------------------------------------------------- approval

def approve(session: Session, identity: Identity, draft_id: int, *, version: int,
            override_reason: str = "") -> ApprovalResult:
    """Approve ``version`` (it must be the latest) at the stage whose turn it is."""
    draft, client, latest = _locked(session, identity, draft_id)
    if version != latest.number:
        raise EditConflict(draft.id, version, latest.number, latest.text, None, _text_of(session, draft.id, version))
    if draft.status == REJECTED:
        raise ReviewError(f"draft {draft_id} was rejected; edit it to send it back to review")
    content_hash = hash_of(latest)
    live = _live_approvals(session, draft.id, content_hash)
    if draft.status == APPROVED and any(a.stage == STAGE_CLIENT for a in live):
        raise ReviewError(f"draft {draft_id} is already approved (version {latest.number})")
    stage = _stage_now(client, live)
    _check_turn(identity, stage, draft_id)
    override_reason = (override_reason or "").strip()
    problems = _violations(draft, latest)
    if problems and not override_reason:
        raise ReviewError(f"draft {draft_id} breaks {len(problems)} platform rule(s) ({problems[0]}): fix it, "
                          "or approve with an override reason")
    session.add(Approval(draft_id=draft.id, version_id=latest.id, version_hash=content_hash, stage=stage,
                         user_id=identity.user_id, actor=identity.email, decision=APPROVED,
                         override_reason=override_reason, at=utcnow()))
    before = {"status": draft.status, "version": latest.number}
    draft.status = APPROVED if stage == STAGE_CLIENT else CLIENT_REVIEW
    draft.updated_at = utcnow()
    _record(session, identity, "draft.approve", draft, before=before,
            after={"status": draft.status, "stage": stage, "version": latest.number, "version_hash": content_hash,
                   "override_reason": override_reason, "violations": problems})
    session.flush()
    return ApprovalResult(draft.id, latest.number, stage, draft.status, override_reason)


def approve_by_rule(session: Session, draft_id: int, *, actor: str, reason: str) -> ApprovalResult:
    """Approve the latest version at every stage the client has, as Castmill (``actor``) rather than a person,
    because a client's own setting says so (``reason``, audited as ``draft.auto_approve``). Only for drafts
    Castmill made itself (an evergreen copy of a post the client already approved); never a broken version."""
    draft = session.get(Draft, draft_id)
    client = session.get(Client, draft.client_id)
    latest = latest_version(session, draft.id)
    problems = violations_of(draft.platform, latest.parts, latest.media)
    if problems:
        raise ReviewError(f"draft {draft_id} breaks {len(problems)} platform rule(s) ({problems[0]}): "
                          "it needs a person's review")
    content_hash = hash_of(latest)
    stages = (STAGE_CLIENT,) if client.approval_stages == 1 else (STAGE_VA, STAGE_CLIENT)
    for stage in stages:
        session.add(Approval(draft_id=draft.id, version_id=latest.id, version_hash=content_hash, stage=stage,
                             user_id=None, actor=actor, decision=APPROVED, at=utcnow()))
    before = {"status": draft.status, "version": latest.number}
    draft.status, draft.updated_at = APPROVED, utcnow()
    audit.record(session, actor=actor, action="draft.auto_approve", entity_type="draft", entity_id=draft.id,
                 client_id=draft.client_id, before=before,
                 after={"status": APPROVED, "stages": list(stages), "version": latest.number,
                        "version_hash": content_hash, "reason": reason})
    session.flush()
    return ApprovalResult(draft.id, latest.number, STAGE_CLIENT, draft.status, "")


def _check_turn(identity: Identity, stage: str, draft_id: int) -> None:
    try:
        check_may_approve(identity, stage, draft_id)
    except PermissionDenied as exc:
        raise ReviewError(str(exc)) from None


def bulk_approve(session: Session, identity: Identity, draft_ids: list[int]) -> list[ApprovalResult | ApprovalRefused]:
    """Approve the latest version of each draft; one result per draft, refusals with their reason.

    Every check runs before anything is written, so a refused draft is left exactly as it was.
    """
    outcomes: list[ApprovalResult | ApprovalRefused] = []
    for draft_id in dict.fromkeys(draft_ids):
        try:
            visible = visible_draft(session, identity, draft_id)
            latest = latest_version(session, visible.id)
            if latest is None:
                raise ReviewError(f"draft {draft_id} has no text yet")
            outcomes.append(approve(session, identity, draft_id, version=latest.number))
        except CastmillError as exc:
            outcomes.append(ApprovalRefused(draft_id, str(exc)))
    return outcomes


def approved_version(session: Session, draft_id: int) -> DraftVersion | None:
    """The version that may be scheduled, or None.

    Only when the draft is ``approved`` and its latest version's hash equals the hash of a live
    (not voided) client-stage approval of that version. Not scoped: the calendar and scheduler
    call it after scoping the draft themselves.
    """
    draft = session.get(Draft, draft_id)
    if draft is None or draft.status != APPROVED:
        return None
    latest = latest_version(session, draft.id)
    if latest is None:
        return None
    approval = session.scalar(select(Approval.id).where(
        Approval.draft_id == draft.id, Approval.version_id == latest.id, Approval.stage == STAGE_CLIENT,
        Approval.decision == APPROVED, Approval.voided_at.is_(None), Approval.version_hash == hash_of(latest))
        .limit(1))
    return latest if approval is not None else None
