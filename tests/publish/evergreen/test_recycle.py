"""The recycler: free future slots only, the interval, the weekly cap, never twice in a row, variations,
hard stops, approval, determinism and a scheduler that was down for days."""

from __future__ import annotations

import shutil
from collections import Counter

from sqlalchemy import select

from pipeline import review
from pipeline.calendar.scheduling import auto_schedule
from pipeline.core.clock import as_utc
from pipeline.platforms import get_platform
from pipeline.publish.evergreen import AUTO_APPROVER, ARCHIVE_PHRASES
from pipeline.publish.scheduler import sweep_missed
from pipeline.store.db import Database
from pipeline.store.models import Account, Approval, AuditEvent, Draft, EvergreenPost, ScheduledPost
from tests.helpers.calendar import add_draft, add_post, approve
from tests.publish.evergreen.helpers import T0, at, daily_client, days, evergreen, published, run, week_of

AUTO = dict(auto_approve=True)


def _post(session, outcome) -> ScheduledPost:
    return session.get(ScheduledPost, outcome.post_id)


def _text(session, post: ScheduledPost) -> str:
    return session.get(Draft, post.draft_id).latest.text


def test_a_copy_waits_the_minimum_interval_after_the_text_went_out(db, staff):
    with db.session() as session:
        client = daily_client(session, **AUTO)
        evergreen(session, staff, client, "Why long podcasts win", T0)
        published(session, staff, client, "Another post", T0 + days(1))
        [outcome] = run(session, staff, at(T0 + days(2)), min_interval_days=10, horizon_days=30)
        assert outcome.action == "scheduled", outcome.line()
        # every daily slot from T0+2d is free; the first allowed is 10 days after T0
        assert as_utc(_post(session, outcome).due_at) == T0 + days(10)

        [too_far] = run(session, staff, at(T0 + days(2)), min_interval_days=10, horizon_days=5)
        assert too_far.action == "waiting"  # the copy above is on the calendar: one copy at a time


def test_nothing_within_the_interval_means_no_slot_yet(db, staff):
    with db.session() as session:
        client = daily_client(session, **AUTO)
        evergreen(session, staff, client, "Why long podcasts win", T0)
        published(session, staff, client, "Another post", T0 + days(1))
        [outcome] = run(session, staff, at(T0 + days(2)), min_interval_days=30, horizon_days=14)
        assert outcome.action == "no slot"
        assert session.scalar(select(ScheduledPost).where(ScheduledPost.status == "scheduled")) is None


def test_weekly_cap_per_platform_and_free_slots_only(db, staff):
    with db.session() as session:
        client = daily_client(session, **AUTO)
        for k in range(5):
            evergreen(session, staff, client, f"Evergreen text number {k}", T0 + days(k))
        later = published(session, staff, client, "A later post", T0 + days(6))
        now = T0 + days(40)
        taken_slot = now.replace(hour=9) + days(1)
        add_post(session, approve(session, staff, add_draft(session, client, "x", "On the calendar")), taken_slot)
        outcomes = run(session, staff, at(now), min_interval_days=30, max_per_week=2, horizon_days=21)
        posts = [_post(session, o) for o in outcomes if o.action == "scheduled"]
        assert len(posts) >= 4, [o.line() for o in outcomes]
        dues = [as_utc(p.due_at) for p in posts]
        assert all(due > now for due in dues)
        assert taken_slot not in dues  # a free slot only
        assert len(set(dues)) == len(dues)
        assert max(Counter(week_of(d) for d in dues).values()) <= 2
        assert later.id not in {p.id for p in posts}


def test_never_the_same_text_twice_in_a_row_on_a_platform(db, staff):
    with db.session() as session:
        client = daily_client(session, **AUTO)
        evergreen(session, staff, client, "The only text on this account", T0)
        [blocked] = run(session, staff, at(T0 + days(40)), min_interval_days=1)
        assert blocked.action == "no slot"  # the last post on X is this very text

        other = published(session, staff, client, "Something else", T0 + days(41))
        [outcome] = run(session, staff, at(T0 + days(41) + days(0.5)), min_interval_days=1)
        assert outcome.action == "scheduled"
        post = _post(session, outcome)
        previous = session.scalars(select(ScheduledPost).where(ScheduledPost.due_at < post.due_at)
                                   .order_by(ScheduledPost.due_at.desc())).first()
        assert previous.id == other.id


def test_duplicate_refusing_platform_gets_a_variation_within_limits(db, staff):
    with db.session() as session:
        client = daily_client(session, **AUTO)
        original = "x" * 200 + " a long take on episodes\n\n#podcast #growth #audio"
        source = evergreen(session, staff, client, original, T0, hashtags=["#podcast", "#growth", "#audio"])
        texts = []
        for k in range(2):
            published(session, staff, client, f"Filler {k}", T0 + days(41 + 10 * k))
            [outcome] = run(session, staff, at(T0 + days(41 + 10 * k) + days(0.2)), min_interval_days=1)
            assert outcome.action == "scheduled", outcome.line()
            post = _post(session, outcome)
            texts.append(_text(session, post))
            post.status, post.published_at = "published", post.due_at  # it went out
            session.flush()
        first, second = texts
        assert original not in texts and first != second
        assert any(first.startswith(p) for p in ARCHIVE_PHRASES)
        assert first.rsplit("\n", 1)[1] != "#podcast #growth #audio"  # the hashtag line is rotated
        x = get_platform("x")
        assert all(x.fits(t) for t in texts)
        assert source.status == "published"


def test_a_text_with_no_room_for_a_phrase_stops_with_a_reason(db, staff):
    with db.session() as session:
        client = daily_client(session, **AUTO)
        evergreen(session, staff, client, "y" * 275, T0)
        published(session, staff, client, "Filler", T0 + days(41))
        [outcome] = run(session, staff, at(T0 + days(42)), min_interval_days=1)
        assert outcome.action == "stopped" and "fits the platform's limits" in outcome.message
        row = session.scalar(select(EvergreenPost))
        assert not row.active and "\n" not in row.stop_reason


def test_platform_accepting_repeats_gets_the_same_text(db, staff):
    with db.session() as session:
        client = daily_client(session, platform="mastodon", **AUTO)
        evergreen(session, staff, client, "Same words again", T0, platform="mastodon")
        published(session, staff, client, "Filler", T0 + days(41), platform="mastodon")
        [outcome] = run(session, staff, at(T0 + days(42)), min_interval_days=1)
        assert _text(session, _post(session, outcome)) == "Same words again"


def test_hard_stop_when_the_original_is_gone_or_no_longer_published(db, staff):
    with db.session() as session:
        client = daily_client(session, **AUTO)
        gone = evergreen(session, staff, client, "Deleted later", T0)
        withdrawn = evergreen(session, staff, client, "Withdrawn later", T0 + days(1))
        session.delete(gone)
        withdrawn.status = "cancelled"
        session.flush()
        outcomes = run(session, staff, at(T0 + days(60)), min_interval_days=1)
        assert [o.action for o in outcomes] == ["stopped", "stopped"]
        assert outcomes[0].message == "the original post was deleted"
        assert outcomes[1].message == "the original post is cancelled now, not published"
        stops = session.scalars(select(AuditEvent).where(AuditEvent.action == "evergreen.stop")).all()
        assert sorted(e.after["stop_reason"] for e in stops) == sorted(o.message for o in outcomes)
        assert session.scalar(select(ScheduledPost).where(ScheduledPost.status == "scheduled")) is None
        assert run(session, staff, at(T0 + days(61)), min_interval_days=1) == []  # stopped for good


def test_hard_stop_when_the_account_changed(db, staff):
    with db.session() as session:
        client = daily_client(session, **AUTO)
        old = Account(client_id=client.id, platform="x", name="default", handle="@old", token_env="X_OLD")
        session.add(old)
        session.flush()
        evergreen(session, staff, client, "Posted on the old account", T0, account=old)
        published(session, staff, client, "Filler", T0 + days(41), account=old)
        session.delete(old)
        session.flush()
        session.add(Account(client_id=client.id, platform="x", name="default", handle="@new", token_env="X_NEW"))
        session.flush()
        [outcome] = run(session, staff, at(T0 + days(42)), min_interval_days=1)
        assert outcome.action == "stopped"
        assert outcome.message == "the client's x account changed since the original went out"


def test_copies_need_review_unless_the_profile_says_auto_approve(db, staff):
    with db.session() as session:
        client = daily_client(session)  # no auto_approve: the default
        evergreen(session, staff, client, "Reviewed again", T0)
        published(session, staff, client, "Filler", T0 + days(41))
        now = T0 + days(42)
        [outcome] = run(session, staff, at(now), min_interval_days=1)
        assert outcome.action == "awaiting approval"
        draft = session.get(Draft, outcome.draft_id)
        assert draft.status == "draft" and review.approved_version(session, draft.id) is None
        assert auto_schedule(session, staff, client.slug, now=now) == []  # the recycler places copies
        [still] = run(session, staff, at(now), min_interval_days=1)
        assert still.action == "waiting"

        review.approve(session, staff, draft.id, version=1)  # the VA
        assert run(session, staff, at(now), min_interval_days=1)[0].action == "waiting"
        review.approve(session, staff, draft.id, version=1)  # the client's stage (an admin may)
        [placed] = run(session, staff, at(now), min_interval_days=1)
        assert placed.action == "scheduled" and placed.draft_id == draft.id
        actors = {e.actor for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "draft.approve"))}
        assert AUTO_APPROVER not in actors


def test_auto_approve_from_the_profile_is_audited(db, staff):
    with db.session() as session:
        client = daily_client(session, auto_approve=True)
        evergreen(session, staff, client, "Approved by the profile", T0)
        published(session, staff, client, "Filler", T0 + days(41))
        [outcome] = run(session, staff, at(T0 + days(42)), min_interval_days=1)  # global default: false
        assert outcome.action == "scheduled"
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "draft.auto_approve"))
        assert event.actor == AUTO_APPROVER and event.entity_id == outcome.draft_id
        assert review.approved_version(session, outcome.draft_id) is not None
        given = session.scalars(select(Approval).where(Approval.draft_id == outcome.draft_id)).all()
        assert sorted((a.stage, a.actor) for a in given) == [("client", AUTO_APPROVER), ("va", AUTO_APPROVER)]
        actions = {e.action for e in session.scalars(select(AuditEvent))}
        assert {"evergreen.mark", "evergreen.copy", "post.schedule"} <= actions


def test_after_days_of_downtime_nothing_fires_in_a_burst(db, staff):
    with db.session() as session:
        client = daily_client(session, **AUTO)
        for k in range(4):
            evergreen(session, staff, client, f"Evergreen {k}", T0 + days(k))
        published(session, staff, client, "Filler", T0 + days(5))
        before = run(session, staff, at(T0 + days(6)), min_interval_days=7, max_per_week=2)
        first = [_post(session, o) for o in before if o.action == "scheduled"]
        assert first
    down_until = max(as_utc(p.due_at) for p in first) + days(5)  # the scheduler was down past all of them
    missed = sweep_missed(db.session, now=down_until)
    assert {m.id for m in missed} >= {p.id for p in first}
    with db.session() as session:
        after = run(session, staff, at(down_until), min_interval_days=7, max_per_week=2)
        posts = [_post(session, o) for o in after if o.action == "scheduled"]
        assert posts
        dues = [as_utc(p.due_at) for p in posts]
        assert all(due > down_until for due in dues)
        assert len(set(dues)) == len(dues)
        assert max(Counter(week_of(d) for d in dues).values()) <= 2
        past_open = session.scalars(select(ScheduledPost).where(ScheduledPost.status == "scheduled",
                                                                ScheduledPost.due_at <= down_until)).all()
        assert past_open == []


def test_same_data_and_clock_give_the_same_schedule(db, staff, settings, tmp_path):
    with db.session() as session:
        client = daily_client(session, **AUTO)
        for k in range(3):
            evergreen(session, staff, client, f"Evergreen {k}", T0 + days(k), hashtags=["#a", "#b"])
        published(session, staff, client, "Filler", T0 + days(4))
    db.dispose()
    copy_path = tmp_path / "copy.db"
    shutil.copyfile(settings.home / "castmill.db", copy_path)

    def schedule_of(database):
        with database.session() as session:
            outcomes = run(session, staff, at(T0 + days(40)), min_interval_days=7)
            return [(o.evergreen_id, o.action, o.due_at, _text(session, _post(session, o)))
                    for o in outcomes if o.post_id]

    other = Database(f"sqlite:///{copy_path}")
    try:
        first, second = schedule_of(db), schedule_of(other)
    finally:
        other.dispose()
    assert first and first == second
