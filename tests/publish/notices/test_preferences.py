"""Each user's choice: email, webhook or off; at once or one daily digest; set by the user or an admin
(`castmill user notify`), and `castmill notices list` to see the outbox."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from pipeline.access import auth
from pipeline.access.permissions import PermissionDenied
from pipeline.core.errors import ConfigError
from pipeline.publish.notices import next_digest
from pipeline.publish.preferences import get_preferences, set_preferences
from tests.helpers.cli import castmill
from tests.publish.notices.conftest import PASSWORD, Hook, draft_ids_in, review_token_in


def prefer(world, email: str, **choice) -> None:
    with world.db.session() as session:
        set_preferences(session, auth.system_identity("test"), email, **choice)


def test_off_means_nothing_for_that_user_only(world):
    prefer(world, world.acme_email, channel="off")
    world.run(hours=25)
    assert world.mail.to(world.acme_email) == []
    assert draft_ids_in(world.mail.to(world.budi_email)[0]) == set(world.budi_drafts)


def test_a_daily_digest_is_one_mail_with_every_item_at_the_users_digest_hour(world):
    prefer(world, world.acme_email, cadence="daily")
    world.run(hours=25)
    assert world.mail.to(world.acme_email) == []  # waits for 08:00 in New York
    digest_at = next_digest(world.t0 + timedelta(hours=25), "America/New_York", 8)
    assert digest_at.astimezone(ZoneInfo("America/New_York")).hour == 8
    hours = (digest_at - world.t0).total_seconds() / 3600
    world.run(hours=hours - 0.01)
    assert world.mail.to(world.acme_email) == []
    world.run(hours=hours + 0.01)
    [digest] = world.mail.to(world.acme_email)
    assert draft_ids_in(digest) == set(world.acme_drafts) and "2 post(s)" in digest["Subject"]
    assert len(world.mail.to(world.budi_email)) == 1  # budi's user kept the default: at once


def test_a_webhook_user_gets_json_with_their_review_link(world):
    with Hook() as hook:
        prefer(world, world.budi_email, channel="webhook", webhook_url=hook.url("/hook/budi"))
        world.run(hours=25)
        [request] = hook.received
    assert world.mail.to(world.budi_email) == []
    payload = request.json()
    assert request.header("idempotency-key")
    assert [item["draft_id"] for item in payload["items"]] == world.budi_drafts
    assert payload["items"][0]["kind"] == "approval_reminder"
    token = payload["review_link"].split("token=", 1)[1]
    with world.db.session() as session:
        assert auth.identity_from_review_link(session, token, home=world.settings.home).client_slug == "budi"


def test_an_unreachable_webhook_is_retried_like_smtp(world):
    with Hook() as hook:
        prefer(world, world.budi_email, channel="webhook", webhook_url=hook.url("/hook/budi"))
        hook.fail_next(503)
        assert world.run(hours=25).failed == 1
        assert world.run(hours=25 + 2 / 60).delivered == 1
        world.run(hours=26)
        assert len(hook.received) == 1


def test_users_change_their_own_preferences_and_only_an_admin_changes_others(world):
    with world.db.session() as session:
        budi = auth.login(session, world.budi_email, PASSWORD)
    with world.db.session() as session:
        assert set_preferences(session, budi, world.budi_email, cadence="daily").cadence == "daily"
        with pytest.raises(PermissionDenied):
            set_preferences(session, budi, world.acme_email, channel="off")
        link = auth.identity_from_review_link(session, auth.make_review_link_token(
            session, "budi", home=world.settings.home), home=world.settings.home)
        with pytest.raises(PermissionDenied):
            set_preferences(session, link, world.budi_email, channel="off")
        with pytest.raises(ConfigError, match="no webhook URL"):
            set_preferences(session, budi, world.budi_email, channel="webhook")
        with pytest.raises(ConfigError, match="not an http"):
            set_preferences(session, budi, world.budi_email, webhook_url="ftp://x.test/hook")
        assert get_preferences(session, budi, world.budi_email).channel == "email"


def test_the_cli_sets_preferences_and_lists_the_outbox(world):
    result = castmill("user", "notify", world.acme_email, "--webhook", "https://hooks.example.test/s3cret-path",
                      "--digest", "daily")
    assert result.exit_code == 0, result.stderr
    assert "by webhook to hooks.example.test in a daily digest" in result.stdout
    assert "s3cret" not in result.stdout
    shown = json.loads(castmill("user", "notify", world.acme_email, "--json").stdout)
    assert shown == {"email": world.acme_email, "channel": "webhook", "cadence": "daily", "webhook": "hooks.example.test"}
    assert castmill("user", "notify", world.acme_email, "--no-email").stdout.strip() == f"{world.acme_email}: not told (off)"
    refused = castmill("user", "notify", world.acme_email, "--email", "--off")
    assert refused.exit_code != 0 and "choose one of" in refused.stderr
    world.run(hours=25)
    listed = json.loads(castmill("notices", "list", "--json").stdout)
    assert {(e["recipient"], e["item"], e["status"]) for e in listed} == {
        (world.budi_email, f"draft:{world.budi_drafts[0]}", "sent")}
    # The review link's token went out in the mail, never into the outbox or the CLI's output.
    assert review_token_in(world.mail.to(world.budi_email)[0]) not in json.dumps(listed)
