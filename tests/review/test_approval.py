"""The approval rules: stages, turns, binding to a version hash, voiding, overrides, bulk approval."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pipeline import review
from pipeline.core.errors import NotFoundError
from pipeline.store.models import Approval, Draft
from tests.review.conftest import add_draft, add_generated_version

LONG = "word " * 70  # 350 characters: over X's 280


def status_of(world, draft_id):
    with world.db.session() as session:
        return session.get(Draft, draft_id).status


def run(world, call, /, *args, **kwargs):
    with world.db.session() as session:
        return call(session, *args, **kwargs)


def approved(world, draft_id):
    with world.db.session() as session:
        version = review.approved_version(session, draft_id)
        return None if version is None else version.number


def test_two_stages_the_va_then_the_client(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    first = run(world, review.approve, world.va, draft, version=1)
    assert (first.stage, first.status, first.ok) == ("va", "client_review", True)
    assert approved(world, draft) is None  # the VA's approval alone cannot be scheduled
    second = run(world, review.approve, world.acme_user, draft, version=1)
    assert (second.stage, second.status) == ("client", "approved")
    assert approved(world, draft) == 1


def test_a_one_stage_client_approves_alone_and_a_va_cannot(world):
    draft = add_draft(world.db, world.budi, world.budi_episode)
    assert run(world, review.draft_detail, world.va, draft).needs_action_by == "client"
    with pytest.raises(review.ReviewError, match="waiting for the client's approval; a VA cannot give it"):
        run(world, review.approve, world.va, draft, version=1)
    result = run(world, review.approve, world.budi_user, draft, version=1)
    assert (result.stage, result.status) == ("client", "approved") and approved(world, draft) == 1


def test_a_client_cannot_approve_before_the_va_and_a_va_cannot_give_the_client_approval(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    with pytest.raises(review.ReviewError, match="waiting for the VA's review"):
        run(world, review.approve, world.acme_user, draft, version=1)
    run(world, review.approve, world.va, draft, version=1)
    with pytest.raises(review.ReviewError, match="a VA cannot give it"):
        run(world, review.approve, world.va, draft, version=1)
    assert status_of(world, draft) == "client_review"


def test_an_admin_may_approve_both_stages(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    assert run(world, review.approve, world.admin, draft, version=1).stage == "va"
    assert run(world, review.approve, world.admin, draft, version=1).stage == "client"
    assert approved(world, draft) == 1
    with pytest.raises(review.ReviewError, match="already approved"):
        run(world, review.approve, world.admin, draft, version=1)


def test_a_review_link_gives_the_client_approval(world):
    from pipeline.access import auth

    draft = add_draft(world.db, world.acme, world.acme_episode)
    run(world, review.approve, world.va, draft, version=1)
    token = run(world, auth.make_review_link_token, "acme")
    link = run(world, auth.identity_from_review_link, token)
    assert run(world, review.approve, link, draft, version=1).status == "approved"
    with world.db.session() as session:
        row = session.scalar(select(Approval).where(Approval.draft_id == draft, Approval.stage == "client"))
        assert row.user_id is None and row.actor == "review link acme"


def test_an_approval_binds_to_the_version_hash_and_an_edit_voids_it(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    run(world, review.approve, world.va, draft, version=1)
    run(world, review.approve, world.acme_user, draft, version=1)
    with world.db.session() as session:
        version = review.approved_version(session, draft)
        bound = session.scalar(select(Approval.version_hash)
                               .where(Approval.draft_id == draft, Approval.stage == "client"))
        assert bound == review.version_hash(version.parts, version.hashtags, version.media)
    result = run(world, review.edit, world.va, draft, ["Hello listeners, edited"], base_version=1)
    assert (result.version_number, result.status, result.voided_approvals) == (2, "draft", 2)
    assert approved(world, draft) is None
    with world.db.session() as session:
        assert all(a.voided_at is not None for a in session.scalars(select(Approval).where(Approval.draft_id == draft)))
    # the next round starts at the VA again, on version 2
    with pytest.raises(review.ReviewError, match="waiting for the VA's review"):
        run(world, review.approve, world.acme_user, draft, version=2)
    run(world, review.approve, world.va, draft, version=2)
    run(world, review.approve, world.acme_user, draft, version=2)
    assert approved(world, draft) == 2


def test_a_client_edit_after_the_va_approved_goes_back_to_the_va(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    run(world, review.approve, world.va, draft, version=1)
    result = run(world, review.edit, world.acme_user, draft, ["My own words"], base_version=1)
    assert result.status == "draft"
    card = run(world, review.draft_detail, world.va, draft)
    assert (card.needs_action_by, card.version_number, card.text) == ("va", 2, "My own words")


def test_a_one_stage_draft_edited_returns_to_the_client(world):
    draft = add_draft(world.db, world.budi, world.budi_episode)
    run(world, review.approve, world.budi_user, draft, version=1)
    assert run(world, review.edit, world.va, draft, ["Versi baru"], base_version=1).status == "client_review"
    assert approved(world, draft) is None


def test_a_regenerated_version_is_not_approved_although_the_status_says_approved(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    run(world, review.approve, world.va, draft, version=1)
    run(world, review.approve, world.acme_user, draft, version=1)
    add_generated_version(world.db, draft, ["A new template text"])
    assert status_of(world, draft) == "approved" and approved(world, draft) is None
    assert run(world, review.approve, world.va, draft, version=2).stage == "va"  # it needs both stages again
    run(world, review.approve, world.acme_user, draft, version=2)
    assert approved(world, draft) == 2


def test_approving_needs_the_latest_version(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    run(world, review.edit, world.va, draft, ["Second text"], base_version=1)
    with pytest.raises(review.EditConflict) as conflict:
        run(world, review.approve, world.va, draft, version=1)
    assert conflict.value.latest_version == 2 and conflict.value.latest_text == "Second text"
    assert [(t.op, t.text) for t in conflict.value.changes_since_base] == [
        ("delete", "Hello listeners"), ("insert", "Second text")]
    assert status_of(world, draft) == "draft"


def test_a_version_that_breaks_a_platform_rule_needs_an_override_reason(world):
    draft = add_draft(world.db, world.acme, world.acme_episode, parts=[LONG])
    card = run(world, review.draft_detail, world.va, draft)
    assert card.violations and "the limit is 280" in card.violations[0]
    with pytest.raises(review.ReviewError, match=r"breaks 1 platform rule\(s\) \(text is 3\d\d characters"):
        run(world, review.approve, world.va, draft, version=1)
    with pytest.raises(review.ReviewError, match="override reason"):
        run(world, review.approve, world.va, draft, version=1, override_reason="   ")
    assert status_of(world, draft) == "draft"
    result = run(world, review.approve, world.va, draft, version=1, override_reason="X Premium account")
    assert result.override_reason == "X Premium account"
    with world.db.session() as session:
        assert session.scalar(select(Approval.override_reason).where(Approval.draft_id == draft)) == "X Premium account"


def test_requesting_changes_sends_the_draft_back_to_the_va_and_voids_approvals(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    run(world, review.approve, world.va, draft, version=1)
    with pytest.raises(review.ReviewError, match="say what should change"):
        run(world, review.request_changes, world.acme_user, draft, "  ")
    card = run(world, review.request_changes, world.acme_user, draft, "Mention the guest")
    assert (card.status, card.needs_action_by) == ("changes_requested", "va")
    with world.db.session() as session:
        rows = list(session.scalars(select(Approval).where(Approval.draft_id == draft).order_by(Approval.id)))
    assert [(a.stage, a.decision, a.voided_at is None) for a in rows] == [
        ("va", "approved", False), ("client", "changes_requested", True)]
    assert rows[1].reason == "Mention the guest"
    with pytest.raises(review.ReviewError, match="waiting for the VA's review"):
        run(world, review.approve, world.acme_user, draft, version=1)
    assert run(world, review.approve, world.va, draft, version=1).status == "client_review"


def test_a_va_decides_only_at_the_va_stage_and_a_client_any_time(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    run(world, review.approve, world.va, draft, version=1)
    with pytest.raises(review.ReviewError, match="is with the client now"):
        run(world, review.reject, world.va, draft, "too salesy")
    assert run(world, review.reject, world.acme_user, draft, "Not on brand").status == "rejected"
    early = add_draft(world.db, world.acme, world.acme_episode)
    assert run(world, review.request_changes, world.acme_user, early, "Shorter, please").status == "changes_requested"


def test_a_rejected_draft_stays_rejected_until_someone_edits_it(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    with pytest.raises(review.ReviewError, match="give a reason for rejecting"):
        run(world, review.reject, world.va, draft, "")
    run(world, review.reject, world.va, draft, "Off topic")
    assert run(world, review.draft_detail, world.va, draft).needs_action_by is None
    for action, kwargs in ((review.approve, {"version": 1}),):
        with pytest.raises(review.ReviewError, match="was rejected; edit it"):
            run(world, action, world.admin, draft, **kwargs)
    with pytest.raises(review.ReviewError, match="already rejected"):
        run(world, review.reject, world.admin, draft, "again")
    assert run(world, review.edit, world.va, draft, ["A better angle"], base_version=1).status == "draft"
    assert run(world, review.approve, world.va, draft, version=2).status == "client_review"


def test_bulk_approve_reports_each_draft_and_never_half_approves_one(world):
    fine = add_draft(world.db, world.acme, world.acme_episode)
    too_long = add_draft(world.db, world.acme, world.acme_episode, parts=[LONG])
    elsewhere = add_draft(world.db, world.budi, world.budi_episode)
    outcomes = run(world, review.bulk_approve, world.acme_user, [fine, too_long, elsewhere, 987654])
    assert [o.ok for o in outcomes] == [False] * 4  # the VA has not reviewed acme's drafts yet
    outcomes = run(world, review.bulk_approve, world.va, [fine, too_long, fine])
    assert [(o.draft_id, o.ok) for o in outcomes] == [(fine, True), (too_long, False)]
    assert outcomes[0].status == "client_review" and "platform rule" in outcomes[1].error
    assert status_of(world, too_long) == "draft"
    with world.db.session() as session:
        assert session.scalars(select(Approval).where(Approval.draft_id == too_long)).all() == []
    outcomes = run(world, review.bulk_approve, world.acme_user, [fine, elsewhere])
    assert outcomes[0].ok and outcomes[0].status == "approved"
    assert (outcomes[1].ok, outcomes[1].error) == (False, f"no draft {elsewhere}")


def test_approved_version_is_none_for_missing_unapproved_and_rejected_drafts(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    assert approved(world, draft) is None and approved(world, 424242) is None
    with world.db.session() as session:  # a status set by hand is not an approval
        session.get(Draft, draft).status = "approved"
    assert approved(world, draft) is None


def test_a_disabled_user_can_no_longer_act_with_an_open_session(world):
    from pipeline.access.auth import SessionExpired
    from pipeline.store.models import User

    draft = add_draft(world.db, world.acme, world.acme_episode)
    with world.db.session() as session:
        session.get(User, world.va.user_id).disabled = True
    with pytest.raises(SessionExpired, match="sign in again"):
        run(world, review.approve, world.va, draft, version=1)


def test_a_missing_draft_is_not_found(world):
    with pytest.raises(NotFoundError, match="^no draft 31337$"):
        run(world, review.approve, world.va, 31337, version=1)
