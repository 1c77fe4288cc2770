"""The CLI: `castmill scheduler run --once`, `castmill metrics fetch`, `castmill report weekly`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.cli.root import cli
from pipeline.store.db import Database
from pipeline.store.models import AuditEvent
from tests.helpers.cli import castmill
from tests.helpers.scheduler import make_posts, post_row


def test_the_root_group_carries_the_scheduler_commands():
    assert {"scheduler", "metrics", "report"} <= set(cli.commands)


@pytest.fixture
def home_db(castmill_home):
    assert castmill("init").exit_code == 0
    db = Database(f"sqlite:///{castmill_home.resolve() / 'castmill.db'}")
    yield db
    db.dispose()


def test_run_once_publishes_due_posts_to_the_outbox_and_reports_what_was_missed(castmill_home, home_db):
    now = datetime.now(timezone.utc)
    due = make_posts(home_db, 2, due_at=now - timedelta(minutes=2))
    [late] = make_posts(home_db, 1, due_at=now - timedelta(hours=3), key_prefix="late-")
    [future] = make_posts(home_db, 1, due_at=now + timedelta(hours=1), key_prefix="future-")
    result = castmill("scheduler", "run", "--once", "--json", "--worker-id", "cli-test")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [m["id"] for m in report["startup"]["missed"]] == [late]
    assert sorted(o["post_id"] for o in report["outcomes"]) == due and report["published"] == 2
    for post in due:
        row = post_row(home_db, post)
        assert row.status == "published" and row.worker == "cli-test"
        document = json.loads((castmill_home / "outbox" / "acme" / f"{row.idempotency_key}.json").read_text())
        assert document["parts"] == [f"Post number {due.index(post)} #podcast"]
        assert document["link"] == "https://example.com/ep1"
    assert post_row(home_db, late).status == "missed" and post_row(home_db, future).status == "scheduled"
    with home_db.session() as session:
        events = {(e.entity_id, e.action, e.actor) for e in session.query(AuditEvent)}
    assert {(due[0], "post.published", "scheduler"), (late, "post.missed", "scheduler")} <= events


def test_run_once_text_output_lists_the_missed_posts(castmill_home, home_db):
    now = datetime.now(timezone.utc)
    [late] = make_posts(home_db, 1, due_at=now - timedelta(hours=3))
    result = castmill("scheduler", "run", "--once")
    assert result.exit_code == 0, result.stderr
    assert "missed while the scheduler was down: 1 post(s)" in result.stdout
    assert f"post {late} (outbox, client 1)" in result.stdout and "180 min late (policy: 60 min)" in result.stdout
    assert "pass done: nothing due" in result.stdout


def test_a_post_for_a_platform_without_an_account_fails_with_a_clear_message(castmill_home, home_db):
    [post] = make_posts(home_db, 1, due_at=datetime.now(timezone.utc), platform="mastodon")
    result = castmill("scheduler", "run", "--once")
    assert result.exit_code == 0, result.stderr
    row = post_row(home_db, post)
    assert row.status == "failed" and row.error == "not sent: no mastodon account is connected for client acme"
    assert f"post {post}: failed: not sent: no mastodon account" in result.stdout


def test_metrics_fetch_counts_platforms_without_numbers(castmill_home, home_db):
    make_posts(home_db, 1, due_at=datetime.now(timezone.utc))
    assert castmill("scheduler", "run", "--once").exit_code == 0
    result = castmill("metrics", "fetch", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"fetched": 0, "unsupported": 1, "problems": []}
    unknown = castmill("metrics", "fetch", "--client", "nope")
    assert unknown.exit_code == 1 and "unknown client 'nope'" in unknown.stderr


def test_report_weekly_writes_markdown_and_html(castmill_home, home_db, tmp_path):
    now = datetime.now(timezone.utc)
    make_posts(home_db, 2, due_at=now - timedelta(minutes=1))
    assert castmill("scheduler", "run", "--once").exit_code == 0
    iso = (now - timedelta(minutes=1)).isocalendar()
    week = f"{iso.year}-W{iso.week:02d}"
    md = castmill("report", "weekly", "--client", "acme", "--week", week)
    assert md.exit_code == 0, md.stderr
    assert md.stdout.startswith(f"# Acme: week {week}") and "| 2 | 0 | 0 |" in md.stdout
    out = tmp_path / "reports" / "acme.html"
    html = castmill("report", "weekly", "--client", "acme", "--format", "html", "--out", str(out))
    assert html.exit_code == 0 and html.stdout.strip() == f"wrote {out}"
    assert "<svg" in out.read_text() and f"week {week}" in out.read_text()
    bad = castmill("report", "weekly", "--client", "acme", "--week", "last week")
    assert bad.exit_code == 1 and "not an ISO week" in bad.stderr
