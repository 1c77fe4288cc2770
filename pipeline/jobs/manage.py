"""``castmill jobs list|retry|cancel`` and the dashboard's job table: the queue seen by staff.

Job rows come from procrastinate's table, joined in Python with the episode each job is about,
the stage row it writes (its error, the worker that ran it) and the episode's client.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from pipeline.access.identity import Identity
from pipeline.access.permissions import require_staff
from pipeline.core.clock import utcnow
from pipeline.core.errors import CastmillError, NotFoundError
from pipeline.core.settings import Settings
from pipeline.jobs.app import queue_app
from pipeline.jobs.tasks import TASK_PREFIX, stage_of
from pipeline.store.db import Database
from pipeline.store.models import Client, Episode, EpisodeStage, QueueJobError

JOB_STATUSES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted")
RETRYABLE = ("failed", "cancelled", "aborted")
LIST_LIMIT = 500

_JOBS = text("""
    SELECT j.id, j.task_name, j.status, j.attempts, j.args, j.scheduled_at, j.queue_name,
           (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id) AS updated_at
      FROM procrastinate_jobs j
     WHERE j.task_name LIKE :prefix
       AND (CAST(:status AS varchar) IS NULL OR CAST(j.status AS varchar) = :status)
     ORDER BY j.id DESC
     LIMIT :limit
""")


@dataclass(frozen=True)
class JobRow:
    id: int
    stage: str
    status: str  # procrastinate's: todo, doing, succeeded, failed, cancelled, aborting, aborted
    attempts: int  # runs so far, the current one included
    client: str
    episode_id: int | None  # None for an ingest job that has not made its episode yet
    title: str  # the episode's title, or the source of an ingest job
    worker: str  # host:pid that last ran this stage of the episode
    error: str  # the stage's last error, when it failed
    updated_at: datetime | None

    def to_dict(self) -> dict:
        return {**asdict(self), "updated_at": self.updated_at.isoformat() if self.updated_at else None}


def list_jobs(identity: Identity, db: Database, *, client: str | None = None, status: str | None = None,
              episode_id: int | None = None, limit: int = LIST_LIMIT) -> list[JobRow]:
    """Newest first. Staff only: jobs are the VAs' machinery, not something clients act on."""
    require_staff(identity, "see the job queue")
    if status is not None and status not in JOB_STATUSES:
        raise CastmillError(f"unknown job status {status!r}; statuses: {', '.join(JOB_STATUSES)}")
    with db.session() as session:
        if not _queue_exists(session):
            return []
        raw = session.execute(_JOBS, {"prefix": TASK_PREFIX + "%", "status": status, "limit": limit}).mappings().all()
        rows = _with_episodes(session, raw)
    return [r for r in rows if (client is None or r.client == client)
            and (episode_id is None or r.episode_id == episode_id)]


def retry_job(identity: Identity, db: Database, settings: Settings, job_id: int) -> None:
    """Run a failed, parked or cancelled job again, now (its attempts start counting from here)."""
    require_staff(identity, "retry jobs")
    job = _one_job(identity, db, job_id)
    if job.status not in RETRYABLE:
        raise CastmillError(f"job {job_id} is {job.status}; only {', '.join(RETRYABLE)} jobs can be retried")
    app = queue_app(settings)
    with app.open():
        if job.status == "failed":
            app.job_manager.retry_job_by_id(job_id, utcnow())
        else:  # procrastinate retries failed jobs only: a cancelled one is queued again with the same arguments
            _defer_again(app, job_id)


def cancel_job(identity: Identity, db: Database, settings: Settings, job_id: int) -> str:
    """A waiting job is cancelled; a running one finishes its stage but queues nothing after it."""
    require_staff(identity, "cancel jobs")
    job = _one_job(identity, db, job_id)
    if job.status not in ("todo", "doing"):
        raise CastmillError(f"job {job_id} is {job.status}: only waiting or running jobs can be cancelled")
    app = queue_app(settings)
    with app.open():
        if app.job_manager.cancel_job_by_id(job_id, abort=True):
            return "cancelled"
    return "aborting"


def _one_job(identity: Identity, db: Database, job_id: int) -> JobRow:
    with db.session() as session:
        if _queue_exists(session):
            raw = session.execute(text(_JOBS.text.replace("WHERE j.task_name", "WHERE j.id = :id AND j.task_name")),
                                  {"id": job_id, "prefix": TASK_PREFIX + "%", "status": None, "limit": 1})
            rows = _with_episodes(session, raw.mappings().all())
            if rows:
                return rows[0]
    raise NotFoundError(f"no job {job_id}; see `castmill jobs list`")


def _defer_again(app, job_id: int) -> None:
    job = app.job_manager.list_jobs(id=job_id)[0]
    app.configure_task(job.task_name, lock=job.lock, queueing_lock=job.queueing_lock).defer(**job.task_kwargs)


def _queue_exists(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return False
    return session.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None


def _with_episodes(session: Session, raw) -> list[JobRow]:
    episode_ids = {r["args"].get("episode_id") for r in raw} - {None}
    episodes = {e.id: e for e in session.scalars(select(Episode).where(Episode.id.in_(episode_ids)))}
    stages = {(s.episode_id, s.stage): s for s in session.scalars(
        select(EpisodeStage).where(EpisodeStage.episode_id.in_(episode_ids)))}
    clients = {c.id: c.slug for c in session.scalars(select(Client))}
    errors = dict(session.execute(select(QueueJobError.job_id, QueueJobError.error)
                                  .where(QueueJobError.job_id.in_([r["id"] for r in raw]))).all())
    return [_row(r, episodes, stages, clients, errors) for r in raw]


def _row(raw, episodes: dict, stages: dict, clients: dict, errors: dict) -> JobRow:
    stage, args = stage_of(raw["task_name"]), raw["args"]
    episode = episodes.get(args.get("episode_id"))
    row = stages.get((episode.id, stage)) if episode else None
    # The last failure of a failed job, or of one waiting for its retry.
    failed = raw["status"] in ("failed", "aborted") or (raw["status"] == "todo" and raw["attempts"] > 0)
    stage_error = row.error if row is not None and row.status == "failed" else ""
    return JobRow(
        # procrastinate counts a run once it is over: the running one is added here.
        id=raw["id"], stage=stage, status=str(raw["status"]),
        attempts=raw["attempts"] + (raw["status"] in ("doing", "aborting")),
        client=clients.get(episode.client_id, "") if episode else args.get("client", ""),
        episode_id=episode.id if episode else None, title=episode.title if episode else args.get("uri", ""),
        worker=(row.worker or "") if row else "", error=(errors.get(raw["id"]) or stage_error or "") if failed else "",
        updated_at=raw["updated_at"],
    )
