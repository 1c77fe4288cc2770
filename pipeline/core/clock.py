"""Every time helper in one place: UTC instants, IANA zones, wall-clock conversions.

Rules the whole code base follows:

- Instants are stored and compared in UTC. SQLite hands back naive datetimes (stored as UTC),
  PostgreSQL aware ones: ``as_utc`` makes both aware UTC.
- A naive local time is read with ``fold=0`` (PEP 495): a time inside a spring-forward gap moves
  forward by the length of the gap (02:30 on the US spring-forward day is 03:30 EDT); a time in the
  repeated autumn hour is its first occurrence (01:30 on the US fall-back day is 01:30 EDT).
- Code that needs "now" takes a ``Clock`` so tests can move time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.core.errors import ConfigError

UTC = timezone.utc
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # datetime.weekday() order
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


system_clock: Clock = utcnow


def as_utc(value: datetime) -> datetime:
    """``value`` as aware UTC; a naive value is taken to be UTC already (how the database stores it)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; an unknown name is a ConfigError that says what a valid one looks like."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r} (use an IANA name like America/New_York)") from None


def to_utc(local: datetime, tz: str) -> datetime:
    """The UTC instant of a naive wall-clock time in ``tz`` (gap: moved forward; repeated hour: first)."""
    if local.tzinfo is not None:
        raise ValueError("to_utc takes a naive local time; use .astimezone(timezone.utc) for aware ones")
    return local.replace(tzinfo=zone(tz), fold=0).astimezone(UTC)


def to_local(utc: datetime, tz: str) -> datetime:
    """``utc`` (aware, or naive meaning UTC) as an aware time in ``tz``."""
    return as_utc(utc).astimezone(zone(tz))


def whole_seconds(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def media_position(seconds: float) -> str:
    """m:ss (h:mm:ss past an hour): a place in an episode, the way show notes and warnings write it."""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
