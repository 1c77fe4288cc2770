"""The calendar's options: one frozen object whose defaults the library and the CLI both use."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.errors import ConfigError
from pipeline.core.vocab import DEFAULT_LATE_MINUTES


@dataclass(frozen=True)
class CalendarOptions:
    # A post later than this many minutes is marked missed instead of sent (stored per post).
    late_minutes: int = DEFAULT_LATE_MINUTES
    # How far ahead `schedule auto` fills the client's free posting slots.
    horizon_days: int = 28
    # next_free_slot gives up after this many days of taken slots.
    slot_search_days: int = 366
    # How many days `calendar list` shows when no last day is given (four weeks).
    list_days: int = 28
    # Characters of the post's text a calendar entry carries as its preview.
    preview_chars: int = 120

    def __post_init__(self) -> None:
        if self.late_minutes < 0:
            raise ConfigError("late_minutes must be 0 or more")
        if not 1 <= self.horizon_days <= self.slot_search_days:
            raise ConfigError(f"horizon_days must be between 1 and slot_search_days ({self.slot_search_days})")
        if self.list_days < 1 or self.preview_chars < 1:
            raise ConfigError("list_days and preview_chars must be at least 1")


DEFAULTS = CalendarOptions()
