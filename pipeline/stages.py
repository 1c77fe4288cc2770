"""Per-episode stage bookkeeping: what ran, from which input, with what result.

Every stage writes its status before the next starts, so a batch killed at any
point resumes from the first stage whose status is not ``done`` for the same
input key.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.models import Episode, EpisodeStage, utcnow

STAGES = ("ingest", "transcribe", "highlights", "clips", "drafts")
PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"


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
