"""The drafts stage: one draft per highlight × platform of the client, from its templates.

Re-rendering is cheap and adds a version only when a text changed, so the stage simply runs
again. A client with no platforms is not a failure: the result carries the message.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.errors import CastmillError
from pipeline.core.settings import Settings
from pipeline.drafts.generate import DraftOutcome, NoPlatforms, generate_drafts
from pipeline.store.db import Database
from pipeline.store.stages import mark_done, mark_failed, mark_running, mark_stage

STAGE = "drafts"


@dataclass(frozen=True)
class DraftsResult:
    drafts: list[DraftOutcome]
    message: str  # what the batch report shows for the episode


def run_stage(db: Database, settings: Settings, episode_id: int) -> DraftsResult:
    """Generate (or refresh) the episode's drafts, recorded on its stage row; raises CastmillError on failure."""
    mark_stage(db, episode_id, STAGE, mark_running, "")
    try:
        with db.session() as session:
            drafts = generate_drafts(session, episode_id, rewrite_with=settings.rewrite_llm)
        message = f"{len(drafts)} draft(s), {sum(d.created for d in drafts)} new version(s)"
    except NoPlatforms as exc:
        drafts, message = [], str(exc)
    except CastmillError as exc:
        mark_stage(db, episode_id, STAGE, mark_failed, str(exc))
        raise
    mark_stage(db, episode_id, STAGE, mark_done)
    return DraftsResult(drafts, message)
