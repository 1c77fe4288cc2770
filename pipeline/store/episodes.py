"""Read-side queries over episodes for the CLI and the dashboard."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pipeline.store.clients import get_client
from pipeline.store.models import Episode
from pipeline.store.stages import episode_error, stage_summary


@dataclass(frozen=True)
class EpisodeRow:
    id: int
    client: str
    title: str
    duration: float
    source: str
    stages: dict[str, str]
    error: str | None
    highlights: int = 0
    warnings: list[str] = field(default_factory=list)  # the latest transcript's, e.g. a language the model cannot hear

    def to_dict(self) -> dict:
        return asdict(self)


def list_episodes(session: Session, client_slug: str | None = None) -> list[EpisodeRow]:
    query = select(Episode).options(selectinload(Episode.stages), selectinload(Episode.client),
                                    selectinload(Episode.highlights),
                                    selectinload(Episode.transcripts)).order_by(Episode.id)
    if client_slug:
        query = query.where(Episode.client_id == get_client(session, client_slug).id)
    return [
        EpisodeRow(e.id, e.client.slug, e.title, round(e.duration, 2), e.source_uri, stage_summary(e), episode_error(e),
                   len(e.highlights), _latest_warnings(e))
        for e in session.scalars(query)
    ]


def _latest_warnings(episode: Episode) -> list[str]:
    latest = max(episode.transcripts, key=lambda t: t.id, default=None)
    return list(latest.warnings or []) if latest else []
