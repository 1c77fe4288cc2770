"""AppTest: staff mark published posts evergreen on the Calendar and decide slot proposals on Clients & settings."""

from __future__ import annotations

from datetime import datetime, timezone

from pipeline import calendar as cal
from pipeline import review
from pipeline.profiles.edit import save_profile
from pipeline.publish.evergreen import list_evergreen
from pipeline.publish.slot_proposals import explanation, proposals, propose
from pipeline.store.clients import get_client
from pipeline.store.models import ScheduledPost, SlotProposal
from tests.dashboard.conftest import run_app, texts
from tests.dashboard.test_versions_calendar_activity import CALENDAR, future_day
from tests.helpers.engagement import NOW
from tests.publish.best_time.conftest import CURRENT, seed_truth

CLIENTS = "views/clients.py"


def published_post(world) -> tuple[int, datetime]:
    """A budi post on the calendar that went out (as the scheduler would leave it)."""
    draft_id, local = world.budi.draft_ids[0], future_day()
    budi, admin = world.identity("budi"), world.identity("admin")
    with world.db.session() as session:
        review.approve(session, budi, draft_id, version=1)
        post = cal.schedule(session, admin, draft_id, at=local, tz="Asia/Jakarta")
        post.status, post.published_at = "published", datetime.now(timezone.utc)
        return post.id, local


def calendar_around(world, who: str, day) -> object:
    app = run_app(world.identity(who), page=CALENDAR)
    app.date_input(key="calendar_anchor").set_value(day).run()
    assert not app.exception, app.exception
    return app


def evergreen_posts(world) -> list[tuple[int, bool]]:
    with world.db.session() as session:
        return [(info.post_id, info.active) for info in list_evergreen(session, world.identity("va"))]


def test_staff_mark_a_published_post_evergreen_and_unmark_it(world):
    post_id, local = published_post(world)
    app = calendar_around(world, "va", local.date())
    assert app.selectbox(key="evergreen_post").value == post_id
    app.button(key="evergreen_mark").click().run()
    assert not app.exception, app.exception
    assert evergreen_posts(world) == [(post_id, True)]
    assert f"Post {post_id} marked evergreen." in [s.value for s in app.success]
    app.button(key="evergreen_unmark").click().run()
    assert evergreen_posts(world) == [(post_id, False)]
    assert app.button(key="evergreen_mark")


def test_only_published_posts_are_offered_for_evergreen(world):
    post_id, local = published_post(world)
    with world.db.session() as session:
        session.get(ScheduledPost, post_id).status = "scheduled"
    app = calendar_around(world, "va", local.date())
    assert "evergreen_post" not in [s.key for s in app.selectbox]


def test_a_client_sees_no_evergreen_controls(world):
    post_id, local = published_post(world)
    app = calendar_around(world, "budi", local.date())
    assert list(app.dataframe[0].value["post"]) == [post_id]  # the post is on their calendar
    assert "evergreen_post" not in [s.key for s in app.selectbox]
    assert not [b for b in app.button if b.key in ("evergreen_mark", "evergreen_unmark")]
    assert "Evergreen" not in texts(app)


def open_proposal(world) -> SlotProposal:
    """A LinkedIn proposal for a client whose Tue 09:00 and Thu 17:00 posts do twice as well."""
    seed_truth(world.db, slug="truth")
    va = world.identity("va")
    with world.db.session() as session:
        [outcome] = propose(session, va, "truth", now=NOW, platform="linkedin")
        return session.get(SlotProposal, outcome.proposal_id)


def clients_page_of(world, slug: str):
    app = run_app(world.identity("va"), page=CLIENTS)
    app.selectbox(key="settings_client").select(slug).run()
    assert not app.exception, app.exception
    return app


def client_slots(world, slug: str) -> list[dict]:
    with world.db.session() as session:
        return list(get_client(session, slug).posting_slots)


def test_staff_accept_a_proposal_and_the_clients_slots_change(world):
    proposal = open_proposal(world)
    app = clients_page_of(world, "truth")
    shown = texts(app)
    assert "Proposed posting slots" in shown
    assert all(line in shown for line in explanation(proposal))  # the model's reasons, as the library words them
    app.button(key=f"accept_proposal_{proposal.id}").click().run()
    assert not app.exception, app.exception
    assert client_slots(world, "truth") == [s for s in CURRENT if s["platform"] != "linkedin"] + list(proposal.slots)
    assert client_slots(world, "truth") != CURRENT
    assert not [b for b in app.button if b.key == f"accept_proposal_{proposal.id}"]  # decided: no longer open


def test_staff_reject_a_proposal_and_the_slots_stay(world):
    proposal = open_proposal(world)
    app = clients_page_of(world, "truth")
    app.button(key=f"reject_proposal_{proposal.id}").click().run()
    assert not app.exception, app.exception
    assert client_slots(world, "truth") == CURRENT
    with world.db.session() as session:
        assert [p.status for p in proposals(session, world.identity("va"), "truth")] == ["rejected"]


def test_a_proposal_made_against_older_slots_is_refused_with_the_librarys_reason(world):
    proposal = open_proposal(world)
    app = clients_page_of(world, "truth")
    va = world.identity("va")
    with world.db.session() as session:
        save_profile(session, va, "truth", posting_slots=[{"platform": "linkedin", "days": ["sun"], "time": "08:00"}])
    app.button(key=f"accept_proposal_{proposal.id}").click().run()
    assert any("changed since proposal" in e.value for e in app.error)
    assert client_slots(world, "truth") == [{"platform": "linkedin", "days": ["sun"], "time": "08:00"}]
