"""`castmill schedule …`, `castmill calendar …` and `castmill accounts …` end to end (click's CliRunner)."""

from __future__ import annotations

import json
from datetime import timezone

import pytest
from click.testing import CliRunner
from icalendar import Calendar
from sqlalchemy import select

from pipeline.cli.root import cli
from pipeline.store.models import Account, AuditEvent
from tests.helpers.calendar import NY_WEEKDAYS_0900, add_client, add_draft, approved_draft
from tests.helpers.cli import castmill
from tests.fakes.mastodon import FakeMastodon

UTC = timezone.utc


@pytest.fixture
def drafts(db, staff):
    """Client acme (New York, Mon/Wed/Fri 09:00 on x) with three approved drafts and one that is not."""
    with db.session() as session:
        client = add_client(session, "acme", "America/New_York", NY_WEEKDAYS_0900)
        approved = [approved_draft(session, staff, client, text=f"Approved post {n}").id for n in (1, 2, 3)]
        waiting = add_draft(session, client, text="not yet").id
    return db, approved, waiting


def ok(*args, **kwargs):
    result = castmill(*args, **kwargs)
    assert result.exit_code == 0, result.stderr
    return result


def failed(*args) -> str:
    result = castmill(*args)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr  # one line
    return result.stderr.strip()


def test_schedule_a_draft_at_a_local_time_and_list_it(drafts):
    db, approved, waiting = drafts
    result = ok("schedule", str(approved[0]), "--at", "2030-06-03 09:00", "--late-minutes", "30", "--json")
    post = json.loads(result.stdout)
    assert (post["due_at_utc"], post["due_local_client"]) == ("2030-06-03T13:00:00+00:00", "2030-06-03T09:00:00-04:00")
    assert (post["status"], post["publisher"], post["late_minutes"]) == ("scheduled", "outbox", 30)

    text = ok("schedule", str(approved[1]), "--at", "2030-06-03 09:00", "--tz", "Europe/Berlin").stdout
    assert "at 2030-06-03 07:00 UTC = 2030-06-03 03:00 EDT (America/New_York)" in text

    listed = json.loads(ok("calendar", "list", "--client", "acme", "--from", "2030-06-01", "--to", "2030-06-30",
                           "--json").stdout)
    assert [(e["draft_id"], e["due_at_utc"]) for e in listed] == [(approved[1], "2030-06-03T07:00:00+00:00"),
                                                                 (approved[0], "2030-06-03T13:00:00+00:00")]
    table = ok("calendar", "list", "--client", "acme", "--from", "2030-06-01", "--to", "2030-06-30",
               "--tz", "Asia/Jakarta", env={"COLUMNS": "250"}).stdout
    assert "2030-06-03 20:00 WIB" in table and "2030-06-03 09:00 EDT" in table and "2 post(s)" in table
    assert json.loads(ok("calendar", "list", "--client", "acme", "--from", "2030-07-01", "--json").stdout) == []


def test_schedule_errors_are_one_line_with_exit_1(drafts):
    db, approved, waiting = drafts
    assert failed("schedule", str(waiting)) == f"error: draft {waiting} is not approved (status draft): " \
                                               "only an approved version can be scheduled"
    assert "cannot read time 'next tuesday'" in failed("schedule", str(approved[0]), "--at", "next tuesday")
    assert "is in the past" in failed("schedule", str(approved[0]), "--at", "2020-01-01 09:00")
    assert failed("calendar", "cancel", "999", "--reason", "gone") == "error: no scheduled post 999"
    assert "unknown time zone 'Moon/Base'" in failed("schedule", str(approved[0]), "--at", "2030-06-03 09:00",
                                                     "--tz", "Moon/Base")
    ok("schedule", "draft", str(approved[0]), "--at", "2030-06-03 09:00")  # the explicit spelling works too
    assert "use `castmill calendar reschedule" in failed("schedule", str(approved[0]))


def test_auto_then_reschedule_cancel_and_export(drafts):
    db, approved, waiting = drafts
    placed = json.loads(ok("schedule", "auto", "--client", "acme", "--days", "366", "--json").stdout)
    assert sorted(p["draft_id"] for p in placed) == approved
    assert all(p["due_local_client"].endswith(("T09:00:00-04:00", "T09:00:00-05:00")) for p in placed)
    assert "0 post(s) scheduled for acme" in ok("schedule", "auto", "--client", "acme").stdout

    first, second = placed[0]["post_id"], placed[1]["post_id"]
    moved = ok("calendar", "reschedule", str(first), "--at", "2031-01-15 10:30").stdout
    assert "at 2031-01-15 15:30 UTC = 2031-01-15 10:30 EST (America/New_York)" in moved
    cancelled = ok("calendar", "cancel", str(second), "--reason", "guest asked").stdout
    assert cancelled.startswith(f"cancelled post {second}")

    feed = ok("calendar", "export", "--client", "acme").stdout_bytes
    events = {str(e["X-CASTMILL-STATUS"]) for e in Calendar.from_ical(feed).walk("VEVENT")}
    assert events == {"scheduled", "cancelled"}
    assert ok("calendar", "export", "--client", "acme").stdout_bytes == feed
    with db.session() as session:
        actions = [(e.actor, e.action, e.entity_id) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action.startswith("post.")).order_by(AuditEvent.id))]
    assert actions[-2:] == [("cli", "post.reschedule", first), ("cli", "post.cancel", second)]
    assert [a for a in actions if a[1] == "post.schedule"] == [("cli", "post.schedule", p["post_id"]) for p in placed]


def test_accounts_add_list_and_check(drafts, monkeypatch):
    db, approved, waiting = drafts
    with FakeMastodon() as server:
        monkeypatch.delenv("ACME_MASTODON_TOKEN", raising=False)
        ok("accounts", "add", "acme", "mastodon", "--instance", server.base_url, "--token-env", "ACME_MASTODON_TOKEN",
           "--handle", "castmill", "--expires", "2030-06-02 00:00")
        [row] = json.loads(ok("accounts", "list", "--client", "acme", "--json").stdout)
        assert (row["platform"], row["token"], row["expires_at"]) == \
            ("mastodon", "env ACME_MASTODON_TOKEN", "2030-06-02T04:00:00+00:00")  # midnight in New York

        missing = castmill("accounts", "check")
        assert missing.exit_code == 1
        assert "FAIL acme/mastodon/default: ACME_MASTODON_TOKEN is not set" in missing.stdout

        monkeypatch.setenv("ACME_MASTODON_TOKEN", FakeMastodon.token)
        checked = ok("accounts", "check").stdout
        assert "ok   acme/mastodon/default: mastodon: signed in as @castmill" in checked
        assert FakeMastodon.token not in checked
        assert "1 of 1 account(s) ok" in checked


def test_a_prompted_token_is_stored_encrypted_and_never_printed(drafts, monkeypatch):
    db, approved, waiting = drafts
    monkeypatch.setenv("CASTMILL_SECRET_KEY", "a-long-random-secret-for-this-test-0123456789")
    token = "x-token-that-must-stay-secret"
    result = CliRunner().invoke(cli, ["accounts", "add", "acme", "x", "--token-prompt", "--name", "brand"],
                                input=f"{token}\n", catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert token not in result.stdout + result.stderr
    assert "token: encrypted" in result.stdout
    listed = ok("accounts", "list", env={"COLUMNS": "250"}).stdout
    assert token not in listed and "encrypted" in listed
    with db.session() as session:
        account = session.scalar(select(Account))
        assert account.token_encrypted and token not in account.token_encrypted

    monkeypatch.delenv("CASTMILL_SECRET_KEY")
    assert "CASTMILL_SECRET_KEY is not set" in failed("accounts", "add", "acme", "x", "--token-prompt")


def test_account_extras_read_true_and_false_as_flags(drafts):
    ok("accounts", "add", "acme", "tiktok", "--token-env", "ACME_TIKTOK_TOKEN", "--extra", "audited=false",
       "--extra", "media_base_url=https://cdn.example.com/clips")
    db = drafts[0]
    with db.session() as session:
        [account] = session.scalars(select(Account)).all()
        assert account.extra == {"audited": False, "media_base_url": "https://cdn.example.com/clips"}


def test_an_unknown_post_is_resolved_by_a_person_with_a_note(drafts):
    from pipeline.store.models import ScheduledPost

    db, approved, waiting = drafts
    ok("schedule", str(approved[0]), "--at", "2030-01-07 09:00")
    ok("schedule", str(approved[1]), "--at", "2030-01-09 09:00")
    with db.session() as session:
        first, second = session.scalars(select(ScheduledPost).order_by(ScheduledPost.id)).all()
        first.status = second.status = "unknown"  # what the scheduler leaves when a platform cannot tell
        ids = first.id, second.id
    refused = castmill("calendar", "resolve", str(ids[0]), "--published", "--note", "")
    assert refused.exit_code == 1 and "a note is required" in refused.stderr
    ok("calendar", "resolve", str(ids[0]), "--published", "--url", "https://social.test/p/1", "--note", "seen it")
    ok("calendar", "resolve", str(ids[1]), "--not-published", "--note", "not on the profile")
    with db.session() as session:
        one, two = (session.get(ScheduledPost, i) for i in ids)
        assert (one.status, one.remote_url) == ("published", "https://social.test/p/1")
        assert two.status == "failed" and "not on the profile" in two.error
        notes = [e.after.get("note") for e in session.scalars(select(AuditEvent).where(
            AuditEvent.action == "post.resolve").order_by(AuditEvent.id))]
        assert notes == ["seen it", "not on the profile"]
    again = castmill("calendar", "resolve", str(ids[0]), "--not-published", "--note", "x")
    assert again.exit_code == 1 and "is published" in again.stderr
