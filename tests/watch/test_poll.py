"""Polling watched feeds on a real podcast host on 127.0.0.1: new episodes once, old ones never, failures back off."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from pipeline.core.settings import NetworkSettings, load_settings
from pipeline.core.vocab import STAGES
from pipeline.store.clients import build_profile, upsert_client
from pipeline.store.db import Database
from pipeline.store.models import Episode
from pipeline.watch import poll_due
from tests.fakes.feed import FeedServer
from tests.watch.conftest import OPTIONS, entries, episode, episode_count, ingest_only, subscribe, subscription


def poll(db, settings, clock, *, minutes: float = 31, options=OPTIONS, processor=ingest_only, **kwargs):
    """One pass of the scheduler's feed job, ``minutes`` after the last one."""
    return poll_due(db, settings, now=clock.advance(minutes=minutes), options=options, processor=processor, **kwargs)


@pytest.mark.slow
def test_a_new_episode_is_processed_once_through_every_stage_and_the_va_is_told(db, settings, host, clock, spoken,
                                                                                  monkeypatch):
    monkeypatch.setenv("CASTMILL_NOTIFY_WEBHOOK_URL", host.hook_url)
    host.add(episode("old", clock.now - timedelta(days=7), spoken[0]))
    subscribe(db, settings, host, clock)
    host.add(episode("new", clock.now + timedelta(minutes=5), spoken[1], title="Episode two: hiring"))

    [report] = poll(db, settings, clock, processor=None)  # the batch runner, every stage

    assert report.ok and [p.status for p in report.picked_up] == ["processed"] and report.old == 1
    with db.session() as session:
        picked = session.get(Episode, report.picked_up[0].episode_id)
        assert {s.stage: s.status for s in picked.stages} == dict.fromkeys(STAGES, "done")
        assert picked.source_uri == host.enclosure_url("new")
    assert host.downloads == ["/media/new.mp3"]  # the old episode was never fetched
    [notice] = host.notices  # the team's webhook, through the notification outbox
    [item] = notice["items"]
    assert item["kind"] == "new_episode" and item["link"].endswith(f"/episodes?episode={picked.id}")
    assert "Episode two: hiring" in notice["text"] and "acme" in notice["text"]
    assert [e.notified_via for e in entries(db, status="processed")] == ["outbox"]

    [again] = poll(db, settings, clock, processor=None)
    assert again.result == "not modified" and again.picked_up == []
    assert episode_count(db) == 1 and len(host.notices) == 1 and host.downloads == ["/media/new.mp3"]


def test_a_reordered_retitled_or_re_guided_episode_is_not_new_and_the_same_media_is_the_same_episode(
        db, settings, host, clock, spoken):
    host.add(episode("old", clock.now - timedelta(days=7)))
    subscribe(db, settings, host, clock)
    host.add(episode("a", clock.now + timedelta(minutes=1), spoken[0]),
             episode("b", clock.now + timedelta(minutes=2), spoken[1]))
    [first] = poll(db, settings, clock)
    assert sorted(p.title for p in first.picked_up) == ["Episode a", "Episode b"]
    assert {p.status for p in first.picked_up} == {"processed"} and episode_count(db) == 2

    host.reverse()
    host.edit("a", title="Episode A, retitled")
    host.edit("b", guid="a-new-guid-for-b")
    [edited] = poll(db, settings, clock)
    assert edited.picked_up == [] and edited.result == "nothing new"
    by_url = {e.enclosure_url: e for e in entries(db)}
    assert by_url[host.enclosure_url("a")].title == "Episode A, retitled"
    assert by_url[host.enclosure_url("b")].guid == "a-new-guid-for-b"

    host.edit("a", slug="a-on-a-new-cdn")  # the same GUID, another enclosure address
    [moved] = poll(db, settings, clock)
    assert moved.picked_up == [] and len(host.downloads) == 2

    # New GUID and new address, but the bytes of episode b: ingest's content hash makes it the same episode.
    host.add(episode("b-again", clock.now, spoken[1], guid="yet-another-guid"))
    [same_media] = poll(db, settings, clock)
    assert [(p.status, p.notified_via) for p in same_media.picked_up] == [("duplicate", "-")]
    assert episode_count(db) == 2


def test_an_unchanged_feed_gets_a_304_for_its_validators_and_nothing_is_processed(db, settings, host, clock):
    host.add(episode("old", clock.now - timedelta(days=7)))
    feed_id = subscribe(db, settings, host, clock)
    [first] = poll(db, settings, clock)
    assert first.result == "1 older than the subscription, left alone" and first.old == 1
    stored = subscription(db, feed_id)
    assert stored.etag and stored.last_modified
    assert "If-None-Match" not in host.requests[-1]  # the first poll had nothing to send

    [second] = poll(db, settings, clock)

    assert second.result == "not modified" and second.picked_up == []
    sent = host.requests[-1]
    assert sent["If-None-Match"] == stored.etag and sent["If-Modified-Since"] == stored.last_modified
    assert len(entries(db)) == 1 and subscription(db, feed_id).last_result == "not modified"


def test_a_host_with_last_modified_alone_gets_if_modified_since(db, settings, host, clock, spoken):
    host.send_etag = False
    host.add(episode("old", clock.now - timedelta(days=7)))
    feed_id = subscribe(db, settings, host, clock)
    poll(db, settings, clock)
    [unchanged] = poll(db, settings, clock)
    assert unchanged.result == "not modified" and "If-None-Match" not in host.requests[-1]
    assert host.requests[-1]["If-Modified-Since"] == subscription(db, feed_id).last_modified
    time.sleep(1.1)  # Last-Modified counts whole seconds
    host.add(episode("new", clock.now, spoken[0]))
    [changed] = poll(db, settings, clock)
    assert [p.title for p in changed.picked_up] == ["Episode new"]


def test_failures_back_off_with_their_reason_and_the_first_success_resets_them(db, settings, host, clock,
                                                                                 monkeypatch):
    host.add(episode("old", clock.now - timedelta(days=7)))
    feed_id = subscribe(db, settings, host, clock)
    poll(db, settings, clock)
    options = replace(OPTIONS, timeout=0.5)
    waits = []

    def failing_poll(expected_reason, settings=settings):
        due = subscription(db, feed_id).next_poll_at
        assert poll_due(db, settings, now=clock.now, options=options) == []  # not due before its time
        clock.now = due.replace(tzinfo=clock.now.tzinfo) + timedelta(seconds=1)
        [report] = poll_due(db, settings, now=clock.now, options=options, processor=ingest_only)
        stored = subscription(db, feed_id)
        assert report.error == stored.last_error and expected_reason in stored.last_error, stored.last_error
        assert "\n" not in stored.last_error and stored.last_result == "failed"
        waits.append(stored.next_poll_at.replace(tzinfo=clock.now.tzinfo) - clock.now)
        return stored

    host.status = 404
    assert failing_poll("feed returned HTTP 404").failures == 1
    host.status = 500
    assert failing_poll("feed returned HTTP 500").failures == 2
    host.status, host.delay = 200, 1.5
    assert failing_poll("cannot fetch feed: ReadTimeout").failures == 3
    host.delay = 0
    monkeypatch.delenv("CASTMILL_NETWORK_ALLOW")
    refusing = settings.model_copy(update={"network": NetworkSettings()})
    assert failing_poll("loopback", settings=refusing).failures == 4
    assert waits == [timedelta(minutes=60), timedelta(minutes=120), timedelta(minutes=240), timedelta(minutes=480)]

    monkeypatch.setenv("CASTMILL_NETWORK_ALLOW", "127.0.0.1")
    clock.now = subscription(db, feed_id).next_poll_at.replace(tzinfo=clock.now.tzinfo)
    [recovered] = poll_due(db, settings, now=clock.now, options=options, processor=ingest_only)
    stored = subscription(db, feed_id)
    assert recovered.ok and stored.failures == 0 and stored.last_error == ""
    assert stored.next_poll_at.replace(tzinfo=clock.now.tzinfo) == clock.now + timedelta(minutes=30)


def test_the_backoff_stops_at_its_cap():
    assert OPTIONS.backoff(1) == timedelta(hours=1) and OPTIONS.backoff(6) == timedelta(hours=24)
    assert OPTIONS.backoff(100) == timedelta(hours=24)


def test_one_failing_feed_does_not_stop_the_others(db, settings, host, clock, spoken):
    host.add(episode("old", clock.now - timedelta(days=7)))
    subscribe(db, settings, host, clock)
    with FeedServer() as healthy:
        healthy.add(episode("x-old", clock.now - timedelta(days=7)))
        subscribe(db, settings, healthy, clock)
        healthy.add(episode("x-new", clock.now + timedelta(minutes=1), spoken[0]))
        host.status = 500
        reports = poll(db, settings, clock)
    assert sorted((r.url, r.ok) for r in reports) == sorted([(host.feed_url, False), (healthy.feed_url, True)])
    assert [p.title for r in reports for p in r.picked_up] == ["Episode x-new"]


def test_a_processing_crash_is_recorded_and_the_entry_is_tried_again_at_the_next_poll(db, settings, host, clock,
                                                                                       spoken):
    host.add(episode("old", clock.now - timedelta(days=7)))
    subscribe(db, settings, host, clock)
    host.add(episode("new", clock.now + timedelta(minutes=1), spoken[0]))

    def crashing(*_args):
        raise RuntimeError("disk full")

    [crashed] = poll(db, settings, clock, processor=crashing)
    assert crashed.ok and [(p.status, p.error) for p in crashed.picked_up] == [
        ("failed", "processing stopped: RuntimeError: disk full")]

    [retried] = poll(db, settings, clock)
    assert "If-None-Match" not in host.requests[-1]  # a 304 would have hidden the entry waiting for its retry
    assert [p.status for p in retried.picked_up] == ["processed"]
    [entry] = entries(db, status="processed")
    assert entry.attempts == 2 and entry.episode_id is not None


def test_a_missing_enclosure_is_tried_a_few_times_then_left_alone(db, settings, host, clock, spoken):
    host.add(episode("old", clock.now - timedelta(days=7)))
    subscribe(db, settings, host, clock)
    host.add(episode("new", clock.now + timedelta(minutes=1), spoken[0]))
    host.media_status = 404
    for attempt in (1, 2, 3):
        [report] = poll(db, settings, clock)
        assert [p.status for p in report.picked_up] == ["failed"] and "HTTP 404" in report.picked_up[0].error
        assert entries(db, status="failed")[0].attempts == attempt
    host.media_status = 200
    [given_up] = poll(db, settings, clock)
    assert given_up.picked_up == [] and episode_count(db) == 0


def test_more_new_episodes_than_a_poll_takes_wait_and_undated_ones_are_new_once_the_feed_was_read(
        db, settings, host, clock, spoken):
    host.add(episode("undated-old", None))
    subscribe(db, settings, host, clock)
    [first] = poll(db, settings, clock)
    assert first.old == 1 and first.picked_up == []
    host.add(*[episode(f"new{n}", clock.now + timedelta(minutes=n), spoken[n]) for n in range(3)])
    host.add(episode("undated-new", None, spoken[3]), first=False)
    two_at_a_time = replace(OPTIONS, max_new_per_poll=2)

    [busy] = poll(db, settings, clock, options=two_at_a_time)
    assert [p.title for p in busy.picked_up] == ["Episode new1", "Episode new2"] and busy.waiting == 2
    [rest] = poll(db, settings, clock, options=two_at_a_time)
    assert sorted(p.title for p in rest.picked_up) == ["Episode new0", "Episode undated-new"] and rest.waiting == 0
    assert episode_count(db) == 4


def test_a_guid_shared_by_several_entries_is_not_trusted(db, settings, host, clock, spoken):
    host.add(episode("old", clock.now - timedelta(days=7), guid="the-show"))
    subscribe(db, settings, host, clock)
    host.add(episode("one", clock.now + timedelta(minutes=1), spoken[0], guid="the-show"),
             episode("two", clock.now + timedelta(minutes=2), spoken[1], guid="the-show"))
    [report] = poll(db, settings, clock)
    assert sorted(p.title for p in report.picked_up) == ["Episode one", "Episode two"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def any_db(request, castmill_home, monkeypatch):
    """The database on SQLite, or on the session's private PostgreSQL server; with clients acme and budi."""
    if request.param == "postgres":
        monkeypatch.setenv("CASTMILL_DATABASE_URL", request.getfixturevalue("postgres_url"))
    settings = load_settings(castmill_home)
    db = Database(settings.database_url)
    with db.session() as session:
        for slug in ("acme", "budi"):
            upsert_client(session, build_profile(slug=slug, name=slug.title(), speakers="off"))
    yield db, settings
    db.dispose()


def test_500_old_episodes_flood_nothing_and_a_backfill_takes_exactly_the_newest_n(any_db, host, clock, spoken):
    db, settings = any_db
    host.add(episode("first", clock.now - timedelta(days=900)))
    acme_feed = subscribe(db, settings, host, clock)
    host.add(*[episode(f"old{n}", clock.now - timedelta(days=n + 1), spoken[n] if n < 3 else b"")
               for n in range(500)])

    [flood] = poll(db, settings, clock)

    assert flood.picked_up == [] and flood.old == 501 and host.downloads == []
    assert len(entries(db, subscription_id=acme_feed, status="old")) == 501

    budi_feed = subscribe(db, settings, host, clock, backfill=2, client="budi")
    [backfilled] = poll(db, settings, clock, client_slug="budi")
    assert [p.title for p in backfilled.picked_up] == ["Episode old1", "Episode old0"]  # oldest first
    assert [p.status for p in backfilled.picked_up] == ["processed", "processed"]
    assert sorted(host.downloads) == ["/media/old0.mp3", "/media/old1.mp3"]
    assert subscription(db, budi_feed).backfilled_at is not None
    host.edit("old5", title="A retitled old episode")  # the feed changes: the backfill is not taken again
    [later] = poll(db, settings, clock, client_slug="budi")
    assert later.picked_up == [] and len(host.downloads) == 2
    with db.session() as session:
        assert {e.client.slug for e in session.scalars(select(Episode))} == {"budi"}


def test_two_schedulers_polling_at_once_process_an_episode_once(db, settings, host, clock, spoken):
    host.add(episode("old", clock.now - timedelta(days=7)))
    subscribe(db, settings, host, clock)
    host.add(episode("new", clock.now + timedelta(minutes=1), spoken[0]))
    now = clock.advance(minutes=31)
    processed = []

    def slow(db_, settings_, slug, sources):
        processed.extend(s.uri for s in sources)
        time.sleep(0.5)
        return ingest_only(db_, settings_, slug, sources)

    threads = [threading.Thread(target=poll_due, args=(db, settings),
                                kwargs={"now": now, "options": OPTIONS, "processor": slow}) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert processed == [host.enclosure_url("new")] and episode_count(db) == 1


def test_a_feed_being_polled_is_not_polled_again_until_its_claim_runs_out(db, settings, host, clock):
    from pipeline.store.models import FeedSubscription
    from pipeline.watch.options import POLL_LEASE

    host.add(episode("old", clock.now - timedelta(days=7)))
    feed_id = subscribe(db, settings, host, clock)
    with db.session() as session:  # a scheduler's poll in progress
        session.get(FeedSubscription, feed_id).polling_since = clock.now
    assert poll_due(db, settings, now=clock.now, options=OPTIONS, force=True) == []
    [taken_over] = poll_due(db, settings, now=clock.now + POLL_LEASE, options=OPTIONS, force=True)
    assert taken_over.ok and subscription(db, feed_id).polling_since is None
