"""The queue's options: one frozen object, every field commented, cross-checked in one place."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.errors import ConfigError
from pipeline.core.settings import QueueSettings


@dataclass(frozen=True)
class QueueOptions:
    # Jobs one worker runs at once, each in a thread; transcription already uses every core, so 1 per machine
    # is the sane default and more only helps when jobs wait on the network or the database.
    concurrency: int = 1
    # Runs of one job, the first included, before it is parked as failed: a transient failure (database or
    # storage unreachable) is retried, and so is a job whose worker died; bad input is never retried.
    max_attempts: int = 4
    # Seconds before the first retry of a transient failure; each later retry waits twice as long.
    retry_wait: float = 5.0
    # Seconds between a worker's heartbeats in the database.
    heartbeat: float = 10.0
    # A worker whose heartbeat is older than this is taken for dead (kill -9, power cut, lost network):
    # its running jobs go back to the queue for another worker, or are parked after ``max_attempts``.
    stalled_after: float = 60.0
    # On SIGTERM, seconds a worker lets its running jobs finish before giving up on them; 0 waits as long
    # as they take (a job cut short is retried by another worker).
    graceful_timeout: float = 0.0

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ConfigError(f"queue concurrency must be at least 1, got {self.concurrency}")
        if self.max_attempts < 1:
            raise ConfigError(f"queue max_attempts must be at least 1, got {self.max_attempts}")
        if self.stalled_after <= 2 * self.heartbeat:
            # One late heartbeat must not make a live worker look dead and run its job twice.
            raise ConfigError(f"queue stalled_after ({self.stalled_after:g} s) must be more than twice "
                              f"the heartbeat ({self.heartbeat:g} s)")

    @classmethod
    def from_settings(cls, settings: QueueSettings, **overrides) -> "QueueOptions":
        """The settings file's ``[queue]`` table, with any non-None flag laid over it."""
        values = {**settings.model_dump(), **{k: v for k, v in overrides.items() if v is not None}}
        return cls(**values)

    @property
    def retries(self) -> int:
        """procrastinate counts retries, not runs."""
        return self.max_attempts - 1
