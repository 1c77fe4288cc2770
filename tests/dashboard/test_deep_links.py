"""AppTest: a notice's link (/review?draft=ID, /calendar?post=ID) opened signed out leads to its item after sign-in."""

from __future__ import annotations

from pipeline import calendar as cal
from pipeline import review
from tests.dashboard.conftest import run_app, texts
from tests.dashboard.seed import PASSWORD
from tests.dashboard.test_review_page import shown_drafts
from tests.dashboard.test_sign_in import submit
from tests.dashboard.test_versions_calendar_activity import future_day


def open_signed_out(page: str, query: dict):
    """A signed-out browser opening ``page`` with ``query``: the sign-in form, whatever the URL."""
    app = run_app()
    for key, value in query.items():
        app.query_params[key] = value
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert app.text_input(key="sign_in_email") and not app.text_area
    return app


def test_a_draft_link_opened_signed_out_shows_that_draft_after_sign_in(world):
    draft_id = world.budi.draft_ids[2]
    app = submit(open_signed_out("views/review.py", {"draft": str(draft_id)}), world.budi.user_email, PASSWORD)
    assert app.title[0].value == "Review queue"
    assert app.query_params["draft"] == str(draft_id)
    assert shown_drafts(app) == {draft_id}
    assert app.button(key="unfocus")  # the one draft alone, not the queue


def test_a_post_link_opened_signed_out_shows_that_post_after_sign_in(world):
    draft_id = world.budi.draft_ids[0]
    budi, admin = world.identity("budi"), world.identity("admin")
    with world.db.session() as session:
        review.approve(session, budi, draft_id, version=1)
        post_id = cal.schedule(session, admin, draft_id, at=future_day(), tz="Asia/Jakarta").id
    app = submit(open_signed_out("views/calendar.py", {"post": str(post_id)}), "va@castmill.test", PASSWORD)
    assert app.title[0].value == "Calendar"
    assert f"Post {post_id}" in texts(app)
    assert app.selectbox(key="move_post").value == post_id


def test_a_clients_link_to_a_staff_page_lands_on_their_default_page(world):
    app = submit(open_signed_out("views/clients.py", {"draft": str(world.acme.draft_ids[0])}),
                 world.budi.user_email, PASSWORD)
    assert app.title[0].value == "Review queue"
    assert "draft" not in app.query_params
    assert shown_drafts(app) == set(world.budi.draft_ids)  # the whole queue, no error
    assert not app.error


def test_signing_in_on_the_root_url_opens_the_default_page(world):
    app = submit(run_app(), world.budi.user_email, PASSWORD)
    assert app.title[0].value == "Review queue" and not app.query_params
