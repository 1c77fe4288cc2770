"""The scheduler's and the publisher's options: frozen, every field commented, light to import
(the CLI takes its flag defaults from them)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from pipeline.core.errors import ConfigError


@dataclass(frozen=True)
class PublishOptions:
    # Attempts (claims) per post before a retryable error becomes "failed".
    max_attempts: int = 5
    # Back-off before a retry: base * 2^(attempt-1) seconds, capped; a Retry-After header wins when longer.
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0
    # Wait before reconciling a post whose worker vanished, so a slow in-flight call can land first.
    reconcile_delay_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError("max_attempts must be at least 1")
        if not 0 < self.backoff_base_seconds <= self.backoff_max_seconds:
            raise ConfigError("backoff_base_seconds must be above 0 and at most backoff_max_seconds")
        if self.reconcile_delay_seconds < 0:
            raise ConfigError("reconcile_delay_seconds must be 0 or more")


def default_worker_id() -> str:
    """host:pid, unique among the workers of one database."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class SchedulerOptions:
    # This worker's name in claims, leases and attempts.
    worker: str = field(default_factory=default_worker_id)
    # Posts claimed per atomic UPDATE; a worker drains due posts batch after batch within one tick.
    batch_size: int = 20
    # How long a claim holds. Must outlive the slowest publish (publisher timeouts: 10 s connect +
    # 60 s per read, several calls for media): a shorter lease could reconcile a post still in flight.
    lease_seconds: int = 600
    # How each claimed post is sent and retried.
    publish: PublishOptions = PublishOptions()

    def __post_init__(self) -> None:
        if not self.worker:
            raise ConfigError("a scheduler worker needs a name")
        if self.batch_size < 1 or self.lease_seconds < 1:
            raise ConfigError("batch_size and lease_seconds must be at least 1")


@dataclass(frozen=True)
class BestTimeOptions:
    """How posting slots are learned from engagement (``publish/best_time.py``); see ``[best_time]``."""

    # Published posts with settled numbers a platform needs before anything is proposed for it.
    min_posts: int = 30
    # Hours per time-of-week bin; must divide 24.
    block_hours: int = 3
    # Only posts published within this many days count.
    lookback_days: int = 182
    # A post counts once its newest numbers were fetched at least this many hours after publishing.
    settle_hours: float = 24.0
    # The prior's weight in posts (the pull of each bin toward the current slots' rate).
    prior_posts: float = 8.0
    # The share by which a bin must beat the current slot it replaces.
    margin: float = 0.2
    # Posts a bin needs of its own before it can be proposed.
    min_bin_posts: int = 4
    # Two-sided coverage of the intervals.
    confidence: float = 0.9
    # Slots proposed for a platform that has none yet.
    new_slots: int = 3

    def __post_init__(self) -> None:
        if self.block_hours < 1 or 24 % self.block_hours:
            raise ConfigError(f"block_hours must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24), not {self.block_hours}")
        if self.min_bin_posts < 1 or self.min_posts < self.min_bin_posts:
            raise ConfigError("min_bin_posts must be at least 1 and at most min_posts")
        if self.prior_posts <= 0 or self.margin < 0:
            raise ConfigError("prior_posts must be above 0 and margin 0 or more")
        if not 0.5 < self.confidence < 1:
            raise ConfigError("confidence must be between 0.5 and 1 (0.9 = 90 %)")
        if self.lookback_days < 1 or self.settle_hours < 0 or self.new_slots < 1:
            raise ConfigError("lookback_days and new_slots must be at least 1, settle_hours 0 or more")

    @classmethod
    def from_settings(cls, settings, **overrides) -> "BestTimeOptions":
        """The settings file's ``[best_time]`` table (a ``BestTimeSettings``), any non-None override laid over it."""
        values = {**settings.model_dump(), **{k: v for k, v in overrides.items() if v is not None}}
        return cls(**values)


@dataclass(frozen=True)
class NoticeOptions:
    """When clients are reminded and the VA is told (the [notices] settings; a client's [reminders] over them)."""

    # Hours a draft may wait for the client's approval before the client is reminded.
    after_hours: float = 24.0
    # A draft already on the calendar: reminded this many hours before its slot, when that comes first.
    before_slot_hours: float = 24.0
    # At most one reminder per draft per this many hours (the period) while it keeps waiting.
    every_hours: float = 24.0
    # Hours of waiting after which the VA is told the approval stalls (once per version).
    stall_after_hours: float = 72.0
    # False: the client gets no reminders (the VA still hears of stalls).
    enabled: bool = True
    # The hour (in each user's zone) of the daily digest.
    digest_hour: int = 8
    # Sends of one notification before it is left failed; the wait between them doubles from backoff_seconds.
    max_attempts: int = 8
    backoff_seconds: float = 60.0
    backoff_max_seconds: float = 6 * 3600.0
    # Hours the review link in a reminder works.
    review_link_hours: int = 72
    # How long a sender holds the notifications it claimed; longer than one SMTP or webhook exchange.
    lease_seconds: int = 300

    def __post_init__(self) -> None:
        if min(self.after_hours, self.stall_after_hours) <= 0 or self.before_slot_hours < 0:
            raise ConfigError("after_hours and stall_after_hours must be above 0, before_slot_hours 0 or more")
        if self.every_hours < 1:
            raise ConfigError("every_hours must be at least 1: one reminder per draft per period")
        if not 0 <= self.digest_hour <= 23:
            raise ConfigError("digest_hour must be an hour from 0 to 23")
        if self.max_attempts < 1 or not 0 < self.backoff_seconds <= self.backoff_max_seconds:
            raise ConfigError("max_attempts must be at least 1, backoff_seconds above 0 and at most backoff_max_seconds")
        if self.review_link_hours < 1 or self.lease_seconds < 1:
            raise ConfigError("review_link_hours and lease_seconds must be at least 1")

    @classmethod
    def from_settings(cls, notices) -> "NoticeOptions":
        """From the [notices] settings (``pipeline.core.settings.NoticeSettings``)."""
        return cls(**{name: getattr(notices, name) for name in cls.__dataclass_fields__ if hasattr(notices, name)})

    def for_client(self, overrides: dict | None) -> "NoticeOptions":
        """These options with a client's [reminders] table (only the fields it sets) laid over them."""
        from dataclasses import replace

        given = {name: value for name, value in (overrides or {}).items()
                 if value is not None and name in ("after_hours", "before_slot_hours", "every_hours",
                                                   "stall_after_hours", "enabled")}
        return replace(self, **given) if given else self


@dataclass(frozen=True)
class EvergreenOptions:
    """How one client's evergreen posts are recycled (``publish/evergreen.py``); ``[evergreen]`` with the
    client profile's ``[evergreen]`` table over it (``from_settings``)."""

    # Days that must pass after a text went out before a copy of it is queued again.
    min_interval_days: int = 30
    # Recycled posts per platform per week (Monday to Sunday in the client's zone) at most.
    max_per_week: int = 2
    # True: a copy is approved by Castmill itself (audited as such); False: the VA, then the client.
    auto_approve: bool = False
    # Days ahead a free slot is looked for.
    horizon_days: int = 14

    def __post_init__(self) -> None:
        if self.min_interval_days < 1:
            raise ConfigError("evergreen min_interval_days must be at least 1")
        if self.max_per_week < 0:
            raise ConfigError("evergreen max_per_week must be 0 or more")
        if not 1 <= self.horizon_days <= 90:
            raise ConfigError("evergreen horizon_days must be between 1 and 90")

    @classmethod
    def from_settings(cls, settings, client_overrides: dict | None = None) -> "EvergreenOptions":
        """``settings``: the ``[evergreen]`` table (EvergreenSettings); ``client_overrides``: the fields the
        client's profile sets (``Client.evergreen_settings``)."""
        values = {name: getattr(settings, name) for name in ("min_interval_days", "max_per_week", "auto_approve",
                                                             "horizon_days")}
        values.update({k: v for k, v in (client_overrides or {}).items() if v is not None and k in values})
        return cls(**values)
