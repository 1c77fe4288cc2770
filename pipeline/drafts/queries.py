"""Read-side of drafts for the CLI and the dashboard: listing and rule checks, scoped by client."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pipeline.access.identity import Identity, check_session
from pipeline.access.permissions import client_scope
from pipeline.core.errors import NotFoundError
from pipeline.store.clients import get_client
from pipeline.store.models import Client, Draft
from pipeline.platforms import get_platform


@dataclass(frozen=True)
class DraftRow:
    id: int
    client: str
    episode_id: int
    subject: str
    platform: str
    language: str
    status: str
    version: int
    parts: list[str]
    length: int  # of the first post, as the platform counts it
    limit: int
    media: list[dict]

    def to_dict(self) -> dict:
        return asdict(self)


def list_drafts(session: Session, identity: Identity, client_slug: str | None = None, status: str | None = None,
                episode_id: int | None = None) -> list[DraftRow]:
    """The drafts ``identity`` may see, narrowed by client, status and episode."""
    check_session(identity)
    query = (select(Draft, Client.slug).join(Client, Client.id == Draft.client_id)
             .options(selectinload(Draft.versions)).order_by(Draft.episode_id, Draft.platform, Draft.id))
    query = client_scope(query, identity, Draft.client_id)
    if client_slug:
        query = query.where(Draft.client_id == get_client(session, client_slug).id)
    if status:
        query = query.where(Draft.status == status)
    if episode_id:
        query = query.where(Draft.episode_id == episode_id)
    return [_row(draft, slug) for draft, slug in session.execute(query) if draft.latest is not None]


def _row(draft: Draft, slug: str) -> DraftRow:
    platform = get_platform(draft.platform)
    latest = draft.latest
    return DraftRow(draft.id, slug, draft.episode_id, draft.highlight_key, draft.platform, draft.language,
                    draft.status, latest.number, list(latest.parts), platform.count(latest.parts[0]),
                    platform.text_limit, list(latest.media or []))


def get_draft(session: Session, identity: Identity, draft_id: int, client_slug: str | None = None) -> Draft:
    """The draft if ``identity`` may see it (and it is ``client_slug``'s); else "no draft N", as for a missing one."""
    check_session(identity)
    draft = session.scalar(client_scope(select(Draft).where(Draft.id == draft_id), identity, Draft.client_id))
    if draft is None or (client_slug and draft.client_id != get_client(session, client_slug).id):
        raise NotFoundError(f"no draft {draft_id}" + (f" for client {client_slug}" if client_slug else ""))
    return draft


def check_draft(session: Session, identity: Identity, draft_id: int, client_slug: str | None = None) -> list[str]:
    """Every rule the latest version of the draft breaks on its platform (empty: it passes)."""
    draft = get_draft(session, identity, draft_id, client_slug)
    from pipeline.drafts.generate import posts_of

    latest = draft.latest
    platform = get_platform(draft.platform)
    found = platform.validate(posts_of(latest.parts, latest.media)) + platform.validate_first_comment(
        latest.first_comment or "")
    return [v.message for v in found] + _clip_problems(latest.media, platform)


def _clip_problems(media: list[dict], platform) -> list[str]:
    """Pre-flight of every rendered file the draft carries: a bad file shows here, not at publish time. A quote
    card (an image) is checked by the platform's image rules in ``validate``; pre-flight is for video and audio."""
    from pathlib import Path

    from pipeline.clips.preflight import preflight

    problems = []
    for item in media:
        path = item.get("path")
        if not path:
            continue
        if not Path(path).is_file():
            problems.append(f"clip {path} is missing: render it again with `castmill clips render`")
            continue
        if item.get("kind") != "image":
            problems += [f"clip {Path(path).name}: {v.message}" for v in preflight(path, platform)]
    return problems
