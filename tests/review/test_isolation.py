"""A client identity never reads or acts on another client's drafts, comments or audit events."""

from __future__ import annotations

import pytest

from pipeline import review
from pipeline.access import audit
from pipeline.core.errors import NotFoundError
from tests.review.conftest import add_draft

MISSING = 999_999


def run(world, call, /, *args, **kwargs):
    with world.db.session() as session:
        return call(session, *args, **kwargs)


ACTIONS = {
    "detail": lambda s, who, d: review.draft_detail(s, who, d),
    "versions": lambda s, who, d: review.versions(s, who, d),
    "comments": lambda s, who, d: review.comments(s, who, d),
    "edit": lambda s, who, d: review.edit(s, who, d, ["taken over"], base_version=1),
    "comment": lambda s, who, d: review.comment(s, who, d, "hello"),
    "approve": lambda s, who, d: review.approve(s, who, d, version=1),
    "request_changes": lambda s, who, d: review.request_changes(s, who, d, "change it"),
    "reject": lambda s, who, d: review.reject(s, who, d, "no"),
}


@pytest.mark.parametrize("name", ACTIONS)
def test_another_clients_draft_answers_like_a_missing_one(world, name):
    theirs = add_draft(world.db, world.budi, world.budi_episode)
    with pytest.raises(NotFoundError) as other:
        run(world, ACTIONS[name], world.acme_user, theirs)
    with pytest.raises(NotFoundError) as missing:
        run(world, ACTIONS[name], world.acme_user, MISSING)
    assert str(other.value) == f"no draft {theirs}"
    assert str(missing.value) == f"no draft {MISSING}"
    card = run(world, review.draft_detail, world.va, theirs)  # untouched
    assert (card.status, card.version_number, card.text) == ("draft", 1, "Hello listeners")
    assert run(world, review.comments, world.va, theirs) == []


def test_the_queue_of_a_client_holds_only_its_drafts(world):
    mine = add_draft(world.db, world.acme, world.acme_episode)
    theirs = add_draft(world.db, world.budi, world.budi_episode)
    assert [c.draft_id for c in run(world, review.queue, world.acme_user)] == [mine]
    assert run(world, review.queue, world.acme_user, client_slug="budi") == []
    assert run(world, review.queue, world.acme_user, episode_id=world.budi_episode) == []
    assert {c.draft_id for c in run(world, review.queue, world.va)} == {mine, theirs}
    assert [c.draft_id for c in run(world, review.queue, world.admin, client_slug="budi")] == [theirs]


def test_a_review_link_sees_only_its_client(world):
    from pipeline.access import auth

    add_draft(world.db, world.acme, world.acme_episode)
    theirs = add_draft(world.db, world.budi, world.budi_episode)
    link = run(world, auth.identity_from_review_link, run(world, auth.make_review_link_token, "acme"))
    assert {c.client_slug for c in run(world, review.queue, link)} == {"acme"}
    with pytest.raises(NotFoundError, match=f"no draft {theirs}"):
        run(world, review.approve, link, theirs, version=1)


def test_a_client_sees_only_its_own_audit_events(world):
    mine = add_draft(world.db, world.acme, world.acme_episode)
    theirs = add_draft(world.db, world.budi, world.budi_episode)
    run(world, review.comment, world.va, mine, "for acme")
    run(world, review.comment, world.va, theirs, "for budi")
    acme_view = run(world, audit.events, world.acme_user)
    assert acme_view and {e.client_id for e in acme_view} == {world.acme}
    assert {e.entity_id for e in acme_view if e.entity_type == "draft"} == {mine}
    assert run(world, audit.events, world.acme_user, client_slug="budi") == []
    staff_view = run(world, audit.events, world.va)
    assert {e.client_slug for e in staff_view} >= {"acme", "budi", None}  # None: staff sign-ins


def test_an_identity_with_an_expired_session_reads_nothing(world):
    from dataclasses import replace
    from datetime import timedelta

    from pipeline.access.auth import SessionExpired

    add_draft(world.db, world.acme, world.acme_episode)
    stale = replace(world.acme_user, expires_at=world.acme_user.expires_at - timedelta(hours=13))
    for call in (lambda s: review.queue(s, stale), lambda s: audit.events(s, stale)):
        with pytest.raises(SessionExpired):
            run(world, call)
