"""`castmill feeds add|list|remove|poll`, the scheduler's feed job, and who may watch feeds."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.access import auth
from pipeline.access.permissions import PermissionDenied
from pipeline.cli.root import cli
from pipeline.watch import add_feed, list_feeds, remove_feed
from tests.helpers.cli import castmill, castmill_json, castmill_process
from tests.review.conftest import cheap_hashing  # noqa: F401  (fixture: cheap argon2 for the sign-in)
from tests.watch.conftest import STAFF, entries, episode, subscription

NOW = datetime.now(timezone.utc)


def test_the_root_group_carries_the_feeds_commands():
    assert {"add", "list", "remove", "poll"} <= set(cli.commands["feeds"].commands)


def test_add_list_poll_and_remove_a_feed(db, host):
    host.add(episode("old", NOW - timedelta(days=3)), episode("older", NOW - timedelta(days=9)))
    added = castmill("feeds", "add", host.feed_url, "--client", "acme", "--backfill", "1")
    assert added.exit_code == 0, added.stderr
    assert "acme now watches feed 1: The Acme Show" in added.stdout and "newest 1" in added.stdout

    result, [listed] = castmill_json("feeds", "list", "--client", "acme")
    assert listed["url"] == host.feed_url and listed["state"] == "waiting" and listed["backfill"] == 1
    assert listed["last_poll_at"] is None and listed["failures"] == 0

    host.status = 500
    polled = castmill("feeds", "poll", "--client", "acme")
    assert polled.exit_code == 1
    assert "feed 1 (acme): failed: feed returned HTTP 500 (failure 1); next poll" in polled.stdout
    result, [failing] = castmill_json("feeds", "list")
    assert failing["state"] == "failing" and failing["failures"] == 1
    assert failing["last_error"] == "feed returned HTTP 500" and failing["next_poll_at"] > failing["last_poll_at"]
    table = castmill("feeds", "list").stdout  # a narrow terminal wraps the cells
    assert "acme" in table and "500" in table

    removed = castmill("feeds", "remove", host.feed_url, "--client", "acme")
    assert removed.exit_code == 0 and "acme no longer watches feed 1" in removed.stdout
    assert castmill_json("feeds", "list")[1] == []
    assert "no feeds watched" in castmill("feeds", "list").stdout


@pytest.mark.parametrize("args, message", [
    (["--client", "nobody"], "unknown client 'nobody'"),
    (["--client", "acme", "--backfill", "-1"], "Invalid value for '--backfill'"),
])
def test_add_refuses_bad_arguments_in_one_line(db, host, args, message):
    host.add(episode("old", NOW))
    result = castmill("feeds", "add", host.feed_url, *args)
    assert result.exit_code != 0 and message in result.stderr


def test_add_refuses_what_is_not_a_feed_and_a_feed_watched_already(db, host):
    page = host.url("/not-here")
    result = castmill("feeds", "add", page, "--client", "acme")
    assert result.exit_code == 1 and result.stderr.strip() == f"error: {page}: feed returned HTTP 404"
    assert castmill("feeds", "add", "ftp://example.com/feed", "--client", "acme").stderr.startswith(
        "error: 'ftp://example.com/feed' is not a feed address")
    host.add(episode("old", NOW))
    assert castmill("feeds", "add", host.feed_url, "--client", "acme").exit_code == 0
    again = castmill("feeds", "add", host.feed_url, "--client", "acme")
    assert again.exit_code == 1 and f"acme already watches {host.feed_url} (feed 1)" in again.stderr
    gone = castmill("feeds", "remove", "7", "--client", "acme")
    assert gone.exit_code == 1 and "acme watches no feed '7'" in gone.stderr


def test_an_empty_feed_may_be_watched(db, settings, host, clock):
    view = add_feed(STAFF, db, settings, "acme", host.feed_url, now=clock.now)
    assert view.title == "The Acme Show"


def test_only_staff_may_watch_feeds(db, settings, host, clock, cheap_hashing):  # noqa: F811
    host.add(episode("old", NOW))
    feed = add_feed(STAFF, db, settings, "acme", host.feed_url, now=clock.now)
    with db.session() as session:
        auth.add_user(session, "owner@acme.test", "correct horse battery", "client", client_slug="acme")
        owner = auth.login(session, "owner@acme.test", "correct horse battery")
    with pytest.raises(PermissionDenied):
        add_feed(owner, db, settings, "acme", host.url("/other.xml"))
    with db.session() as session, pytest.raises(PermissionDenied):
        list_feeds(owner, session, "acme")
    with db.session() as session, pytest.raises(PermissionDenied):
        remove_feed(owner, session, "acme", str(feed.id))
    assert subscription(db, feed.id).url == host.feed_url


def test_scheduler_run_once_polls_the_feeds_that_are_due(db, settings, host, clock):
    host.add(episode("old", NOW - timedelta(days=3)))
    feed_id = add_feed(STAFF, db, settings, "acme", host.feed_url).id
    result = castmill("scheduler", "run", "--once", "--json", "--worker-id", "feeds-test")
    assert result.exit_code == 0, result.stderr
    [polled] = json.loads(result.stdout)["feeds"]
    assert polled["feed_id"] == feed_id and polled["old"] == 1 and polled["error"] == ""
    assert subscription(db, feed_id).last_poll_at is not None
    text = castmill("scheduler", "run", "--once")
    assert "pass done: nothing due" in text.stdout and "feed" not in text.stdout  # not due again for 30 minutes


@pytest.mark.slow
def test_the_running_scheduler_polls_the_watched_feeds(db, settings, host, castmill_home):
    host.add(episode("old", NOW - timedelta(days=3)))
    feed_id = add_feed(STAFF, db, settings, "acme", host.feed_url).id
    proc = castmill_process("scheduler", "run", "--interval", "0.2", stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while subscription(db, feed_id).last_poll_at is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    polled = subscription(db, feed_id)
    assert polled.last_result == "1 older than the subscription, left alone" and polled.failures == 0
    assert [e.status for e in entries(db)] == ["old"] and len(host.requests) == 2  # the add, then one poll


def test_the_scheduler_refuses_to_start_with_a_feed_queue_on_sqlite(castmill_home):
    castmill_home.mkdir(parents=True, exist_ok=True)
    (castmill_home / "castmill.toml").write_text("[feeds]\nqueue = true\n")
    result = castmill("scheduler", "run", "--once")
    assert result.exit_code == 1 and "[feeds] queue = true needs a PostgreSQL database" in result.stderr
