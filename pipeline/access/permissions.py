"""The permission rules, each once: who may approve at which stage, send a draft back, edit a
client's settings, process episodes, export or erase a client's data. The library calls them before
acting; the dashboard calls the same functions only to decide which buttons to draw.
"""

from __future__ import annotations

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from pipeline.access.identity import Identity, check_session
from pipeline.core.errors import CastmillError, NotFoundError
from pipeline.core.vocab import ADMIN, CLIENT, REJECTED, STAGE_CLIENT, STAGE_VA, VA
from pipeline.store.models import Episode


class PermissionDenied(CastmillError):
    """The identity may not do this (the message says who may)."""


def may_approve(identity: Identity, stage: str | None) -> bool:
    """Whether ``identity`` may give the approval a draft waits for at ``stage`` (None: nothing awaited).

    The VA stage is approved by staff; the client stage by the client's own people or an admin.
    """
    if stage == STAGE_VA:
        return identity.is_staff
    if stage == STAGE_CLIENT:
        return identity.role in (CLIENT, ADMIN)
    return False


def check_may_approve(identity: Identity, stage: str, draft_id: int) -> None:
    if may_approve(identity, stage):
        return
    if stage == STAGE_VA:
        raise PermissionDenied(f"draft {draft_id} is waiting for the VA's review; only a VA or admin can approve it now")
    raise PermissionDenied(f"draft {draft_id} is waiting for the client's approval; a VA cannot give it")


def may_send_back(identity: Identity, status: str, stage: str | None) -> bool:
    """Ask for changes or reject a draft in ``status`` awaiting ``stage``: never a rejected draft; a VA only
    at the VA stage; a client or an admin at any time."""
    if status == REJECTED:
        return False
    return identity.role != VA or stage == STAGE_VA


def may_manage_clients(identity: Identity) -> bool:
    """Client profiles, templates, episodes and stage re-runs: staff (admin and VA) only."""
    return identity.is_staff


def require_staff(identity: Identity, what: str) -> None:
    """Refuse ``what`` (e.g. "change client settings") to anyone but an admin or a VA."""
    check_session(identity)
    if not may_manage_clients(identity):
        raise PermissionDenied(f"only a VA or an admin can {what}")


def may_handle_client_data(identity: Identity) -> bool:
    """Export or erase all of a client's data: an admin only (a VA prepares drafts; it does not hand a
    client's whole archive over, nor wipe it)."""
    return identity.role == ADMIN


def require_admin(identity: Identity, what: str) -> None:
    """Refuse ``what`` (e.g. "export a client's data") to anyone but an admin."""
    check_session(identity)
    if not may_handle_client_data(identity):
        raise PermissionDenied(f"only an admin can {what}")


def may_see_health(identity: Identity) -> bool:
    """The health checks (``castmill doctor``, the dashboard's Health page): admins only. They show every
    client's accounts, stuck posts and queue errors, and the machines' state."""
    return identity.role == ADMIN


def require_health_access(identity: Identity) -> None:
    """Refuse the health checks to anyone but an admin."""
    check_session(identity)
    if not may_see_health(identity):
        raise PermissionDenied("only an admin can see the health checks")


def client_scope(query: Select, identity: Identity, client_id_column) -> Select:
    """``query`` narrowed to the rows ``identity`` may see: all for staff, its own client's for a client
    identity, none for a client identity without a client. The one read-side scoping rule."""
    if identity.is_staff:
        return query
    if identity.client_id is None:
        return query.where(false())
    return query.where(client_id_column == identity.client_id)


def visible_episode(session: Session, identity: Identity, episode_id: int) -> Episode:
    """The episode if ``identity`` may see it; another client's episode is "not found", like a missing one."""
    check_session(identity)
    episode = session.scalar(client_scope(select(Episode).where(Episode.id == episode_id), identity, Episode.client_id))
    if episode is None:
        raise NotFoundError(f"no episode {episode_id}")
    return episode
