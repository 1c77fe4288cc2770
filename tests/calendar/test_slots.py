"""Recurring posting slots in the client's zone, and the next free one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.calendar import ScheduleError, next_free_slot, slot_times, to_local
from tests.helpers.calendar import NY_WEEKDAYS_0900, add_client, add_draft, add_post

UTC = timezone.utc


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_slots_across_the_spring_change_stay_at_0900_local(db):
    with db.session() as session:
        client = add_client(session, "acme", "America/New_York", NY_WEEKDAYS_0900)
        times = slot_times(client, "x", utc(2026, 3, 2), utc(2026, 3, 14))
    # Mon 2, Wed 4, Fri 6 are EST (-5): 14:00 UTC. Sunday 8 March the clocks go forward;
    # Mon 9, Wed 11, Fri 13 are EDT (-4): 13:00 UTC.
    assert times == [utc(2026, 3, 2, 14), utc(2026, 3, 4, 14), utc(2026, 3, 6, 14),
                     utc(2026, 3, 9, 13), utc(2026, 3, 11, 13), utc(2026, 3, 13, 13)]
    assert {(to_local(t, "America/New_York").hour, to_local(t, "America/New_York").minute) for t in times} == {(9, 0)}


def test_slots_across_the_autumn_change_stay_at_0900_local(db):
    with db.session() as session:
        client = add_client(session, "acme", "Europe/Berlin",
                            [{"platform": "linkedin", "days": ["fri", "mon"], "time": "09:00"}])
        times = slot_times(client, "linkedin", utc(2026, 10, 23), utc(2026, 10, 27))
    # Fri 23 October CEST (+2) = 07:00 UTC; Berlin falls back on Sunday 25; Mon 26 CET (+1) = 08:00 UTC.
    assert times == [utc(2026, 10, 23, 7), utc(2026, 10, 26, 8)]


def test_a_0230_slot_on_the_spring_forward_day_becomes_0330(db):
    with db.session() as session:
        client = add_client(session, "acme", "America/New_York",
                            [{"platform": "x", "days": ["sun"], "time": "02:30"}])
        times = slot_times(client, "x", utc(2026, 3, 1), utc(2026, 3, 16))
    # Sun 1 March EST: 07:30 UTC. Sun 8 (gap): 03:30 EDT = 07:30 UTC. Sun 15 EDT: 06:30 UTC.
    assert times == [utc(2026, 3, 1, 7, 30), utc(2026, 3, 8, 7, 30), utc(2026, 3, 15, 6, 30)]


def test_a_slot_in_the_repeated_hour_happens_once(db):
    with db.session() as session:
        client = add_client(session, "acme", "America/New_York",
                            [{"platform": "x", "days": ["sun"], "time": "01:30"}])
        times = slot_times(client, "x", utc(2026, 10, 31), utc(2026, 11, 2))
    assert times == [utc(2026, 11, 1, 5, 30)]  # 01:30 EDT, the first of the two 01:30s


def test_slot_range_is_start_inclusive_end_exclusive_and_per_platform(db):
    with db.session() as session:
        client = add_client(session, "budi", "Asia/Jakarta",
                            [{"platform": "x", "days": ["mon"], "time": "09:00"},
                             {"platform": "bluesky", "days": ["mon"], "time": "10:00"}])
        monday_x = utc(2026, 6, 1, 2)  # Mon 1 June 09:00 WIB (+7)
        assert slot_times(client, "x", monday_x, monday_x + timedelta(days=7)) == [monday_x]
        assert slot_times(client, "x", monday_x + timedelta(seconds=1), monday_x + timedelta(days=7)) == []
        assert slot_times(client, "bluesky", monday_x, monday_x + timedelta(days=7)) == [utc(2026, 6, 1, 3)]
        assert slot_times(client, "linkedin", monday_x, monday_x + timedelta(days=7)) == []


def test_next_free_slot_skips_taken_slots_of_the_same_client_and_platform(db):
    with db.session() as session:
        acme = add_client(session, "acme", "America/New_York", NY_WEEKDAYS_0900)
        other = add_client(session, "other", "America/New_York", NY_WEEKDAYS_0900)
        after = utc(2026, 3, 1)
        assert next_free_slot(session, acme, "x", after) == utc(2026, 3, 2, 14)

        add_post(session, add_draft(session, acme), utc(2026, 3, 2, 14), status="published")
        add_post(session, add_draft(session, acme), utc(2026, 3, 4, 14), status="scheduled")
        add_post(session, add_draft(session, acme), utc(2026, 3, 6, 14), status="cancelled")  # frees its slot
        add_post(session, add_draft(session, acme, "linkedin"), utc(2026, 3, 6, 14))  # another platform
        add_post(session, add_draft(session, other), utc(2026, 3, 6, 14))  # another client
        assert next_free_slot(session, acme, "x", after) == utc(2026, 3, 6, 14)

        add_post(session, add_draft(session, acme), utc(2026, 3, 6, 14), status="unknown")  # may have gone out
        assert next_free_slot(session, acme, "x", after) == utc(2026, 3, 9, 13)


def test_next_free_slot_is_strictly_after_the_given_instant(db):
    with db.session() as session:
        acme = add_client(session, "acme", "America/New_York", NY_WEEKDAYS_0900)
        assert next_free_slot(session, acme, "x", utc(2026, 3, 2, 14)) == utc(2026, 3, 4, 14)


def test_no_slots_for_the_platform_is_an_error_that_says_what_to_do(db):
    with db.session() as session:
        acme = add_client(session, "acme", "America/New_York", NY_WEEKDAYS_0900)
        with pytest.raises(ScheduleError, match="no posting slots for linkedin: pass a time"):
            next_free_slot(session, acme, "linkedin", utc(2026, 3, 1))
