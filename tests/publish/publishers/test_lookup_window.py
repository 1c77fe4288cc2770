"""The look-up window shared by the text-matching publishers (``base.lookup_since`` and friends)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.publish.publishers import Post
from pipeline.publish.publishers.base import LOOKUP_CLOCK_SKEW, created_within, lookup_since, platform_time

FIRST = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("listed, expected", [
    ("2026-12-01T09:00:05+0000", FIRST + timedelta(seconds=5)),  # Graph (Instagram, Facebook, Threads)
    ("2026-12-01T09:00:05.000Z", FIRST + timedelta(seconds=5)),  # X
    ("2026-12-01T09:00:05.901Z", FIRST + timedelta(seconds=5, milliseconds=901)),  # Mastodon
    ("2026-12-01T10:00:05+01:00", FIRST + timedelta(seconds=5)),
    ("2026-12-01T09:00:05", FIRST + timedelta(seconds=5)),  # no offset: taken as UTC
    (int(FIRST.timestamp()) + 5, FIRST + timedelta(seconds=5)),  # TikTok create_time, Unix seconds
])
def test_platform_times_are_read_in_each_platforms_format(listed, expected):
    assert platform_time(listed) == expected


@pytest.mark.parametrize("listed", [None, "", "yesterday", "1764579605", True, [], {}])
def test_unreadable_times_are_none(listed):
    assert platform_time(listed) is None


def test_no_window_on_a_first_attempt():
    post = Post(parts=("New episode out now!",), idempotency_key="k")

    assert lookup_since(post) is None
    assert created_within("2001-01-01T00:00:00+0000", None) and created_within(None, None)


def test_the_window_starts_the_clock_skew_before_the_first_attempt():
    since = lookup_since(Post(parts=("x",), idempotency_key="k", first_attempt_at=FIRST))

    assert LOOKUP_CLOCK_SKEW == timedelta(minutes=5) and since == FIRST - LOOKUP_CLOCK_SKEW
    assert created_within("2026-12-01T08:55:00+0000", since)  # exactly at the start counts
    assert not created_within("2026-12-01T08:54:59+0000", since)
    assert not created_within(None, since) and not created_within("soon", since)


def test_a_naive_first_attempt_is_taken_as_utc():
    naive = FIRST.replace(tzinfo=None)

    assert lookup_since(Post(parts=("x",), idempotency_key="k", first_attempt_at=naive)) == FIRST - LOOKUP_CLOCK_SKEW
