"""``castmill process --queue``: put a batch on the queue instead of processing it here.

Inputs are resolved on the VA's machine, as for a local batch (folders expanded, feeds read). A
local file is copied into the media store first, so a worker on another machine can read it;
a feed enclosure is left for the worker to download. One ingest job per source; each finished
stage queues the next (``pipeline.jobs.tasks``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.access.identity import Identity
from pipeline.access.permissions import require_staff
from pipeline.core.settings import Settings
from pipeline.ingest.sources import Source, resolve_inputs
from pipeline.jobs.app import ensure_schema, queue_app
from pipeline.jobs.tasks import defer_ingest
from pipeline.media.download import sha256_file
from pipeline.media.storage import episode_key, open_storage
from pipeline.store.clients import get_client
from pipeline.store.db import Database
from pipeline.transcribe.stage import TranscribeJob


@dataclass
class QueuedSource:
    source: str
    job_id: int | None = None  # None: the same source is already waiting in the queue
    error: str | None = None  # the input could not be read or resolved


@dataclass
class QueueReport:
    client: str
    sources: list[QueuedSource] = field(default_factory=list)

    @property
    def failed(self) -> list[QueuedSource]:
        return [s for s in self.sources if s.error]

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict:
        return {"client": self.client, "ok": self.ok, "sources": [s.__dict__ for s in self.sources]}


def enqueue_batch(db: Database, settings: Settings, client_slug: str, inputs: list[str], *, job: TranscribeJob,
                  latest: int | None = None) -> QueueReport:
    with db.session() as session:
        get_client(session, client_slug)  # fails fast on an unknown client
    sources, failures = resolve_inputs(inputs, settings, latest)
    report = QueueReport(client_slug, [QueuedSource(f.uri, error=f.error) for f in failures])
    return _queue(settings, client_slug, sources, job, report)


def enqueue_sources(db: Database, settings: Settings, client_slug: str, sources: list[Source], *,
                    job: TranscribeJob) -> QueueReport:
    """``enqueue_batch`` for sources already resolved, e.g. the new entries a feed watch found."""
    with db.session() as session:
        get_client(session, client_slug)
    return _queue(settings, client_slug, sources, job, QueueReport(client_slug))


def _queue(settings: Settings, client_slug: str, sources: list[Source], job: TranscribeJob,
           report: QueueReport) -> QueueReport:
    ensure_schema(settings.database_url)
    storage = open_storage(settings)
    app = queue_app(settings)
    with app.open():
        for source in sources:
            ref = storage.put(source.local_path, media_key(client_slug, source)) if source.local_path else None
            job_id = defer_ingest(app, client_slug, source, ref, job.engine, job.options.model)
            report.sources.append(QueuedSource(source.uri, job_id))
    return report


def enqueue_for(identity: Identity, db: Database, settings: Settings, client_slug: str,
                inputs: list[str]) -> QueueReport:
    """``enqueue_batch`` on a person's behalf (staff only), with the settings' engine and model."""
    require_staff(identity, "process episodes")
    return enqueue_batch(db, settings, client_slug, inputs, job=TranscribeJob.from_settings(settings.transcribe))


def media_key(client_slug: str, source: Source) -> str:
    """Where the ingest stage keeps the same bytes, so the worker's copy is found, not stored twice."""
    return episode_key(client_slug, sha256_file(source.local_path), source.local_path.suffix.lower())
