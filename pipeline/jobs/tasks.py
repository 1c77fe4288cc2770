"""One task per stage; each job runs one stage of one episode, then queues the next stage.

ingest → transcribe → highlights → clips → drafts, as in ``pipeline.batch``, but every arrow is a
job in PostgreSQL that any worker may take. A job's queueing lock and lock are both
``<stage>:<episode>``: the same work is never waiting twice nor running twice at once. A stage
whose input is unchanged is skipped (its row says ``done`` for the same key), so a job retried
after its worker died mid-way redoes only what did not finish, and never duplicates rows.

Bad input (``CastmillError``) is recorded on the episode's stage row and fails the job for good;
a transient failure (the database unreachable) is retried with backoff. So is a stage that failed while
the media storage was not answering (asked once more after the failure: an S3 server down, a shared
folder unmounted), up to ``max_attempts`` runs; after that `castmill jobs retry` runs it again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Callable

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued, JobAborted
from procrastinate.retry import BaseRetryStrategy, RetryDecision

from pipeline.core.clock import utcnow
from pipeline.core.errors import CastmillError, IngestError
from pipeline.core.settings import Settings
from pipeline.core.vocab import STAGES
from pipeline.jobs.options import QueueOptions
from pipeline.store.db import Database
from pipeline.store.stages import mark_failed, mark_stage

log = logging.getLogger("castmill.jobs")

TASK_PREFIX = "castmill."
NEXT_STAGE = dict(zip(STAGES, STAGES[1:]))


class StageFailed(CastmillError):
    """The stage recorded a failure of its input on the episode's stage row: not worth a retry."""


class MediaStoreDown(Exception):
    """A stage failed while the media storage did not answer: an outage to wait out, not bad input."""


def transient_errors() -> tuple[type[BaseException], ...]:
    """Failures of the machinery, not of the episode: worth retrying later, maybe on another worker."""
    import psycopg
    import sqlalchemy.exc
    from procrastinate.exceptions import ConnectorException

    return (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, psycopg.OperationalError,
            ConnectorException, ConnectionError, TimeoutError, MediaStoreDown)


@dataclass
class WorkerContext:
    """What every job of one worker shares: the database, the settings, and loaded speech models."""

    db: Database
    settings: Settings
    name: str  # host:pid, shown in `castmill jobs list` and on the dashboard
    _local: threading.local = field(default_factory=threading.local)

    def transcriber(self, engine: str):
        """One loaded model per engine and thread (a worker with concurrency N runs N threads)."""
        from pipeline.transcribe import ModelStore, get_transcriber

        cache = self._local.__dict__.setdefault("transcribers", {})
        if engine not in cache:
            cache[engine] = get_transcriber(engine, ModelStore(self.settings.models_dir, self.settings.models))
        return cache[engine]


@dataclass(frozen=True)
class Backoff(BaseRetryStrategy):
    """Retry transient failures after retry_wait, 2×, 4× … seconds; never retry bad input."""

    retries: int
    first_wait: float

    def get_retry_decision(self, *, exception: BaseException, job) -> RetryDecision | None:
        if job.attempts >= self.retries or not isinstance(exception, transient_errors()):
            return None
        return RetryDecision(retry_in={"seconds": self.first_wait * 2 ** job.attempts})


def task_name(stage: str) -> str:
    return TASK_PREFIX + stage


def stage_of(name: str) -> str:
    return name.removeprefix(TASK_PREFIX)


def episode_lock(stage: str, episode_id: int) -> str:
    return f"{stage}:{episode_id}"


def source_lock(client: str, uri: str) -> str:
    return f"ingest:{client}:{hashlib.sha256(uri.encode()).hexdigest()[:16]}"


def register_tasks(app: procrastinate.App, options: QueueOptions) -> None:
    retry = Backoff(options.retries, options.retry_wait)
    app.task(name=task_name("ingest"), queue="ingest", pass_context=True, retry=retry)(ingest_job)
    for stage in STAGES[1:]:
        app.task(name=task_name(stage), queue=stage, pass_context=True, retry=retry)(_stage_job(stage))


def defer_stage(app: procrastinate.App, stage: str, episode_id: int, **kwargs) -> int | None:
    """Queue ``stage`` of an episode; None when the same job is already waiting."""
    lock = episode_lock(stage, episode_id)
    try:
        return app.configure_task(task_name(stage), lock=lock, queueing_lock=lock).defer(
            episode_id=episode_id, **kwargs)
    except AlreadyEnqueued:
        return None


def defer_ingest(app: procrastinate.App, client: str, source, media_ref: str | None, engine: str,
                 model: str) -> int | None:
    """Queue the ingest of ``source`` (a ``Source``), its media already at ``media_ref`` when it is a local file."""
    lock = source_lock(client, source.uri)
    try:
        return app.configure_task(task_name("ingest"), lock=lock, queueing_lock=lock).defer(
            client=client, uri=source.uri, title=source.title, media_ref=media_ref,
            feed_item=feed_item_to_dict(source.feed_item), engine=engine, model=model)
    except AlreadyEnqueued:
        return None


# --- the jobs -------------------------------------------------------------------------------------

def ingest_job(context, client: str, uri: str, title: str, media_ref: str | None, feed_item: dict | None,
               engine: str, model: str) -> int:
    from pipeline.ingest.sources import Source
    from pipeline.ingest.stage import run_stage
    from pipeline.media.storage import local_media

    worker = worker_context(context)
    with errors_recorded(worker, context, "ingest"), storage_outage_waited_out(worker):
        local = local_media(worker.settings, media_ref) if media_ref else None
        if local is not None and not local.is_file():
            raise IngestError("the file is gone: it was moved or deleted after it was queued", source=media_ref)
        source = Source(uri=uri, local_path=local, feed_item=feed_item_from_dict(feed_item), given_title=title)
        ingested = run_stage(worker.db, worker.settings, client, source)
        _note_worker(worker, ingested.episode_id, "ingest")
        if ingested.error:
            raise StageFailed(ingested.error)
    defer_stage(context.app, "transcribe", ingested.episode_id, engine=engine, model=model)
    return ingested.episode_id


def _stage_job(stage: str) -> Callable:
    runner = STAGE_RUNNERS[stage]

    def job(context, episode_id: int, **kwargs) -> None:
        worker = worker_context(context)
        with errors_recorded(worker, context, stage, episode_id), storage_outage_waited_out(worker):
            _note_worker(worker, episode_id, stage)
            runner(worker, episode_id, **kwargs)
        if context.should_abort():  # cancelled while it ran: the stage is done, nothing after it is queued
            raise JobAborted(f"{stage} of episode {episode_id} cancelled")
        if stage in NEXT_STAGE:
            defer_stage(context.app, NEXT_STAGE[stage], episode_id)

    job.__name__ = f"{stage}_job"
    return job


def _transcribe(worker: WorkerContext, episode_id: int, engine: str = "", model: str = "") -> None:
    from pipeline.store.models import Episode
    from pipeline.store.stages import is_current, stage_row
    from pipeline.transcribe.languages import for_speakers
    from pipeline.transcribe.stage import TranscribeJob, run_stage

    job = TranscribeJob.from_settings(worker.settings.transcribe, engine=engine or None, model=model or None)
    with worker.db.session() as session:
        episode = session.get(Episode, episode_id)
        job = TranscribeJob(job.engine, for_speakers(job.options, episode.client.languages_spoken))
        if is_current(stage_row(session, episode, "transcribe"), job.input_key(episode)):
            return
    error = run_stage(worker.db, episode_id, job, worker.transcriber(job.engine), settings=worker.settings)
    if error:
        raise StageFailed(error)


def _highlights(worker: WorkerContext, episode_id: int) -> None:
    from pipeline.highlights.stage import run_stage

    run_stage(worker.db, worker.settings, episode_id)


def _clips(worker: WorkerContext, episode_id: int) -> None:
    from pipeline.clips.stage import run_stage

    run_stage(worker.db, worker.settings, episode_id)


def _drafts(worker: WorkerContext, episode_id: int) -> None:
    from pipeline.drafts.stage import run_stage

    run_stage(worker.db, worker.settings, episode_id)


STAGE_RUNNERS: dict[str, Callable] = {"transcribe": _transcribe, "highlights": _highlights, "clips": _clips,
                                      "drafts": _drafts}


def worker_context(context) -> WorkerContext:
    return context.additional_context["castmill"]


def _note_worker(worker: WorkerContext, episode_id: int, stage: str) -> None:
    from pipeline.store.models import Episode
    from pipeline.store.stages import stage_row

    with worker.db.session() as session:
        stage_row(session, session.get(Episode, episode_id), stage).worker = worker.name


@contextmanager
def errors_recorded(worker: WorkerContext, context, stage: str, episode_id: int | None = None):
    """Why a job failed, kept where `castmill jobs list` finds it: bad input as the stage said it, trouble with
    its attempt number, also on the episode's stage row (the stage itself records bad input there)."""
    try:
        yield
    except CastmillError as exc:
        said = str(exc)
        _best_effort(lambda: record_job_error(worker.db, context.job.id, said))
        raise
    except Exception as exc:
        message = f"attempt {context.job.attempts + 1}: {first_line(exc)}"
        _best_effort(lambda: record_job_error(worker.db, context.job.id, message))
        if episode_id is not None:
            _best_effort(lambda: mark_stage(worker.db, episode_id, stage, mark_failed, message))
        raise


@contextmanager
def storage_outage_waited_out(worker: WorkerContext):
    """A stage's failure becomes ``MediaStoreDown`` (retried) when the media storage does not answer now."""
    from pipeline.media.storage import open_storage

    try:
        yield
    except CastmillError as exc:
        if not open_storage(worker.settings).reachable():
            raise MediaStoreDown(f"the media storage is not answering; retried later ({exc})") from exc
        raise


def record_job_error(db: Database, job_id: int, message: str) -> None:
    from pipeline.store.models import QueueJobError

    with db.session() as session:
        session.merge(QueueJobError(job_id=job_id, error=message, at=utcnow()))


def _best_effort(write: Callable[[], None]) -> None:
    """The database may be the thing that is down; the job's own failure is what matters (the worker logs it)."""
    try:
        write()
    except Exception:  # noqa: BLE001
        log.debug("could not record a job's failure", exc_info=True)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


# --- feed items as job arguments (JSON) -------------------------------------------------------------

def feed_item_to_dict(item) -> dict | None:
    if item is None:
        return None
    data = asdict(item)
    data["published"] = item.published.isoformat() if item.published else None
    return data


def feed_item_from_dict(data: dict | None):
    from pipeline.ingest.feeds import FeedItem

    if not data:
        return None
    published = datetime.fromisoformat(data["published"]) if data.get("published") else None
    return FeedItem(**{**data, "published": published})
