"""Who is acting: the ``Identity`` every library call that reads or changes client data takes.

An identity is built only by ``auth.login``, ``auth.identity_from_review_link`` and
``system_identity``; it carries its own expiry, checked by ``check_session``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.core.clock import UTC, as_utc, utcnow
from pipeline.core.errors import CastmillError
from pipeline.core.vocab import ADMIN, CLIENT, STAFF_ROLES


class SessionExpired(CastmillError):
    """The identity's session (or review link) is past its expiry."""


@dataclass(frozen=True)
class Identity:
    """Who is acting. Built only by ``login``, ``identity_from_review_link`` and ``system_identity``."""

    user_id: int | None  # None for a review-link identity (no user row)
    email: str  # the user's email, or "review link <client>" for a review link
    role: str  # one of vocab.ROLES
    client_id: int | None  # the client a client identity belongs to; None for staff
    client_slug: str | None
    display_name: str
    timezone: str  # the viewer's IANA zone
    expires_at: datetime  # UTC

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_review_link(self) -> bool:
        return self.user_id is None and self.role == CLIENT

    def can_see_client(self, client_id: int | None) -> bool:
        return self.is_staff or (self.client_id is not None and client_id == self.client_id)


def system_identity(name: str) -> Identity:
    """Castmill itself acting as staff (the command line, the scheduler, the demo), named ``name`` in the
    audit trail. Never handed to a person: sign-ins go through ``login``."""
    return Identity(user_id=None, email=name, role=ADMIN, client_id=None, client_slug=None,
                    display_name=name, timezone="UTC", expires_at=datetime.max.replace(tzinfo=UTC))


def check_session(identity: Identity, now: datetime | None = None) -> None:
    """Raise SessionExpired once the identity is past its expiry."""
    if as_utc(now or utcnow()) >= identity.expires_at:
        raise SessionExpired("this review link has expired" if identity.is_review_link
                             else "your session has expired; sign in again")
