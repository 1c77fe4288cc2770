"""The best-time model on engagement drawn from a known truth: it finds the better times, says nothing
without enough posts, bins in the client's own zone, and gives the same answer for the same rows."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.core.vocab import PER_POST, PER_VIEW
from pipeline.publish.best_time import NO_VIEWS, NOT_SETTLED, analyse_client
from pipeline.publish.options import BestTimeOptions
from pipeline.store.db import Database
from tests.helpers.calendar import add_client
from tests.helpers.engagement import NOW, add_published, seed_history
from tests.publish.best_time.conftest import BASE_RATE, BEST, CURRENT, TRIED, seed_truth, true_rate


def linkedin(db, slug: str = "acme", options: BestTimeOptions | None = None, now: datetime = NOW):
    with db.session() as session:
        [analysis] = analyse_client(session, slug, now=now, options=options, platform="linkedin")
    return analysis


def test_the_better_times_replace_the_weakest_current_slots(truth):
    analysis = linkedin(truth)
    assert analysis.measure == PER_VIEW and analysis.posts == 120 and analysis.reason == ""
    assert {(s.day, s.time) for s in analysis.new_slots} == BEST
    assert len(analysis.slots) == 3  # as many slots as today: two replaced, one kept
    [kept] = [s for s in analysis.slots if not s.new]
    assert (kept.day, kept.time) in {("mon", "12:00"), ("wed", "12:00"), ("fri", "12:00")}
    assert {s.replaces for s in analysis.new_slots} | {f"{kept.day} {kept.time}"} == {"mon 12:00", "wed 12:00",
                                                                                       "fri 12:00"}
    # The evidence: the current slots' rate is near the truth, and each new slot's interval is above it.
    assert analysis.baseline_source == "current slots" and analysis.baseline_posts == 36
    assert analysis.baseline == pytest.approx(BASE_RATE, rel=0.15)
    for slot in analysis.new_slots:
        assert slot.posts == 12 and slot.low > analysis.baseline and slot.low < slot.rate < slot.high
        assert slot.rate < 2 * BASE_RATE  # shrunk toward the current slots: an estimate, not the bin's raw mean
    assert analysis.posting_slots() == [
        {"platform": "linkedin", "days": ["tue"], "time": "09:00"},
        {"platform": "linkedin", "days": [kept.day], "time": "12:00"},
        {"platform": "linkedin", "days": ["thu"], "time": "17:00"}]
    evidence = analysis.evidence()
    assert evidence["posts"] == 120 and evidence["block_hours"] == 3 and evidence["timezone"] == "America/New_York"
    assert {(s["bin"], s["posts"]) for s in evidence["slots"] if s["new"]} == {("tue 09-12", 12), ("thu 15-18", 12)}


def test_no_difference_in_truth_gives_no_proposal(fresh_db):
    with fresh_db.session() as session:
        client = add_client(session, "flat", "America/New_York", CURRENT)
        seed_history(session, client, platform="linkedin", times=TRIED, weeks=12, rate=lambda d, h: BASE_RATE,
                     seed=11)
    analysis = linkedin(fresh_db, "flat")
    assert analysis.posts == 120 and not analysis.has_proposal
    assert analysis.reason.startswith("no time of week beats the linkedin current slots (")
    assert "by 20% with at least 4 posts" in analysis.reason


def test_too_few_posts_gives_no_proposal_and_says_how_many(fresh_db):
    with fresh_db.session() as session:
        client = add_client(session, "small", "UTC", CURRENT)
        seed_history(session, client, platform="linkedin", times=TRIED[:4], weeks=3, rate=true_rate, seed=3)
    analysis = linkedin(fresh_db, "small")
    assert not analysis.has_proposal and analysis.bins == ()
    assert analysis.reason == "12 published posts with numbers on linkedin, 30 needed"
    # x has slots but no posts at all: said too, not skipped
    with fresh_db.session() as session:
        by_platform = {a.platform: a for a in analyse_client(session, "small", now=NOW)}
    assert by_platform["x"].reason == "0 published posts with numbers on x, 30 needed"
    with fresh_db.session() as session:  # a lower bar in the settings is honoured
        [enough] = analyse_client(session, "small", now=NOW, options=BestTimeOptions(min_posts=12),
                                  platform="linkedin")
    assert enough.bins and "30 needed" not in enough.reason


def test_fresh_numbers_and_posts_without_views_are_left_out_and_counted(fresh_db):
    with fresh_db.session() as session:
        client = add_client(session, "mixed", "UTC", CURRENT)
        seed_history(session, client, platform="linkedin", times=TRIED[:3], weeks=10, rate=true_rate, seed=5)
        episode = client.episodes[0]
        at = NOW - timedelta(hours=30)
        add_published(session, client, episode, "linkedin", at, 5, 1, 0, 300, fetched_after=timedelta(hours=2))
        for k in range(4):
            add_published(session, client, episode, "linkedin", NOW - timedelta(days=3 + k), 9, 0, 0, None)
    analysis = linkedin(fresh_db, "mixed")
    assert analysis.measure == PER_VIEW and analysis.posts == 30
    assert analysis.left_out == {NOT_SETTLED: 1, NO_VIEWS: 4}
    assert analysis.evidence()["left_out"] == {NO_VIEWS: 4, NOT_SETTLED: 1}


def test_a_platform_without_views_is_measured_per_post(fresh_db):
    with fresh_db.session() as session:
        client = add_client(session, "toot", "Europe/Berlin",
                            [{"platform": "linkedin", "days": ["mon", "wed", "fri"], "time": "12:00"}])
        seed_history(session, client, platform="linkedin", times=TRIED, weeks=10, views=None, seed=9,
                     rate=lambda d, h: 24.0 if (d, h) in BEST else 12.0)  # interactions per post
    analysis = linkedin(fresh_db, "toot")
    assert analysis.measure == PER_POST and analysis.posts == 100
    assert {(s.day, s.time) for s in analysis.new_slots} == BEST
    assert analysis.rate_text(analysis.baseline).endswith("/post")


def _post_at_utc(db, slug: str, tz: str, instants: list[datetime]) -> None:
    with db.session() as session:
        client = add_client(session, slug, tz)
        from pipeline.store.models import Episode

        episode = Episode(client_id=client.id, source_uri="file:///z.mp3", media_path="/tmp/z.mp3",
                          sha256=slug.ljust(64, "0"), title="z")
        session.add(episode)
        session.flush()
        for at in instants:
            add_published(session, client, episode, "linkedin", at, 20, 2, 1, 1000)


def _bins_with_posts(db, slug: str, options: BestTimeOptions) -> dict[str, int]:
    return {b.label: b.posts for b in linkedin(db, slug, options).bins if b.posts}


def test_bins_are_local_to_the_clients_zone(fresh_db):
    # Tuesdays 14:00 UTC: 09:00 in New York (EST), 21:00 in Jakarta.
    tuesdays = [datetime(2026, 11, 3, 14, 0, tzinfo=timezone.utc) + timedelta(weeks=k) for k in range(5)]
    _post_at_utc(fresh_db, "nyc", "America/New_York", tuesdays)
    _post_at_utc(fresh_db, "jkt", "Asia/Jakarta", tuesdays)
    options = BestTimeOptions(min_posts=5, min_bin_posts=1)
    assert _bins_with_posts(fresh_db, "nyc", options) == {"tue 09-12": 5}
    assert _bins_with_posts(fresh_db, "jkt", options) == {"tue 21-24": 5}


def test_a_local_time_keeps_its_bin_across_the_dst_change(fresh_db):
    # New York springs forward on Sun 8 Mar 2026: 09:00 local is 14:00 UTC before and 13:00 UTC after.
    days = [datetime(2026, 3, 2) + timedelta(days=k) for k in range(14)]  # Mon 2 Mar to Sun 15 Mar
    local_nine = [d.replace(hour=14 if d.day < 8 else 13, tzinfo=timezone.utc) for d in days]
    fixed_utc = [d.replace(hour=14, tzinfo=timezone.utc) for d in days]
    _post_at_utc(fresh_db, "local", "America/New_York", local_nine)
    _post_at_utc(fresh_db, "utc", "America/New_York", fixed_utc)
    hourly = BestTimeOptions(min_posts=14, min_bin_posts=1, block_hours=1)
    now = datetime(2026, 3, 30, tzinfo=timezone.utc)
    assert {b.label: b.posts for b in linkedin(fresh_db, "local", hourly, now).bins if b.posts} == {
        f"{day} 09-10": 2 for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    moved = {b.label: b.posts for b in linkedin(fresh_db, "utc", hourly, now).bins if b.posts}
    # 14:00 UTC is 09:00 EST for the first week (Sun 8 Mar already EDT), then 10:00 EDT.
    assert moved == {"mon 09-10": 1, "tue 09-10": 1, "wed 09-10": 1, "thu 09-10": 1, "fri 09-10": 1,
                     "sat 09-10": 1, "sun 10-11": 2, "mon 10-11": 1, "tue 10-11": 1, "wed 10-11": 1,
                     "thu 10-11": 1, "fri 10-11": 1, "sat 10-11": 1}


def test_the_same_rows_give_the_same_proposal_whatever_their_order(fresh_db, castmill_home):
    seed_truth(fresh_db)
    other = Database(f"sqlite:///{castmill_home / 'other.db'}")
    try:
        seed_truth(other, shuffle=1)  # the same posts and numbers, written in another order (other ids)
        first, again, shuffled = linkedin(fresh_db), linkedin(fresh_db), linkedin(other)
    finally:
        other.dispose()
    assert json.dumps(first.evidence()) == json.dumps(again.evidence()) == json.dumps(shuffled.evidence())
