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
