"""The feed watch's options: one frozen object, every field commented, cross-checked in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pipeline.core.errors import ConfigError
from pipeline.core.settings import Settings

# A poll in progress holds its subscription, and its entries being processed, this long: past it, the poller is
# taken for dead and another takes them over. Long, because processing a long video episode takes a while.
POLL_LEASE = timedelta(hours=6)


@dataclass(frozen=True)
class WatchOptions:
    # Minutes between two polls of one feed.
    poll_minutes: float = 30.0
    # A failing feed waits poll_minutes × 2^failures before its next poll, at most this many hours.
    max_backoff_hours: float = 24.0
    # New episodes taken from one feed in one poll, newest first; the rest wait for the next poll, so a feed
    # that suddenly lists many new-looking entries does not swamp the machine.
    max_new_per_poll: int = 5
    # Seconds to wait for the feed server (the [ingest] http_timeout).
    timeout: float = 30.0
    # Put new episodes on the PostgreSQL job queue instead of processing them here.
    queue: bool = False
    # Runs of one entry whose processing failed (its download, or a stage) before it is left alone.
    max_attempts: int = 3

    def __post_init__(self) -> None:
        if self.poll_minutes <= 0:
            raise ConfigError(f"feeds poll_minutes must be above 0, got {self.poll_minutes:g}")
        if self.max_backoff_hours * 60 < self.poll_minutes:
            raise ConfigError(f"feeds max_backoff_hours ({self.max_backoff_hours:g} h) must be at least "
                              f"poll_minutes ({self.poll_minutes:g} min)")
        if self.max_new_per_poll < 1 or self.max_attempts < 1:
            raise ConfigError("feeds max_new_per_poll and max_attempts must be at least 1")
        if self.timeout <= 0:
            raise ConfigError(f"the feed timeout must be above 0 seconds, got {self.timeout:g}")

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> "WatchOptions":
        """``[feeds]`` with ``[ingest] http_timeout``; ``[feeds] queue`` needs a PostgreSQL database."""
        feeds = settings.feeds
        if feeds.queue and not settings.database_url.startswith("postgresql"):
            raise ConfigError("[feeds] queue = true needs a PostgreSQL database ([storage] database_url); "
                              "set it to false to process new episodes in the scheduler")
        values = {"poll_minutes": feeds.poll_minutes, "max_backoff_hours": feeds.max_backoff_hours,
                  "max_new_per_poll": feeds.max_new_per_poll, "timeout": settings.ingest.http_timeout,
                  "queue": feeds.queue}
        return cls(**{**values, **{k: v for k, v in overrides.items() if v is not None}})

    @property
    def interval(self) -> timedelta:
        return timedelta(minutes=self.poll_minutes)

    def backoff(self, failures: int) -> timedelta:
        """How long a feed that failed ``failures`` times in a row waits before its next poll."""
        cap = timedelta(hours=self.max_backoff_hours)
        if failures >= 32:  # 2^32 intervals is past any cap
            return cap
        return min(self.interval * 2 ** failures, cap)
