"""Sign-in, review links, sign-out and session expiry through the real app (AppTest)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from pipeline.access import auth
from pipeline.clientdata.erase import erase_client
from pipeline.store.models import AuditEvent, User
from tests.dashboard.conftest import run_app, texts
from tests.dashboard.seed import PASSWORD


def submit(app, email: str, password: str):
    app.text_input(key="sign_in_email").input(email)
    app.text_input(key="sign_in_password").input(password)
    app.button[0].click().run()
    assert not app.exception, app.exception
    return app


def test_signed_out_sees_only_the_sign_in_form(world):
    app = run_app()
    assert app.title[0].value == "Castmill"
    assert app.text_input(key="sign_in_email")
    assert "identity" not in app.session_state
    assert not app.text_area  # no draft text anywhere


def test_right_password_opens_the_review_queue(world):
    app = submit(run_app(), world.acme.user_email, PASSWORD)
    assert app.session_state["identity"].email == world.acme.user_email
    assert app.title[0].value == "Review queue"


def test_wrong_password_and_unknown_email_get_the_same_message(world):
    wrong = submit(run_app(), world.acme.user_email, "not the password")
    unknown = submit(run_app(), "nobody@nowhere.test", "not the password")
    assert [e.value for e in wrong.error] == [e.value for e in unknown.error] == ["wrong email or password"]
    assert "identity" not in wrong.session_state and "identity" not in unknown.session_state


def test_too_many_attempts_are_refused_with_a_wait_message(world):
    app = run_app()
    for _ in range(auth.MAX_FAILURES):
        submit(app, world.acme.user_email, "guess")
    submit(app, world.acme.user_email, PASSWORD)  # even the right password, now
    assert "too many attempts" in app.error[0].value
    assert "identity" not in app.session_state


def test_review_link_signs_a_client_in_to_their_review_queue_only(world):
    with world.db.session() as session:
        token = auth.make_review_link_token(session, "acme")
    app = run_app(query={"token": token})
    identity = app.session_state["identity"]
    assert identity.is_review_link and identity.client_slug == "acme"
    assert app.title[0].value == "Review queue"
    # The navigation offers that page alone; the others are not registered for this identity.
    for page in ("views/versions.py", "views/episodes.py", "views/clients.py", "views/calendar.py"):
        try:
            app.switch_page(page)
        except ValueError:
            continue
        raise AssertionError(f"{page} is reachable with a review link")


def test_expired_review_link_says_so_and_signs_nobody_in(world, monkeypatch):
    with world.db.session() as session:
        token = auth.make_review_link_token(session, "acme", hours=1)
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    real = auth.identity_from_review_link
    monkeypatch.setattr(auth, "identity_from_review_link", lambda s, t, **kw: real(s, t, now=later, **kw))
    app = run_app(query={"token": token})
    assert "identity" not in app.session_state
    assert any("this review link has expired" in e.value for e in app.error)
    assert app.text_input(key="sign_in_email")


def test_tampered_review_link_is_not_valid(world):
    with world.db.session() as session:
        token = auth.make_review_link_token(session, "acme")
    app = run_app(query={"token": token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")})
    assert "identity" not in app.session_state
    assert any("this review link is not valid" in e.value for e in app.error)


def test_expired_session_goes_back_to_sign_in_with_a_message(world):
    identity = dataclasses.replace(world.identity("va"), expires_at=datetime.now(timezone.utc) - timedelta(minutes=1))
    app = run_app(identity)
    assert "identity" not in app.session_state
    assert any("session has expired" in w.value for w in app.warning)
    assert app.text_input(key="sign_in_email")


def test_sign_out_forgets_the_identity(world):
    app = run_app(world.identity("va"))
    app.button(key="sign_out").click().run()
    assert not app.exception
    assert "identity" not in app.session_state
    assert app.text_input(key="sign_in_email")
    assert "Signed out." in texts(app)


def test_sign_in_is_audited(world):
    submit(run_app(), world.acme.user_email, PASSWORD)
    with world.db.session() as session:
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.actor == world.acme.user_email)))
    assert "user.login" in actions


def test_a_user_disabled_while_signed_in_is_signed_out_at_the_next_click(world):
    app = submit(run_app(), world.acme.user_email, PASSWORD)
    assert app.title[0].value == "Review queue"
    with world.db.session() as session:
        session.scalars(select(User).where(User.email == world.acme.user_email)).one().disabled = True
        session.commit()
    app.run()
    assert "identity" not in app.session_state
    assert any("your account has changed" in w.value for w in app.warning)
    assert app.text_input(key="sign_in_email") and not app.text_area


def test_an_erased_clients_open_review_link_tab_is_signed_out(world, settings):
    with world.db.session() as session:
        token = auth.make_review_link_token(session, "acme", home=settings.home)
    app = run_app(query={"token": token})
    assert app.session_state["identity"].client_slug == "acme"
    erase_client(world.identity("admin"), world.db, settings, "acme", confirm="acme")
    app.run()
    assert "identity" not in app.session_state
    assert any("this review link is not valid any more" in w.value for w in app.warning)
    assert not app.text_area
