"""Per-episode stage bookkeeping: what ran, from which input, with what result.

Every stage writes its status before the next starts, so a batch killed at any
point resumes from the first stage whose status is not ``done`` for the same
input key.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.core.clock import utcnow
from pipeline.core.vocab import DONE, FAILED, PENDING, RUNNING, STAGES
from pipeline.store.db import Database
from pipeline.store.models import Episode, EpisodeStage


def stage_row(session: Session, episode: Episode, stage: str) -> EpisodeStage:
    row = session.scalar(
        select(EpisodeStage).where(EpisodeStage.episode_id == episode.id, EpisodeStage.stage == stage)
    )
    if row is None:
        row = EpisodeStage(episode_id=episode.id, stage=stage, status=PENDING, input_key="", attempts=0)
        session.add(row)
        session.flush()
    return row


def is_current(row: EpisodeStage, input_key: str) -> bool:
    """True when the stage already finished for exactly this input."""
    return row.status == DONE and row.input_key == input_key


def mark_running(row: EpisodeStage, input_key: str) -> None:
    row.status, row.input_key, row.error = RUNNING, input_key, None
    row.attempts = (row.attempts or 0) + 1
    row.started_at, row.finished_at = utcnow(), None


def mark_done(row: EpisodeStage) -> None:
    row.status, row.error, row.finished_at = DONE, None, utcnow()


def mark_failed(row: EpisodeStage, message: str) -> None:
    row.status, row.error, row.finished_at = FAILED, message, utcnow()


def stage_summary(episode: Episode) -> dict[str, str]:
    """Status of every known stage, ``pending`` for those never run."""
    by_name = {s.stage: s.status for s in episode.stages}
    return {name: by_name.get(name, PENDING) for name in STAGES}


def episode_error(episode: Episode) -> str | None:
    return next((s.error for s in episode.stages if s.status == FAILED and s.error), None)


def mark_stage(db: Database, episode_id: int, stage: str, mark: Callable[..., None], *args) -> None:
    """``mark`` (mark_running, mark_done, mark_failed) the episode's ``stage`` row in a session of its own."""
    with db.session() as session:
        mark(stage_row(session, session.get(Episode, episode_id), stage), *args)
