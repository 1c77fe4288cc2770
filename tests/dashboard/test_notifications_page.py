"""AppTest: the Notifications page changes the signed-in user's own preferences through the library."""

from __future__ import annotations

import pytest

from dashboard.components import md_escape
from pipeline.core.errors import ConfigError
from pipeline.publish.preferences import check_webhook_url, get_preferences
from tests.dashboard.conftest import run_app

PAGE = "views/notifications.py"


def save(app):
    next(b for b in app.button if b.label == "Save").click().run()
    assert not app.exception, app.exception


def stored(world, who: str):
    identity = world.identity(who)
    with world.db.session() as session:
        return get_preferences(session, identity, identity.email)


def test_a_client_turns_notices_off_and_to_a_daily_digest(world):
    app = run_app(world.identity("budi"), page=PAGE)
    assert (app.radio(key="notify_channel").value, app.radio(key="notify_digest").value) == ("email", "immediate")
    app.radio(key="notify_channel").set_value("off")
    app.radio(key="notify_digest").set_value("daily")
    save(app)
    assert not app.error
    chosen = stored(world, "budi")
    assert (chosen.channel, chosen.cadence) == ("off", "daily")
    assert "Notification preferences saved." in [s.value for s in app.success]
    assert (app.radio(key="notify_channel").value, app.radio(key="notify_digest").value) == ("off", "daily")
    assert (stored(world, "acme").channel, stored(world, "acme").cadence) == ("email", "immediate")


def test_an_invalid_webhook_url_shows_the_librarys_message_and_changes_nothing(world):
    with pytest.raises(ConfigError) as refused:
        check_webhook_url("hooks.example.com/secret")
    app = run_app(world.identity("budi"), page=PAGE)
    app.radio(key="notify_channel").set_value("webhook")
    app.radio(key="notify_digest").set_value("daily")
    app.text_input(key="notify_webhook").input("hooks.example.com/secret")
    save(app)
    assert [e.value for e in app.error] == [md_escape(str(refused.value))]
    chosen = stored(world, "budi")
    assert (chosen.channel, chosen.cadence, chosen.webhook_url) == ("email", "immediate", "")


def test_a_webhook_url_is_kept_for_the_webhook_channel(world):
    app = run_app(world.identity("va"), page=PAGE)
    app.radio(key="notify_channel").set_value("webhook")
    app.text_input(key="notify_webhook").input("https://hooks.example.com/va-key")
    save(app)
    assert not app.error
    chosen = stored(world, "va")
    assert (chosen.channel, chosen.webhook_url) == ("webhook", "https://hooks.example.com/va-key")
