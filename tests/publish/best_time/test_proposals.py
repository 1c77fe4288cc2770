"""Stored slot proposals: the VA accepts (the client's slots change, audited) or rejects (recorded);
a client identity can do neither; the CLI drives the same functions."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from pipeline.access import audit
from pipeline.access.permissions import PermissionDenied
from pipeline.core.errors import NotFoundError
from pipeline.profiles.edit import save_profile
from pipeline.publish.slot_proposals import ProposalError, accept, proposals, propose, reject
from pipeline.store.clients import get_client
from pipeline.store.db import Database
from pipeline.store.models import SlotProposal
from tests.helpers.calendar import add_client, client_identity, staff_identity
from tests.helpers.cli import castmill
from tests.helpers.engagement import NOW
from tests.publish.best_time.conftest import CURRENT, seed_truth

X_SLOTS = [{"platform": "x", "days": ["tue"], "time": "10:00"}]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, castmill_home):
    url = (f"sqlite:///{castmill_home / 'castmill.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    database = Database(url)
    seed_truth(database)
    yield database
    database.dispose()


def linkedin_proposal(session, identity) -> int:
    outcomes = {o.analysis.platform: o for o in propose(session, identity, "acme", now=NOW)}
    assert outcomes["x"].proposal_id is None and "0 published posts" in outcomes["x"].analysis.reason
    return outcomes["linkedin"].proposal_id


def test_a_va_accepts_and_the_clients_linkedin_slots_change_audited(db):
    with db.session() as session:
        va = staff_identity(session, "va@castmill.test", "va")
        proposal_id = linkedin_proposal(session, va)
    with db.session() as session:
        row = session.get(SlotProposal, proposal_id)
        assert row.status == "proposed" and row.evidence["posts"] == 120
        assert row.current_slots == [CURRENT[0]]
        proposed = list(row.slots)
        assert {("tue", "09:00"), ("thu", "17:00")} <= {(d, s["time"]) for s in proposed for d in s["days"]}
        again = linkedin_proposal(session, va)  # the same proposal again: not a second row
        assert again == proposal_id and session.scalar(select(SlotProposal.id).where(SlotProposal.id != again)) is None
        accepted = accept(session, va, proposal_id, now=NOW + timedelta(hours=1))
        assert (accepted.status, accepted.decided_by) == ("accepted", "va@castmill.test")
    with db.session() as session:
        client = get_client(session, "acme")
        assert [s for s in client.posting_slots if s["platform"] == "linkedin"] == proposed
        assert [s for s in client.posting_slots if s["platform"] == "x"] == X_SLOTS  # other platforms untouched
        events = audit.events(session, va, client_slug="acme")
        actions = [e.action for e in events]
        assert actions[:3] == ["slots.accept", "client.update", "slots.propose"]
        assert events[0].entity_id == proposal_id and events[0].actor == "va@castmill.test"
        assert events[0].before == {"posting_slots": [CURRENT[0]]} and events[0].after["posting_slots"] == proposed
        already = f"slot proposal {proposal_id} was already accepted by va@castmill.test"
        with pytest.raises(ProposalError, match=already):
            accept(session, va, proposal_id, now=NOW)
        with pytest.raises(NotFoundError, match="no slot proposal 999"):
            reject(session, va, 999, now=NOW)


def test_a_rejection_is_recorded_and_the_slots_stay(fresh_db):
    seed_truth(fresh_db)
    with fresh_db.session() as session:
        va = staff_identity(session, "va@castmill.test", "va")
        proposal_id = linkedin_proposal(session, va)
        reject(session, va, proposal_id, now=NOW)
    with fresh_db.session() as session:
        row = session.get(SlotProposal, proposal_id)
        assert (row.status, row.decided_by) == ("rejected", "va@castmill.test") and row.decided_at is not None
        assert get_client(session, "acme").posting_slots == CURRENT
        [event] = audit.events(session, va, action="slots.reject")
        assert event.entity_id == proposal_id and event.after["status"] == "rejected"


def test_accepting_after_the_slots_changed_is_refused(fresh_db):
    seed_truth(fresh_db)
    with fresh_db.session() as session:
        va = staff_identity(session, "va@castmill.test", "va")
        proposal_id = linkedin_proposal(session, va)
        save_profile(session, va, "acme", posting_slots=[{"platform": "linkedin", "days": ["mon"], "time": "08:00"}])
    with fresh_db.session() as session, pytest.raises(ProposalError, match="linkedin slots of acme changed since"):
        accept(session, va, proposal_id, now=NOW)


def test_new_evidence_supersedes_an_open_proposal(fresh_db):
    seed_truth(fresh_db)
    with fresh_db.session() as session:
        va = staff_identity(session, "va@castmill.test", "va")
        first = linkedin_proposal(session, va)
        session.get(SlotProposal, first).slots = [{"platform": "linkedin", "days": ["sun"], "time": "03:00"}]
    with fresh_db.session() as session:
        second = linkedin_proposal(session, va)
        assert second != first
        assert session.get(SlotProposal, first).status == "superseded"
        with pytest.raises(ProposalError, match="already superseded"):
            accept(session, va, first, now=NOW)


def test_only_staff_propose_and_decide_and_a_client_sees_only_its_own(fresh_db):
    seed_truth(fresh_db)
    with fresh_db.session() as session:
        add_client(session, "budi", "Asia/Jakarta", CURRENT)
        va = staff_identity(session, "va@castmill.test", "va")
        proposal_id = linkedin_proposal(session, va)
        owner = client_identity(session, "acme")
        other = client_identity(session, "budi")
    with fresh_db.session() as session:
        for act in (lambda: propose(session, owner, "acme", now=NOW),
                    lambda: accept(session, owner, proposal_id, now=NOW),
                    lambda: reject(session, other, proposal_id, now=NOW)):
            with pytest.raises(PermissionDenied, match="only a VA or an admin can"):
                act()
        assert [p.id for p in proposals(session, owner, "acme")] == [proposal_id]
        assert proposals(session, other, "acme") == []
        assert session.get(SlotProposal, proposal_id).status == "proposed"
        assert get_client(session, "acme").posting_slots == CURRENT


def test_the_cli_proposes_accepts_and_rejects(castmill_home, fresh_db):
    seed_truth(fresh_db)
    result = castmill("slots", "propose", "--client", "acme", "--json")
    assert result.exit_code == 0, result.output
    by_platform = {row["platform"]: row for row in json.loads(result.stdout)}
    assert by_platform["x"]["proposal_id"] is None
    assert by_platform["x"]["reason"] == "0 published posts with numbers on x, 30 needed"
    linkedin = by_platform["linkedin"]
    assert linkedin["evidence"]["posts"] == 120 and linkedin["current_slots"] == [CURRENT[0]]
    text = castmill("slots", "propose", "--client", "acme", "--platform", "linkedin").stdout
    assert f"linkedin: proposal {linkedin['proposal_id']} (unchanged, already open)" in text
    assert "tue 09:00: 12 posts" in text and "thu 17:00: 12 posts" in text
    accepted = castmill("slots", "accept", str(linkedin["proposal_id"]))
    assert accepted.exit_code == 0 and "linkedin slots are now" in accepted.stdout
    again = castmill("slots", "reject", str(linkedin["proposal_id"]))
    assert again.exit_code == 1 and again.stderr.startswith(f"error: slot proposal {linkedin['proposal_id']} was "
                                                            "already accepted by cli")
    with fresh_db.session() as session:
        assert [s for s in get_client(session, "acme").posting_slots
                if s["platform"] == "linkedin"] == linkedin["proposed_slots"]
    listed = castmill("slots", "list", "--client", "acme").stdout
    assert f"{linkedin['proposal_id']:>4}  linkedin   accepted" in listed
