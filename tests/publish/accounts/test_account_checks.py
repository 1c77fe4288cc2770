"""`accounts check`: credentials tried against the platform (a local fake Mastodon), expiry vs the next due post."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.calendar import schedule
from pipeline.publish.credentials import add_account, check_accounts
from pipeline.store.models import Account
from tests.helpers.calendar import add_client, approved_draft
from tests.fakes.mastodon import FakeMastodon

UTC = timezone.utc
NOW = datetime(2030, 5, 30, 12, 0, tzinfo=UTC)
SLOTS = [{"platform": "mastodon", "days": ["mon", "wed", "fri"], "time": "09:00"}]


@pytest.fixture
def mastodon():
    with FakeMastodon() as server:
        yield server


def test_a_good_token_passes_and_a_wrong_one_fails_without_showing_it(db, mastodon, monkeypatch):
    monkeypatch.setenv("ACME_MASTODON_TOKEN", FakeMastodon.token)
    monkeypatch.setenv("BUDI_MASTODON_TOKEN", "wrong-token-abcdef")
    with db.session() as session:
        for slug in ("acme", "budi"):
            add_client(session, slug, "America/New_York", SLOTS)
            add_account(session, slug, "mastodon", base_url=mastodon.base_url,
                        token_env=f"{slug.upper()}_MASTODON_TOKEN")
        checks = check_accounts(session, now=NOW)
    acme, budi = checks
    assert (acme.client_slug, acme.ok, acme.message) == ("acme", True, "mastodon: signed in as @castmill")
    assert (budi.client_slug, budi.ok) == ("budi", False)
    assert "401" in budi.message and "The access token is invalid" in budi.message
    assert "wrong-token-abcdef" not in budi.message
    sent = [r.bearer() for r in mastodon.requests if r.path == "/api/v1/accounts/verify_credentials"]
    assert sorted(sent) == sorted([FakeMastodon.token, "wrong-token-abcdef"])
    with db.session() as session:
        stored = {a.client_id: a for a in session.query(Account)}
        assert [a.last_check_at.replace(tzinfo=UTC) for a in stored.values()] == [NOW, NOW]
        assert [a.last_check_error for a in stored.values()] == ["", budi.message]


def test_a_missing_environment_variable_is_named_and_nothing_is_sent(db, mastodon, monkeypatch):
    monkeypatch.delenv("ACME_MASTODON_TOKEN", raising=False)
    with db.session() as session:
        add_client(session, "acme")
        add_account(session, "acme", "mastodon", base_url=mastodon.base_url, token_env="ACME_MASTODON_TOKEN")
        [check] = check_accounts(session, now=NOW)
    assert not check.ok
    assert check.message == "ACME_MASTODON_TOKEN is not set (the token of account acme/mastodon/default)"
    assert mastodon.requests == []


def test_a_token_expiring_before_the_next_due_post_is_a_warning(db, staff, mastodon, monkeypatch):
    monkeypatch.setenv("ACME_MASTODON_TOKEN", FakeMastodon.token)
    with db.session() as session:
        client = add_client(session, "acme", "America/New_York", SLOTS)
        add_account(session, "acme", "mastodon", base_url=mastodon.base_url, token_env="ACME_MASTODON_TOKEN",
                    expires_at=datetime(2030, 6, 2, 0, 0, tzinfo=UTC))
        add_account(session, "acme", "mastodon", name="spare", base_url=mastodon.base_url,
                    token_env="ACME_MASTODON_TOKEN", expires_at=datetime(2030, 6, 2, 0, 0, tzinfo=UTC))
        # due Mon 3 June 09:00 EDT = 13:00Z, a day after the token expires
        post = schedule(session, staff, approved_draft(session, staff, client, "mastodon").id,
                        at=datetime(2030, 6, 3, 9, 0), now=NOW)
        assert post.platform == "mastodon"
        default, spare = check_accounts(session, now=NOW)
    assert default.ok and default.next_due_at == datetime(2030, 6, 3, 13, tzinfo=UTC)
    assert default.warning == "the token expires at 2030-06-02 00:00 UTC, before the next post due 2030-06-03 13:00 UTC"
    assert spare.ok and spare.next_due_at is None and spare.warning == ""  # no post waits on it

    with db.session() as session:
        later = check_accounts(session, now=datetime(2030, 6, 2, 0, 0, tzinfo=UTC))
    assert [(c.ok, c.message) for c in later] == [(False, "the token expired at 2030-06-02 00:00 UTC")] * 2


def test_a_token_that_outlives_the_next_post_gets_no_warning(db, staff, mastodon, monkeypatch):
    monkeypatch.setenv("ACME_MASTODON_TOKEN", FakeMastodon.token)
    with db.session() as session:
        client = add_client(session, "acme", "America/New_York", SLOTS)
        add_account(session, "acme", "mastodon", base_url=mastodon.base_url, token_env="ACME_MASTODON_TOKEN",
                    expires_at=NOW + timedelta(days=60))
        schedule(session, staff, approved_draft(session, staff, client, "mastodon").id, now=NOW)
        [check] = check_accounts(session, now=NOW)
    assert check.ok and check.warning == "" and check.expires_at == NOW + timedelta(days=60)


def test_an_outbox_account_checks_its_folder(db, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the outbox folder should be")
    with db.session() as session:
        add_client(session, "acme")
        add_account(session, "acme", "outbox", name="good", base_url=str(tmp_path / "outbox"))
        add_account(session, "acme", "outbox", name="bad", base_url=str(blocker / "outbox"))
        bad, good = check_accounts(session, now=NOW)
    assert good.ok and "is writable" in good.message
    assert not bad.ok and "is not writable" in bad.message
