"""The ingest stage: one source (file or enclosure URL) becomes an episode row with stored, probed media.

The episode row exists even when probing fails: the failure is recorded on its ingest stage row,
so the batch report names it and a later run retries it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.errors import MediaError, StorageError
from pipeline.core.settings import Settings
from pipeline.core.vocab import FAILED
from pipeline.ingest.sources import Source, apply_probe, fetch_source, find_episode, find_or_create_episode, store_media
from pipeline.media.download import sha256_file
from pipeline.media.probe import probe
from pipeline.media.storage import MediaStorage, open_storage
from pipeline.store.clients import get_client
from pipeline.store.db import Database
from pipeline.store.models import Client, Episode
from pipeline.store.stages import is_current, mark_done, mark_failed, mark_running, stage_row


@dataclass(frozen=True)
class Ingested:
    episode_id: int
    title: str
    duration: float
    error: str | None  # why probing failed (the episode exists, its ingest stage is failed)


def run_stage(db: Database, settings: Settings, client_slug: str, source: Source) -> Ingested:
    """Fetch, hash, store and probe one source; raises CastmillError when it cannot be fetched or stored at all.

    A new episode's media goes into the media storage (``[storage] media_url``) before its row is written,
    so ``Episode.media_path`` is a ref every worker can read (by default, the fetched file's own path).
    """
    path = fetch_source(source, settings, client_slug)
    digest = sha256_file(path)
    storage = open_storage(settings)
    with db.session() as session:
        client = get_client(session, client_slug)
        client_id, known = client.id, find_episode(session, client.id, digest) is not None
    media_ref = None if known else store_media(storage, client_slug, path, digest)  # no transaction open meanwhile
    with db.session() as session:
        episode, _created = find_or_create_episode(session, session.get(Client, client_id), source, path,
                                                   digest=digest, media_ref=media_ref)
        episode_id = episode.id
    with db.session() as session:
        episode = session.get(Episode, episode_id)
        row = stage_row(session, episode, "ingest")
        if not is_current(row, episode.sha256):
            _probe_into(episode, row, storage)
        error = row.error if row.status == FAILED else None
        return Ingested(episode_id, episode.title, episode.duration, error)


def _probe_into(episode: Episode, row, storage: MediaStorage) -> None:
    mark_running(row, episode.sha256)
    try:
        apply_probe(episode, probe(storage.local_path(episode.media_path)))
        mark_done(row)
    except (MediaError, StorageError) as exc:
        mark_failed(row, str(exc))
