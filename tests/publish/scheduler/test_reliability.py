"""Exactly once against a real HTTP platform fake: kill -9 mid-batch, two schedulers on one database
(SQLite and PostgreSQL), and a platform that accepts a post but never answers.

The scheduler runs as its own process (``python -m pipeline.cli scheduler run``), publishing
through the webhook publisher to ``tests/fakes/webhook.FakeWebhook`` on 127.0.0.1, which records every
request: the number of POSTs per ``Idempotency-Key`` is the number of times a post was sent.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from pipeline.store.db import Database
from pipeline.store.models import Account, PublishAttempt, ScheduledPost
from pipeline.publish.publishers import base as publisher_base
from pipeline.publish.attempts import PublishOptions, default_publisher_factory
from pipeline.publish.scheduler import Scheduler, SchedulerOptions
from tests.fakes.webhook import FakeWebhook
from tests.helpers.scheduler import attempts_of, make_client, make_posts, post_row, statuses

HOOK = r"^/hooks/catch$"


@pytest.fixture
def hook():
    with FakeWebhook() as fake:
        yield fake


def webhook_account(db, fake: FakeWebhook, slug: str = "acme") -> int:
    client_id = make_client(db, slug)
    with db.session() as session:
        account = Account(client_id=client_id, platform="webhook", base_url=fake.url("/hooks/catch"),
                          extra={"secret": fake.token, "lookup_url": fake.url("/hooks/lookup")})
        session.add(account)
        session.flush()
        return account.id


def sends_per_key(fake: FakeWebhook) -> Counter:
    return Counter(r.header("idempotency-key") for r in fake.requests_to("POST", HOOK))


def start_scheduler(home, worker: str, logs, *extra: str, database_url: str | None = None) -> subprocess.Popen:
    env = dict(os.environ, CASTMILL_HOME=str(home))
    env.pop("CASTMILL_DATABASE_URL", None)
    if database_url:
        env["CASTMILL_DATABASE_URL"] = database_url
    log = open(logs / f"{worker}.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "scheduler", "run", "--worker-id",
                             worker, "--interval", "0.2", "--batch-size", "5", *extra],
                            env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for(condition, timeout: float, what: str, procs=(), logs=None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for proc in procs:
            assert proc.poll() is None, f"scheduler exited early ({proc.returncode}): {_tail(logs)}"
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {_tail(logs)}")
        time.sleep(0.01)


def _tail(logs) -> str:
    if logs is None:
        return ""
    return " | ".join(p.name + ": " + p.read_text(errors="replace")[-1500:] for p in sorted(logs.glob("*.log")))


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=30)


def test_kill_9_mid_batch_then_restart_publishes_every_post_exactly_once(fresh_db, castmill_home, hook, tmp_path):
    account = webhook_account(fresh_db, hook)
    posts = make_posts(fresh_db, 50, due_at=datetime.now(timezone.utc) - timedelta(minutes=1), platform="webhook",
                       account_id=account)
    keys = {post_row(fresh_db, p).idempotency_key: p for p in posts}
    hook.hang_next(times=20, path=HOOK, seconds=0.05)  # a slow platform: the kill lands mid-batch
    hook.hang_next(times=1, path=HOOK, seconds=120)  # the 21st post is created, its answer never comes
    hook.hang_next(times=1000, path=HOOK, seconds=0.02)

    first = start_scheduler(castmill_home, "first", tmp_path, "--lease-seconds", "3")
    try:
        wait_for(lambda: hook.post_count >= 21, 60, "21 posts on the fake", [first], tmp_path)
    finally:
        first.kill()  # SIGKILL: no clean-up of any kind
        first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    held_key = next(k for k in hook.posts if k not in {k2 for k2, p in keys.items()
                                                        if post_row(fresh_db, p).status == "published"})
    before = statuses(fresh_db)
    assert before["published"] == 20 and before["publishing"] >= 1  # the held post and the rest of its batch

    second = start_scheduler(castmill_home, "second", tmp_path, "--lease-seconds", "3")
    try:
        wait_for(lambda: statuses(fresh_db)["published"] == 50, 90, "all 50 published", [second], tmp_path)
    finally:
        code = stop(second)
    assert code == 0, _tail(tmp_path)

    assert hook.post_count == 50
    sent = sends_per_key(hook)
    assert set(sent) == set(keys) and set(sent.values()) == {1}, "a post was sent twice or never"
    assert attempts_of(fresh_db, keys[held_key]) == ["unknown", "reconciled_published"]
    with fresh_db.session() as session:
        published_by = Counter(session.scalars(select(PublishAttempt.worker)
                                               .where(PublishAttempt.outcome == "published")))
        sent_attempts = Counter(session.scalars(select(PublishAttempt.post_id)
                                                .where(PublishAttempt.outcome.in_(("published", "unknown")))))
    assert published_by["first"] == 20 and published_by["second"] == 29
    assert set(sent_attempts.values()) == {1}  # one real send per post, by the attempt rows as well
    restart_log = (tmp_path / "second.log").read_text()
    # at start-up or at a later tick, depending on when the 3 s lease ran out
    assert f"post {keys[held_key]}: lease expired while publishing; now unknown" in restart_log


def two_schedulers_publish_all_once(db: Database, home, hook: FakeWebhook, logs, database_url=None) -> None:
    account = webhook_account(db, hook)
    posts = make_posts(db, 60, due_at=datetime.now(timezone.utc) + timedelta(days=1), platform="webhook",
                       account_id=account)
    hook.hang_next(times=1000, path=HOOK, seconds=0.03)
    procs = [start_scheduler(home, name, logs, database_url=database_url) for name in ("alpha", "beta")]
    try:
        # both processes up and polling, then every post falls due at once
        wait_for(lambda: all("claiming every" in (logs / f"{n}.log").read_text() for n in ("alpha", "beta")),
                 60, "both schedulers to start", procs, logs)
        with db.session() as session:
            session.execute(update(ScheduledPost).values(due_at=datetime.now(timezone.utc)))
        wait_for(lambda: statuses(db)["published"] == 60, 120, "all 60 published", procs, logs)
    finally:
        codes = [stop(p) for p in procs]
    assert codes == [0, 0], _tail(logs)
    sent = sends_per_key(hook)
    assert len(sent) == 60 and set(sent.values()) == {1}
    with db.session() as session:
        attempts = session.execute(select(PublishAttempt.post_id, PublishAttempt.worker, PublishAttempt.outcome)).all()
        claims = Counter(session.scalars(select(ScheduledPost.attempts)))
    assert sorted(a.post_id for a in attempts) == sorted(posts)  # exactly one attempt row per post
    assert {a.outcome for a in attempts} == {"published"}
    assert claims == {1: 60}
    by_worker = Counter(a.worker for a in attempts)
    assert by_worker["alpha"] > 0 and by_worker["beta"] > 0, f"one worker did everything: {by_worker}"


def test_two_schedulers_on_one_sqlite_database_never_claim_the_same_post(fresh_db, castmill_home, hook, tmp_path):
    two_schedulers_publish_all_once(fresh_db, castmill_home, hook, tmp_path)


def test_two_schedulers_on_postgresql_never_claim_the_same_post(postgres_url, castmill_home, hook, tmp_path):
    db = Database(postgres_url)
    try:
        two_schedulers_publish_all_once(db, castmill_home, hook, tmp_path, database_url=postgres_url)
    finally:
        db.dispose()


def test_platform_accepts_then_times_out_post_is_unknown_then_reconciled_not_resent(fresh_db, castmill_home, hook,
                                                                                    monkeypatch):
    monkeypatch.setattr(publisher_base, "READ_TIMEOUT", 0.5)
    account = webhook_account(fresh_db, hook)
    now = datetime.now(timezone.utc)
    [post] = make_posts(fresh_db, 1, due_at=now, platform="webhook", account_id=account)
    hook.hang_next(times=1, path=HOOK, seconds=10)
    scheduler = Scheduler(fresh_db.session, default_publisher_factory(castmill_home),
                          SchedulerOptions(worker="w", publish=PublishOptions()), clock=lambda: now)
    first = scheduler.tick()
    assert [o.status for o in first.outcomes] == ["unknown"]
    row = post_row(fresh_db, post)
    assert row.status == "unknown" and "no answer" in row.error
    assert hook.post_count == 1  # the platform has it
    second = scheduler.tick()
    assert [o.attempt for o in second.reconciled] == ["reconciled_published"]
    row = post_row(fresh_db, post)
    assert row.status == "published" and row.remote_id == hook.posts[row.idempotency_key]["id"]
    assert sends_per_key(hook) == {row.idempotency_key: 1}
    assert len(hook.requests_to("GET", r"/hooks/lookup")) == 1


def test_sigterm_finishes_the_post_in_flight_and_hands_back_the_rest(fresh_db, castmill_home, hook, tmp_path):
    account = webhook_account(fresh_db, hook)
    posts = make_posts(fresh_db, 5, due_at=datetime.now(timezone.utc) - timedelta(minutes=1), platform="webhook",
                       account_id=account)
    hook.hang_next(times=1, path=HOOK, seconds=2)  # the first post's answer takes 2 s
    proc = start_scheduler(castmill_home, "graceful", tmp_path)
    try:
        wait_for(lambda: hook.post_count == 1, 60, "the first post on the fake", [proc], tmp_path)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0, _tail(tmp_path)
    assert post_row(fresh_db, posts[0]).status == "published"  # finished, not left unknown
    assert attempts_of(fresh_db, posts[0]) == ["published"]
    rest = [post_row(fresh_db, p) for p in posts[1:]]
    assert {(r.status, r.attempts, r.worker) for r in rest} == {("scheduled", 0, "")}
    assert hook.post_count == 1
    log = (tmp_path / "graceful.log").read_text()
    assert "released 4 claimed post(s) not yet started" in log and "scheduler graceful stopped" in log


def test_tokens_come_from_the_environment_and_never_reach_logs_or_rows(fresh_db, castmill_home, hook, monkeypatch,
                                                                         caplog):
    caplog.set_level(logging.DEBUG)
    account = webhook_account(fresh_db, hook)
    with fresh_db.session() as session:
        session.get(Account, account).token_env = "ACME_HOOK_TOKEN"
    now = datetime.now(timezone.utc)
    first, second = make_posts(fresh_db, 2, due_at=now, platform="webhook", account_id=account)
    monkeypatch.delenv("ACME_HOOK_TOKEN", raising=False)
    scheduler = Scheduler(fresh_db.session, default_publisher_factory(castmill_home),
                          SchedulerOptions(worker="w", batch_size=1), clock=lambda: now)
    with fresh_db.session() as session:  # only the first post is due for the first pass
        session.get(ScheduledPost, second).due_at = now + timedelta(minutes=1)
    scheduler.tick()
    row = post_row(fresh_db, first)
    assert row.status == "failed"
    assert row.error == "not sent: ACME_HOOK_TOKEN is not set (the token of account acme/webhook/default)"
    assert hook.post_count == 0
    monkeypatch.setenv("ACME_HOOK_TOKEN", "tok-live-5f3a9c")
    hook.fail_next(500, path=HOOK, json={"status": "error", "message": "temporary"})
    later = now + timedelta(minutes=1)
    Scheduler(fresh_db.session, default_publisher_factory(castmill_home), SchedulerOptions(worker="w"),
              clock=lambda: later).tick()
    assert post_row(fresh_db, second).status == "scheduled"  # 500: retry later
    [request] = hook.requests_to("POST", HOOK)
    assert request.header("authorization") == "Bearer tok-live-5f3a9c"
    with fresh_db.session() as session:
        stored = " ".join(f"{p.error} {p.remote_url}" for p in session.scalars(select(ScheduledPost)))
        stored += " ".join(a.error for a in session.scalars(select(PublishAttempt)))
    assert "tok-live-5f3a9c" not in stored and "tok-live-5f3a9c" not in caplog.text
