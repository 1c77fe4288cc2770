"""Read-side queries over episodes for the CLI and the dashboard."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from pipeline.store.clients import get_client
from pipeline.store.models import Episode, Transcript
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
    languages: dict[str, float] = field(default_factory=dict)  # the latest transcript's share of each language

    def to_dict(self) -> dict:
        return asdict(self)


def list_episodes(session: Session, client_slug: str | None = None) -> list[EpisodeRow]:
    query = select(Episode).options(selectinload(Episode.stages), selectinload(Episode.client),
                                    selectinload(Episode.highlights)).order_by(Episode.id)
    if client_slug:
        query = query.where(Episode.client_id == get_client(session, client_slug).id)
    episodes = list(session.scalars(query))
    facts = latest_transcript_facts(session, [e.id for e in episodes])
    return [
        EpisodeRow(e.id, e.client.slug, e.title, round(e.duration, 2), e.source_uri, stage_summary(e), episode_error(e),
                   len(e.highlights), *facts.get(e.id, ([], {})))
        for e in episodes
    ]


def latest_transcript(session: Session, episode_id: int) -> Transcript | None:
    return session.scalar(select(Transcript).where(Transcript.episode_id == episode_id)
                          .order_by(Transcript.id.desc()).limit(1))


def latest_transcript_facts(session: Session, episode_ids: list[int]) -> dict[int, tuple[list[str], dict[str, float]]]:
    """Episode id -> its newest transcript's (warnings, language shares), in one query that leaves the segments
    unread."""
    if not episode_ids:
        return {}
    newest = (select(func.max(Transcript.id)).where(Transcript.episode_id.in_(episode_ids))
              .group_by(Transcript.episode_id))
    rows = session.execute(select(Transcript.episode_id, Transcript.warnings, Transcript.language_shares)
                           .where(Transcript.id.in_(newest)))
    return {episode_id: (list(warnings or []), dict(shares or {})) for episode_id, warnings, shares in rows}
