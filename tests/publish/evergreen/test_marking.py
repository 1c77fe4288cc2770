"""Marking posts evergreen: staff only, published posts only, audited; one client's posts stay its own."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pipeline.access.permissions import PermissionDenied
from pipeline.core.clock import as_utc
from pipeline.core.errors import NotFoundError
from pipeline.publish.evergreen import EvergreenError, list_evergreen, mark, unmark
from pipeline.store.models import AuditEvent, EvergreenPost, ScheduledPost
from tests.helpers.calendar import add_draft, add_post, client_identity
from tests.publish.evergreen.helpers import T0, at, daily_client, days, evergreen, published, run


def test_staff_marks_a_published_post_and_every_change_is_audited(db, staff):
    with db.session() as session:
        client = daily_client(session)
        post = published(session, staff, client, "A keeper", T0)
        row = mark(session, staff, post.id)
        assert row.active and row.client_id == client.id and row.platform == "x"
        unmark(session, staff, post.id)
        assert not row.active
        mark(session, staff, post.id)
        actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "evergreen")
                                                     .order_by(AuditEvent.id))]
        assert actions == ["evergreen.mark", "evergreen.unmark", "evergreen.mark"]
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "evergreen.mark")).actor == staff.email


def test_only_a_published_post_can_be_marked(db, staff):
    with db.session() as session:
        client = daily_client(session)
        scheduled = add_post(session, add_draft(session, client, "x", "Not out yet"), T0 + days(3))
        with pytest.raises(EvergreenError, match="only a published post"):
            mark(session, staff, scheduled.id)
        with pytest.raises(NotFoundError):
            mark(session, staff, 99999)


def test_a_client_cannot_mark_and_sees_only_its_own(db, staff):
    with db.session() as session:
        acme = daily_client(session, "acme")
        globex = daily_client(session, "globex", at="15:00")
        acme_post = evergreen(session, staff, acme, "Acme's keeper", T0)
        evergreen(session, staff, globex, "Globex's keeper", T0)
        owner = client_identity(session, "acme")
        with pytest.raises(PermissionDenied):
            mark(session, owner, acme_post.id)
        with pytest.raises(PermissionDenied):
            unmark(session, owner, acme_post.id)
        with pytest.raises(PermissionDenied):
            run(session, owner, at(T0 + days(40)))
        assert [(r.client_slug, r.post_id) for r in list_evergreen(session, owner)] == [("acme", acme_post.id)]
        assert {r.client_slug for r in list_evergreen(session, staff)} == {"acme", "globex"}


def test_one_clients_evergreen_never_lands_in_another_calendar(db, staff):
    with db.session() as session:
        acme = daily_client(session, "acme", auto_approve=True)
        globex = daily_client(session, "globex", at="15:00", auto_approve=True)
        for client in (acme, globex):
            evergreen(session, staff, client, f"{client.slug} keeper", T0)
            published(session, staff, client, f"{client.slug} filler", T0 + days(1))
        outcomes = run(session, staff, at(T0 + days(40)), min_interval_days=7)
        assert {o.client_slug for o in outcomes if o.action == "scheduled"} == {"acme", "globex"}
        for outcome in outcomes:
            post = session.get(ScheduledPost, outcome.post_id)
            row = session.get(EvergreenPost, outcome.evergreen_id)
            owner = acme if outcome.client_slug == "acme" else globex
            assert post.client_id == row.client_id == owner.id
            assert as_utc(post.due_at).hour == (9 if owner is acme else 15)  # the owner's own slots
        only_acme = run(session, staff, at(T0 + days(40)), client_slug="acme")
        assert {o.client_slug for o in only_acme} == {"acme"}


def test_the_evergreen_mark_of_one_post_for_whom_may_see_it(db, staff):
    from pipeline.publish.evergreen import evergreen_of

    with db.session() as session:
        client = daily_client(session)
        post = published(session, staff, client, "A keeper", T0)
        assert evergreen_of(session, staff, post.id) is None
        mark(session, staff, post.id)
        info = evergreen_of(session, staff, post.id)
        assert (info.post_id, info.client_slug, info.active, info.copies) == (post.id, "acme", True, 0)
        unmark(session, staff, post.id)
        assert evergreen_of(session, staff, post.id).active is False
        assert evergreen_of(session, client_identity(session, "acme"), post.id).post_id == post.id
        daily_client(session, "budi")
        with pytest.raises(NotFoundError):
            evergreen_of(session, client_identity(session, "budi"), post.id)
