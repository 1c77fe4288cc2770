"""Sign-in, session and review-link options: one frozen object, used by the library and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pipeline.core.errors import ConfigError


@dataclass(frozen=True)
class AccessOptions:
    # How long a signed-in session lasts before the person signs in again.
    session_hours: int = 12
    # Failed sign-ins for one email within failure_window_minutes before the email is locked.
    max_failures: int = 5
    failure_window_minutes: int = 15
    # Shortest password accepted.
    min_password_length: int = 8
    # How long a review link works (the CLI's --hours default); links are signed, not stored.
    review_link_hours: int = 72

    def __post_init__(self) -> None:
        if min(self.session_hours, self.max_failures, self.failure_window_minutes, self.review_link_hours) < 1:
            raise ConfigError("session_hours, max_failures, failure_window_minutes and review_link_hours must be >= 1")
        if self.min_password_length < 8:
            raise ConfigError("min_password_length must be at least 8")

    @property
    def failure_window(self) -> timedelta:
        return timedelta(minutes=self.failure_window_minutes)


DEFAULTS = AccessOptions()
