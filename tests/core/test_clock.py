"""Time-zone rules: UTC storage, the spring-forward gap, the repeated autumn hour, zones without DST.

Expected instants are worked out by hand from each zone's offsets, not by zoneinfo.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.calendar import to_local, to_utc
from pipeline.core.errors import ConfigError

UTC = timezone.utc


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("zone, local, expected, shown_as", [
    # New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT. 02:30 does not exist: it moves forward
    # by the gap, to 03:30 EDT = 07:30 UTC (read with the pre-gap offset, -5 h).
    ("America/New_York", datetime(2026, 3, 8, 2, 30), utc(2026, 3, 8, 7, 30), datetime(2026, 3, 8, 3, 30)),
    # Berlin, 29 March 2026: 02:00 CET jumps to 03:00 CEST; 02:30 -> 03:30 CEST = 01:30 UTC.
    ("Europe/Berlin", datetime(2026, 3, 29, 2, 30), utc(2026, 3, 29, 1, 30), datetime(2026, 3, 29, 3, 30)),
    # Lord Howe, 4 October 2026: 02:00 (+10:30) jumps 30 minutes to 02:30 (+11); 02:15 -> 02:45 = 15:45 UTC.
    ("Australia/Lord_Howe", datetime(2026, 10, 4, 2, 15), utc(2026, 10, 3, 15, 45), datetime(2026, 10, 4, 2, 45)),
])
def test_a_time_in_the_spring_forward_gap_moves_forward_by_the_gap(zone, local, expected, shown_as):
    instant = to_utc(local, zone)
    assert instant == expected
    assert to_local(instant, zone).replace(tzinfo=None) == shown_as


def test_new_york_gap_shows_as_0330_daylight_time():
    shown = to_local(to_utc(datetime(2026, 3, 8, 2, 30), "America/New_York"), "America/New_York")
    assert (shown.hour, shown.minute, shown.utcoffset()) == (3, 30, timedelta(hours=-4))


@pytest.mark.parametrize("zone, local, first, second", [
    # New York, 1 November 2026: 01:00-02:00 happens twice (EDT -4, then EST -5). First = 05:30 UTC.
    ("America/New_York", datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)),
    # Berlin, 25 October 2026: 02:00-03:00 twice (CEST +2, then CET +1). First = 00:30 UTC.
    ("Europe/Berlin", datetime(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
    # Lord Howe, 5 April 2026: 01:30-02:00 twice (+11, then +10:30). First 01:45 = 14:45 UTC.
    ("Australia/Lord_Howe", datetime(2026, 4, 5, 1, 45), utc(2026, 4, 4, 14, 45), utc(2026, 4, 4, 15, 15)),
])
def test_a_repeated_autumn_time_is_its_first_occurrence(zone, local, first, second):
    assert to_utc(local, zone) == first
    # Both instants really show as the same wall-clock time: it is ambiguous, and we chose the first.
    assert to_local(first, zone).replace(tzinfo=None) == local
    assert to_local(second, zone).replace(tzinfo=None) == local


def test_jakarta_has_no_dst_so_0900_is_0200_utc_all_year():
    for month in range(1, 13):
        assert to_utc(datetime(2026, month, 15, 9, 0), "Asia/Jakarta") == utc(2026, month, 15, 2, 0)


def test_round_trip_of_every_existing_quarter_hour_across_the_dst_days():
    for zone, day in [("America/New_York", datetime(2026, 3, 8)), ("America/New_York", datetime(2026, 11, 1)),
                      ("Australia/Lord_Howe", datetime(2026, 10, 4)), ("Australia/Lord_Howe", datetime(2026, 4, 5))]:
        instant = to_utc(day, zone)
        end = to_utc(day + timedelta(days=1), zone)
        while instant < end:
            local = to_local(instant, zone).replace(tzinfo=None)
            if to_utc(local, zone) != instant:
                # only the second pass of a repeated hour maps back to the first occurrence
                assert to_utc(local, zone) < instant
                assert to_local(to_utc(local, zone), zone).replace(tzinfo=None) == local
            instant += timedelta(minutes=15)


def test_to_local_treats_naive_values_as_utc_like_sqlite_returns_them():
    assert to_local(datetime(2026, 7, 1, 12, 0), "Europe/Berlin").hour == 14
    assert to_local(utc(2026, 7, 1, 12, 0), "Europe/Berlin").hour == 14


def test_to_utc_refuses_an_aware_time_and_unknown_zones():
    with pytest.raises(ValueError):
        to_utc(utc(2026, 1, 1, 9, 0), "UTC")
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        to_utc(datetime(2026, 1, 1, 9, 0), "Mars/Olympus")
