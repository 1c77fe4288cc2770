"""Every page renders for every role that may open it; the others are not offered (nor served)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.auth_gate import PAGES
from pipeline.access import auth
from tests.dashboard.conftest import APP, run_app, texts

VIEWS = Path(APP).parent / "views"
ALLOWED = {
    "admin": {"review", "versions", "episodes", "calendar", "clients", "activity", "notifications", "health"},
    "va": {"review", "versions", "episodes", "calendar", "clients", "activity", "notifications"},
    "acme": {"review", "versions", "calendar", "activity", "notifications"},
    "budi": {"review", "versions", "calendar", "activity", "notifications"},
}


@pytest.mark.parametrize("who", sorted(ALLOWED))
def test_every_allowed_page_renders_and_the_rest_are_not_offered(world, who):
    app = run_app(world.identity(who))
    for spec in PAGES:
        if spec.key in ALLOWED[who]:
            app.switch_page(spec.path).run()
            assert not app.exception, (spec.key, app.exception)
            assert app.title[0].value == spec.title
        else:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                app.switch_page(spec.path)


def test_a_review_link_gets_the_review_queue_only(world):
    with world.db.session() as session:
        token = auth.make_review_link_token(session, "budi")
    app = run_app(query={"token": token})
    assert app.title[0].value == "Review queue"
    for spec in PAGES:
        if spec.key != "review":
            with pytest.raises(ValueError):
                app.switch_page(spec.path)


@pytest.mark.parametrize("page", ["episodes.py", "clients.py"])
def test_staff_pages_refuse_a_client_even_when_run_directly(world, page):
    """Defence in depth: were a staff page ever served without the navigation, it still stops."""
    app = AppTest.from_file(str(VIEWS / page), default_timeout=30)
    app.session_state["identity"] = world.identity("acme")
    app.run()
    assert not app.exception, app.exception
    assert [e.value for e in app.error] == ["This page is not available to your account."]
    assert not app.dataframe and not app.text_area and not app.selectbox


@pytest.mark.parametrize("page", sorted(p.name for p in VIEWS.glob("*.py") if p.name != "sign_in.py"))
def test_no_page_shows_anything_without_a_signed_in_identity(world, page):
    app = AppTest.from_file(str(VIEWS / page), default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    assert [i.value for i in app.info] == ["Sign in to continue."]
    assert "Acme" not in texts(app) and not app.dataframe and not app.text_area


def test_the_sidebar_says_who_is_signed_in(world):
    app = run_app(world.identity("va"))
    assert "va@castmill.test\nva" in [t.value for t in app.sidebar.text]
