"""The ingest stage: one source (file or enclosure URL) becomes an episode row with probed media.

The episode row exists even when probing fails: the failure is recorded on its ingest stage row,
so the batch report names it and a later run retries it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.errors import MediaError
from pipeline.core.settings import Settings
from pipeline.core.vocab import FAILED
from pipeline.ingest.sources import Source, apply_probe, fetch_source, find_or_create_episode
from pipeline.media.probe import probe
from pipeline.store.clients import get_client
from pipeline.store.db import Database
from pipeline.store.models import Episode
from pipeline.store.stages import is_current, mark_done, mark_failed, mark_running, stage_row


@dataclass(frozen=True)
class Ingested:
    episode_id: int
    title: str
    duration: float
    error: str | None  # why probing failed (the episode exists, its ingest stage is failed)


def run_stage(db: Database, settings: Settings, client_slug: str, source: Source) -> Ingested:
    """Fetch, hash and probe one source; raises CastmillError when it cannot be fetched at all."""
    path = fetch_source(source, settings, client_slug)
    with db.session() as session:
        episode, _created = find_or_create_episode(session, get_client(session, client_slug), source, path)
        episode_id = episode.id
    with db.session() as session:
        episode = session.get(Episode, episode_id)
        row = stage_row(session, episode, "ingest")
        if not is_current(row, episode.sha256):
            _probe_into(episode, row)
        error = row.error if row.status == FAILED else None
        return Ingested(episode_id, episode.title, episode.duration, error)


def _probe_into(episode: Episode, row) -> None:
    mark_running(row, episode.sha256)
    try:
        apply_probe(episode, probe(episode.media_path))
        mark_done(row)
    except MediaError as exc:
        mark_failed(row, str(exc))
