"""Every state change writes an audit event in its own transaction; events are filterable and scoped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pipeline import review
from pipeline.access import audit
from pipeline.access import auth
from pipeline.core.clock import utcnow
from pipeline.store.models import AuditEvent
from tests.review.conftest import PASSWORD, add_draft


def run(world, call, /, *args, **kwargs):
    with world.db.session() as session:
        return call(session, *args, **kwargs)


def all_events(world):
    with world.db.session() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_every_review_action_writes_one_event_with_before_and_after(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    seen = len(all_events(world))
    run(world, review.comment, world.acme_user, draft, "Love it")
    run(world, review.edit, world.va, draft, ["Edited"], base_version=1)
    run(world, review.approve, world.va, draft, version=2)
    run(world, review.request_changes, world.acme_user, draft, "Add the guest")
    run(world, review.edit, world.va, draft, ["Edited with guest"], base_version=2)
    run(world, review.reject, world.admin, draft, "Wrong episode")
    new = all_events(world)[seen:]
    assert [(e.action, e.actor, e.entity_type, e.entity_id, e.client_id) for e in new] == [
        ("draft.comment", "ceo@acme.test", "draft", draft, world.acme),
        ("draft.edit", "va@castmill.test", "draft", draft, world.acme),
        ("draft.approve", "va@castmill.test", "draft", draft, world.acme),
        ("draft.request_changes", "ceo@acme.test", "draft", draft, world.acme),
        ("draft.edit", "va@castmill.test", "draft", draft, world.acme),
        ("draft.reject", "admin@castmill.test", "draft", draft, world.acme),
    ]
    comment, edit, approve, changes, _, reject = new
    assert comment.after["body"] == "Love it" and comment.user_id == world.acme_user.user_id
    assert (edit.before["text"], edit.after["text"], edit.after["version"]) == ("Hello listeners", "Edited", 2)
    assert (approve.before["status"], approve.after["status"], approve.after["stage"]) == \
        ("draft", "client_review", "va")
    assert changes.after == {"status": "changes_requested", "version": 2, "reason": "Add the guest",
                             "voided_approvals": 1}
    assert (reject.before["status"], reject.after["reason"]) == ("draft", "Wrong episode")


def test_user_actions_are_audited_without_secrets(world):
    with world.db.session() as session:
        auth.add_user(session, "new@castmill.test", PASSWORD, "va", actor="admin@castmill.test")
    with pytest.raises(auth.AuthFailed):
        run(world, auth.login, "new@castmill.test", "not it")
    run(world, auth.login, "new@castmill.test", PASSWORD)
    run(world, auth.make_review_link_token, "acme", 24)
    added, failed, login, link = all_events(world)[-4:]
    assert (added.action, added.actor, added.after["role"]) == ("user.add", "admin@castmill.test", "va")
    assert (failed.action, failed.after) == ("user.login_failed", {"reason": "wrong_credentials"})
    assert (login.action, login.user_id) == ("user.login", added.entity_id)
    assert (link.action, link.client_id, link.after) == ("review_link.create", world.acme, {"hours": 24})
    dumped = repr([(e.before, e.after) for e in all_events(world)])
    assert PASSWORD not in dumped and "not it" not in dumped and "argon2" not in dumped


def test_a_refused_or_rolled_back_action_leaves_no_event(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    seen = len(all_events(world))
    with pytest.raises(review.ReviewError):
        run(world, review.approve, world.acme_user, draft, version=1)
    with pytest.raises(RuntimeError):
        with world.db.session() as session:
            review.comment(session, world.va, draft, "never committed")
            raise RuntimeError("the request failed after the comment")
    assert len(all_events(world)) == seen
    assert run(world, review.comments, world.va, draft) == []


def test_events_filter_by_action_prefix_entity_client_time_and_limit(world):
    acme_draft = add_draft(world.db, world.acme, world.acme_episode)
    budi_draft = add_draft(world.db, world.budi, world.budi_episode)
    start = utcnow()
    run(world, review.comment, world.va, acme_draft, "one")
    run(world, review.comment, world.va, budi_draft, "two")
    run(world, review.edit, world.va, acme_draft, ["three"], base_version=1)
    events = lambda **kw: run(world, audit.events, world.va, **kw)  # noqa: E731
    assert [e.action for e in events(since=start)] == ["draft.edit", "draft.comment", "draft.comment"]
    assert [e.entity_id for e in events(action="draft.comment")] == [budi_draft, acme_draft]
    assert {e.action for e in events(action="draft.")} == {"draft.comment", "draft.edit"}
    assert {e.action for e in events(action="user.")} == {"user.add", "user.login"}
    budi = events(client_slug="budi")
    assert {e.client_slug for e in budi} == {"budi"}
    assert [(e.action, e.entity_id) for e in budi if e.entity_type == "draft"] == [("draft.comment", budi_draft)]
    assert {e.entity_type for e in events(entity_type="user")} == {"user"}
    assert len(events(limit=2)) == 2
    assert events(since=utcnow() + timedelta(minutes=1)) == []
    newest = events()[0]
    assert newest.at.tzinfo is not None and newest.actor == "va@castmill.test"


def test_other_modules_record_their_own_events(world):
    with world.db.session() as session:
        audit.record(session, actor="scheduler", action="post.publish", entity_type="post", entity_id=7,
                     client_id=world.budi, before={"status": "publishing"}, after={"status": "published"})
    [entry] = run(world, audit.events, world.budi_user, action="post.publish")
    assert (entry.actor, entry.client_slug, entry.before, entry.after) == \
        ("scheduler", "budi", {"status": "publishing"}, {"status": "published"})
    assert run(world, audit.events, world.acme_user, action="post.publish") == []
