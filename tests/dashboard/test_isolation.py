"""A client never sees another client's work: not by query parameter, not by crafted widget state."""

from __future__ import annotations

from sqlalchemy import select

from pipeline import review
from pipeline.store.models import Approval, Draft
from tests.dashboard.conftest import run_app, texts
from tests.dashboard.test_review_page import shown_drafts


def acme_texts(world) -> list[str]:
    with world.db.session() as session:
        return [v.text for d in world.acme.draft_ids for v in [review.latest_version(session, d)]]


def nothing_of_acme(app, world) -> None:
    shown = texts(app) + "\n".join(t.value for t in app.text_area) + "\n".join(h.value for h in app.html)
    assert "Acme" not in shown
    for text in acme_texts(world):
        assert text not in shown
    assert not set(world.acme.draft_ids) & shown_drafts(app)


def test_review_page_with_another_clients_draft_id_shows_not_found(world):
    other = world.acme.draft_ids[0]
    app = run_app(world.identity("budi"), query={"draft": str(other)})
    assert [e.value for e in app.error] == [f"no draft {other}"]
    nothing_of_acme(app, world)


def test_review_page_focus_on_an_own_draft_shows_it_alone(world):
    mine = world.budi.draft_ids[2]
    app = run_app(world.identity("budi"), query={"draft": str(mine)})
    assert shown_drafts(app) == {mine}


def test_versions_page_with_another_clients_draft_id_shows_not_found(world):
    other = world.acme.draft_ids[1]
    app = run_app(world.identity("budi"), query={"draft": str(other)}, page="views/versions.py")
    assert [e.value for e in app.error] == [f"no draft {other}"]
    nothing_of_acme(app, world)


def test_a_crafted_client_filter_in_session_state_is_ignored_for_a_client(world):
    app = run_app(world.identity("budi"))
    app.session_state["review_client"] = "acme"
    app.toggle(key="review_mine").set_value(False).run()
    assert not app.exception, app.exception
    assert shown_drafts(app) == set(world.budi.draft_ids)
    nothing_of_acme(app, world)


def test_a_crafted_selection_cannot_bulk_approve_another_clients_draft(world):
    other = world.acme.draft_ids[0]
    app = run_app(world.identity("budi"))
    app.session_state[f"select_{other}"] = True
    app.checkbox(key=f"select_{world.budi.draft_ids[0]}").check().run()
    app.button(key="bulk_approve").click().run()
    with world.db.session() as session:
        assert session.get(Draft, other).status == "draft"
        assert session.scalar(select(Approval).where(Approval.draft_id == other)) is None
        assert session.get(Draft, world.budi.draft_ids[0]).status == "approved"


def test_a_crafted_opened_version_for_another_clients_draft_is_never_used(world):
    other = world.acme.draft_ids[0]
    app = run_app(world.identity("budi"))
    app.session_state[f"opened_{other}"] = {"version": 1, "parts": ["hijack"]}
    app.session_state[f"text_{other}_1_0"] = "hijack"
    app.run()
    assert not app.exception, app.exception
    nothing_of_acme(app, world)
    with world.db.session() as session:
        assert review.latest_version(session, other).number == 1


def test_versions_page_offers_only_own_drafts(world):
    app = run_app(world.identity("budi"), page="views/versions.py")
    assert set(app.selectbox(key="versions_draft").options) == {
        o for o in app.selectbox(key="versions_draft").options if "Budi" in o}
    assert len(app.selectbox(key="versions_draft").options) == len(world.budi.draft_ids)
    nothing_of_acme(app, world)
