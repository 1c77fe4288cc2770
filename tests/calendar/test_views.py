"""Calendar entries for the dashboard, status colours, and the iCalendar feed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar
from sqlalchemy import event, update

from pipeline.calendar import STATUS_COLOURS, cancel, entries, export_ics, reschedule, schedule
from pipeline.publish.credentials import add_account
from pipeline.store.models import Client, ScheduledPost
from tests.helpers.calendar import NY_WEEKDAYS_0900, add_client, approved_draft

UTC = timezone.utc
NOW = datetime(2030, 5, 30, 12, 0, tzinfo=UTC)
RANGE = {"start_utc": datetime(2030, 5, 1, tzinfo=UTC), "end_utc": datetime(2030, 8, 1, tzinfo=UTC)}
LONG_TEXT = "Why small shops win on service. " * 6  # 192 characters: under X's 280


@pytest.fixture
def calendar_rows(db, staff):
    """acme (New York): three posts on x (one via its account) and one on linkedin; budi (Jakarta): one."""
    with db.session() as session:
        acme = add_client(session, "acme", "America/New_York",
                          NY_WEEKDAYS_0900 + [{"platform": "linkedin", "days": ["tue"], "time": "10:00"}])
        budi = add_client(session, "budi", "Asia/Jakarta", [{"platform": "x", "days": ["mon"], "time": "09:00"}])
        add_account(session, "acme", "linkedin", name="company", token_env="ACME_LINKEDIN")
        posts = [schedule(session, staff, approved_draft(session, staff, acme, text=LONG_TEXT).id, now=NOW),
                 schedule(session, staff, approved_draft(session, staff, acme, text="second").id, now=NOW),
                 schedule(session, staff, approved_draft(session, staff, acme, "linkedin", "hello, world; "
                                                          "linked").id, now=NOW),
                 schedule(session, staff, approved_draft(session, staff, budi, text="Halo").id, now=NOW)]
        return db, [p.id for p in posts]


def test_entries_carry_both_zones_the_account_and_a_preview(calendar_rows, staff):
    db, ids = calendar_rows
    with db.session() as session:
        rows = entries(session, staff, **RANGE)
    # due order: acme Fri 31 May 13:00Z, budi Mon 3 June 02:00Z, acme Mon 13:00Z, acme linkedin Tue 14:00Z
    assert [r.post_id for r in rows] == [ids[0], ids[3], ids[1], ids[2]]
    first, budi, linked = rows[0], rows[1], rows[3]
    assert first.due_at_utc == datetime(2030, 5, 31, 13, tzinfo=UTC)
    assert first.due_local_client.isoformat() == "2030-05-31T09:00:00-04:00"
    assert (first.client_slug, first.platform, first.account, first.publisher) == ("acme", "x", "outbox", "outbox")
    assert first.text_preview == LONG_TEXT[:120] and len(first.text_preview) == 120
    assert (first.status, first.colour, first.late_minutes, first.error) == ("scheduled", STATUS_COLOURS["scheduled"],
                                                                             60, "")
    assert first.due_in("Asia/Jakarta").isoformat() == "2030-05-31T20:00:00+07:00"
    assert (linked.platform, linked.account, linked.publisher) == ("linkedin", "company", "linkedin")
    assert linked.due_local_client.isoformat() == "2030-06-04T10:00:00-04:00"
    assert (budi.client_timezone, budi.due_local_client.isoformat()) == ("Asia/Jakarta", "2030-06-03T09:00:00+07:00")


def test_entries_filter_by_range_client_platform_and_status(calendar_rows, staff):
    db, ids = calendar_rows
    with db.session() as session:
        cancel(session, staff, ids[1], "dropped")
        def found(**kwargs):
            return [r.post_id for r in entries(session, staff, **({**RANGE, **kwargs}))]

        assert found(client_slug="budi") == [ids[3]]
        assert found(client_slug="acme", platform="x") == [ids[0], ids[1]]
        assert found(statuses=["cancelled"]) == [ids[1]]
        assert found(statuses=("scheduled",), client_slug="acme") == [ids[0], ids[2]]
        # [start, end): a post due exactly at the end is left out, one due at the start is in
        assert found(start_utc=datetime(2030, 5, 31, 13, tzinfo=UTC),
                     end_utc=datetime(2030, 6, 3, 2, tzinfo=UTC)) == [ids[0]]


def test_entries_is_one_query_however_many_posts(calendar_rows, staff):
    db, _ids = calendar_rows
    with db.session() as session:
        acme = session.get(Client, session.get(ScheduledPost, _ids[0]).client_id)
        for _ in range(12):
            schedule(session, staff, approved_draft(session, staff, acme).id, now=NOW)
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.session() as session:
            rows = entries(session, staff, **RANGE)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(rows) == 16
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_every_post_status_has_a_colour():
    statuses = {"scheduled", "publishing", "published", "unknown", "failed", "missed", "cancelled"}
    assert set(STATUS_COLOURS) == statuses
    assert len(set(STATUS_COLOURS.values())) == len(statuses)  # tellable apart
    assert all(c.startswith("#") and len(c) == 7 for c in STATUS_COLOURS.values())


def test_the_ical_feed_parses_back_to_the_same_events(calendar_rows, staff):
    db, ids = calendar_rows
    with db.session() as session:
        cancel(session, staff, ids[1], "dropped")
        session.execute(update(ScheduledPost).where(ScheduledPost.id == ids[2])
                        .values(status="published", remote_url="https://www.linkedin.com/feed/update/1"))
        feed = export_ics(session, "acme")
        posts = {p.id: p for p in session.query(ScheduledPost).filter(ScheduledPost.id.in_(ids[:3]))}
    parsed = Calendar.from_ical(feed)
    events = parsed.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"{posts[i].idempotency_key}@castmill" for i in ids[:3]]
    by_uid = {str(e["UID"]).removesuffix("@castmill"): e for e in events}
    for post in posts.values():
        got = by_uid[post.idempotency_key]
        assert got.decoded("DTSTART") == post.due_at.replace(tzinfo=UTC)
        assert str(got["X-CASTMILL-STATUS"]) == post.status
    first = by_uid[posts[ids[0]].idempotency_key]
    assert str(first["SUMMARY"]).startswith("x: Why small shops win on service.")
    assert str(first["DESCRIPTION"]) == LONG_TEXT
    linked = by_uid[posts[ids[2]].idempotency_key]
    assert str(linked["SUMMARY"]) == "linkedin: hello, world; linked"  # commas and semicolons survive escaping
    assert (str(linked["STATUS"]), str(linked["URL"])) == ("CONFIRMED", "https://www.linkedin.com/feed/update/1")
    assert str(by_uid[posts[ids[1]].idempotency_key]["STATUS"]) == "CANCELLED"
    assert "Halo" not in feed.decode()  # budi's post is not in acme's feed
    assert str(parsed["X-WR-TIMEZONE"]) == "America/New_York"


def test_the_feed_is_byte_identical_until_something_changes(calendar_rows, staff):
    db, ids = calendar_rows
    with db.session() as session:
        first = export_ics(session, "acme")
    with db.session() as session:
        assert export_ics(session, "acme") == first
        reschedule(session, staff, ids[0], at=datetime(2030, 6, 14, 9, 0), now=NOW)
    with db.session() as session:
        changed = export_ics(session, "acme")
    assert changed != first
    moved = [e for e in Calendar.from_ical(changed).walk("VEVENT") if e.decoded("DTSTART").day == 14]
    assert len(moved) == 1 and moved[0].decoded("DTSTART") == datetime(2030, 6, 14, 13, tzinfo=UTC)


def test_an_unknown_client_has_no_feed(db):
    from pipeline.core.errors import NotFoundError

    with db.session() as session, pytest.raises(NotFoundError, match="unknown client 'nobody'"):
        export_ics(session, "nobody")


def test_due_times_survive_the_database_as_utc(calendar_rows):
    db, ids = calendar_rows
    with db.session() as session:
        stored = session.get(ScheduledPost, ids[3]).due_at
    assert stored.replace(tzinfo=UTC) == datetime(2030, 6, 3, 2, tzinfo=UTC)  # Mon 09:00 WIB (+7)
    assert stored.utcoffset() in (None, timedelta(0))
