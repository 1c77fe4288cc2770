"""The supervisor's timings (``castmill serve``): one frozen object, every field commented, cross-checked in one
place. Tests shorten them; the command runs with the defaults."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.errors import ConfigError


@dataclass(frozen=True)
class ServeOptions:
    # Seconds before a child that exited is started again; each further exit before it was healthy doubles it.
    restart_delay: float = 1.0
    # The longest wait between two starts of one child, however often it exits.
    max_restart_delay: float = 60.0
    # A child that ran this many seconds was healthy: its next restart waits restart_delay again.
    healthy_after: float = 60.0
    # An exit this many seconds or less after the start is a fast exit (bad settings, a missing module, a port
    # in use): the same thing is bound to happen again.
    fast_exit: float = 10.0
    # Fast exits in a row after which a child is given up on (the other children keep running).
    give_up_after: int = 5
    # On SIGTERM or Ctrl-C, seconds the children get to finish (the scheduler its current post, a worker its
    # jobs) before they are killed. Keep systemd's TimeoutStopSec above it.
    stop_grace: float = 30.0
    # Seconds between two looks at the children (and at a stop request).
    poll_interval: float = 0.2

    def __post_init__(self) -> None:
        if not 0 < self.restart_delay <= self.max_restart_delay:
            raise ConfigError(f"restart_delay ({self.restart_delay:g} s) must be above 0 and at most "
                              f"max_restart_delay ({self.max_restart_delay:g} s)")
        if not 0 < self.fast_exit <= self.healthy_after:
            # A run short enough to count toward giving up can never also count as healthy.
            raise ConfigError(f"fast_exit ({self.fast_exit:g} s) must be above 0 and at most "
                              f"healthy_after ({self.healthy_after:g} s)")
        if self.give_up_after < 1:
            raise ConfigError(f"give_up_after must be at least 1, got {self.give_up_after}")
        if self.stop_grace < 0:
            raise ConfigError(f"stop_grace must be 0 or more, got {self.stop_grace:g}")
        if not 0 < self.poll_interval <= self.restart_delay:
            # A slower look than the shortest restart would stretch every backoff.
            raise ConfigError(f"poll_interval ({self.poll_interval:g} s) must be above 0 and at most "
                              f"restart_delay ({self.restart_delay:g} s)")

    def delay_after(self, short_runs: int) -> float:
        """The wait before the next start of a child whose last ``short_runs`` runs (>= 1) all ended before
        ``healthy_after``."""
        return min(self.restart_delay * 2 ** (short_runs - 1), self.max_restart_delay)
