"""Posting-slot proposals: stored from ``best_time``'s analysis, then accepted or rejected by the VA.

``propose`` stores one proposal per platform that has one (an identical open proposal is kept instead
of a second; a different one supersedes it). ``accept`` replaces that platform's slots in the client's
profile through ``profiles.edit.save_profile`` (validated and audited like any profile edit), only while
the slots are still those the proposal was made against; ``reject`` records the decision. Every change
writes an audit event. Staff only (``permissions.require_staff``); listing is scoped by ``client_scope``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.access import audit
from pipeline.access.identity import Identity, check_session
from pipeline.access.permissions import client_scope, require_staff
from pipeline.core.clock import as_utc
from pipeline.core.errors import CastmillError, NotFoundError
from pipeline.core.vocab import ACCEPTED, PROPOSED, REJECTED, SUPERSEDED
from pipeline.profiles.edit import save_profile
from pipeline.publish.best_time import Analysis, analyse_client, format_rate, group_slots
from pipeline.publish.options import BestTimeOptions
from pipeline.store.clients import get_client
from pipeline.store.models import Client, SlotProposal

ENTITY = "slot_proposal"


class ProposalError(CastmillError):
    """A slot proposal cannot be decided as asked (already decided, or the slots changed since)."""


@dataclass(frozen=True)
class Outcome:
    """One platform's analysis and the stored proposal it gave (None: no proposal, ``analysis.reason`` says why)."""

    analysis: Analysis
    proposal_id: int | None = None
    reused: bool = False  # an identical open proposal was there already


def propose(session: Session, identity: Identity, client_slug: str, *, now: datetime,
            options: BestTimeOptions | None = None, platform: str | None = None) -> list[Outcome]:
    require_staff(identity, "propose posting slots")
    outcomes = []
    for analysis in analyse_client(session, client_slug, now=now, options=options, platform=platform):
        if not analysis.has_proposal:
            outcomes.append(Outcome(analysis))
            continue
        outcomes.append(_store(session, identity, analysis, now))
    return outcomes


def _store(session: Session, identity: Identity, analysis: Analysis, now: datetime) -> Outcome:
    client = get_client(session, analysis.client_slug)
    slots, current = analysis.posting_slots(), analysis.current_posting_slots()
    evidence = analysis.evidence()
    for open_row in _open_proposals(session, client.id, analysis.platform):
        if open_row.slots == slots and open_row.current_slots == current:
            return Outcome(analysis, open_row.id, reused=True)
        open_row.status, open_row.decided_by, open_row.decided_at = SUPERSEDED, identity.email, as_utc(now)
    row = SlotProposal(client_id=client.id, platform=analysis.platform, slots=slots, current_slots=current,
                       evidence=evidence, created_at=as_utc(now), status=PROPOSED)
    session.add(row)
    session.flush()
    audit.record(session, actor=identity.email, action="slots.propose", entity_type=ENTITY, entity_id=row.id,
                 client_id=client.id, user_id=identity.user_id, before={"posting_slots": current},
                 after={"posting_slots": slots})
    return Outcome(analysis, row.id)


def _open_proposals(session: Session, client_id: int, platform: str) -> list[SlotProposal]:
    return list(session.scalars(select(SlotProposal).where(
        SlotProposal.client_id == client_id, SlotProposal.platform == platform, SlotProposal.status == PROPOSED)
        .order_by(SlotProposal.id)))


def accept(session: Session, identity: Identity, proposal_id: int, *, now: datetime) -> SlotProposal:
    """Make the proposal's slots the client's slots for its platform."""
    require_staff(identity, "accept posting-slot proposals")
    row = _undecided(session, proposal_id)
    client = session.get(Client, row.client_id)
    current = platform_slots(client, row.platform)
    if current != row.current_slots:
        raise ProposalError(f"the {row.platform} slots of {client.slug} changed since proposal {row.id} was made; "
                            f"run `castmill slots propose --client {client.slug}` again")
    others = [slot for slot in client.posting_slots or [] if slot["platform"] != row.platform]
    save_profile(session, identity, client.slug, posting_slots=others + list(row.slots))
    _decide(session, identity, row, ACCEPTED, now, before=current)
    return row


def reject(session: Session, identity: Identity, proposal_id: int, *, now: datetime) -> SlotProposal:
    """Turn the proposal down; the client's slots stay."""
    require_staff(identity, "reject posting-slot proposals")
    row = _undecided(session, proposal_id)
    _decide(session, identity, row, REJECTED, now, before=list(row.current_slots))
    return row


def _undecided(session: Session, proposal_id: int) -> SlotProposal:
    row = session.get(SlotProposal, proposal_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"no slot proposal {proposal_id}")
    if row.status != PROPOSED:
        who = f" by {row.decided_by}" if row.decided_by else ""
        when = f" on {as_utc(row.decided_at):%Y-%m-%d %H:%M} UTC" if row.decided_at else ""
        raise ProposalError(f"slot proposal {proposal_id} was already {row.status}{who}{when}; "
                            "make a new one with `castmill slots propose`")
    return row


def _decide(session: Session, identity: Identity, row: SlotProposal, status: str, now: datetime, *,
            before: list) -> None:
    row.status, row.decided_by, row.decided_at = status, identity.email, as_utc(now)
    after = list(row.slots) if status == ACCEPTED else before
    audit.record(session, actor=identity.email, action=f"slots.{'accept' if status == ACCEPTED else 'reject'}",
                 entity_type=ENTITY, entity_id=row.id, client_id=row.client_id, user_id=identity.user_id,
                 before={"posting_slots": before}, after={"posting_slots": after, "status": status})
    session.flush()


def platform_slots(client: Client, platform: str) -> list[dict]:
    """The client's ``platform`` slots, in the form proposals store (one entry per time, days Monday first)."""
    return group_slots(platform, [(day, slot["time"]) for slot in client.posting_slots or []
                                  if slot["platform"] == platform for day in slot["days"]])


def proposals(session: Session, identity: Identity, client_slug: str, *, status: str | None = None
              ) -> list[SlotProposal]:
    """The client's proposals, newest first; a client identity sees only its own client's."""
    check_session(identity)
    client = get_client(session, client_slug)
    query = client_scope(select(SlotProposal).where(SlotProposal.client_id == client.id), identity,
                         SlotProposal.client_id)
    if status:
        query = query.where(SlotProposal.status == status)
    return list(session.scalars(query.order_by(SlotProposal.id.desc())))


def open_proposal_ids(session: Session, client_id: int) -> dict[str, int]:
    """platform -> the id of its open proposal (the report's "accept with" line)."""
    rows = session.execute(select(SlotProposal.platform, SlotProposal.id).where(
        SlotProposal.client_id == client_id, SlotProposal.status == PROPOSED).order_by(SlotProposal.id))
    return {platform: proposal_id for platform, proposal_id in rows}


def explanation(row: SlotProposal) -> list[str]:
    """Why the proposal was made, in lines from its stored evidence: what was measured, and each new slot's
    rate with its range against the current slots'."""
    evidence = row.evidence or {}
    measure = evidence.get("measure", "")
    baseline = evidence.get("baseline") or {}
    lines = [f"From {evidence.get('posts', 0)} posts measured {measure.replace('_', ' ')}; the current slots "
             f"({', '.join(evidence.get('current', [])) or 'none'}) get {format_rate(measure, baseline.get('rate'))}."]
    for slot in evidence.get("slots", []):
        if not slot.get("new"):
            continue
        replaces = f", replaces {slot['replaces']}" if slot.get("replaces") else ""
        lines.append(f"{slot['day']} {slot['time']}: {slot['posts']} posts, {format_rate(measure, slot['rate'])} "
                     f"({format_rate(measure, slot['low'])} – {format_rate(measure, slot['high'])}){replaces}.")
    return lines
