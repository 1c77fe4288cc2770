"""The highlights stage: mine one episode's transcript and store its highlights.

Resumable like every stage: the stage row's input key names the transcript and the options,
so an unchanged episode is skipped and a changed setting mines again.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete

from pipeline.core.errors import CastmillError, MediaError, NotFoundError
from pipeline.core.settings import Settings
from pipeline.highlights.energy import envelope_from_file
from pipeline.highlights.mine import MiningResult, mine_highlights
from pipeline.highlights.store import client_options, stage_input_key, transcript_result
from pipeline.highlights.translation import translate_highlights, whisper_translator
from pipeline.media.storage import local_media
from pipeline.store.episodes import latest_transcript
from pipeline.store.db import Database
from pipeline.store.models import Episode, Highlight
from pipeline.store.stages import is_current, mark_done, mark_failed, mark_running, stage_row

STAGE = "highlights"


def run_stage(db: Database, settings: Settings, episode_id: int, *, force: bool = False) -> MiningResult | None:
    """Mine and store one episode's highlights; None when they are current already.

    Raises CastmillError (after recording it on the stage row) when mining fails.
    """
    with db.session() as session:
        episode = session.get(Episode, episode_id)
        transcript = latest_transcript(session, episode_id)
        if transcript is None:
            raise NotFoundError("has no transcript yet: run `castmill process` first", source=f"episode {episode_id}")
        options, translate = client_options(settings, episode.client), episode.client.translate_quotes
        key = stage_input_key(transcript, options, settings, translate=translate)
        row = stage_row(session, episode, STAGE)
        if is_current(row, key) and not force:
            return None
        mark_running(row, key)
        result_input, media_path = transcript_result(transcript), episode.media_path
    if not result_input.words:  # the transcribe stage noted it: nothing was said
        result = MiningResult([], 0, result_input.language, "words", result_input.duration, [],
                              notes=["no highlights: no speech was recognised in the episode"])
        _store(db, episode_id, result, key)
        return result
    try:
        media = local_media(settings, media_path)
        result = mine_highlights(result_input, options, energy=energy_or_none(media),
                                 llm=settings.highlights.llm, source=f"episode {episode_id}")
        translations = _translations(result, result_input, str(media), settings) if translate else {}
    except CastmillError as exc:
        _record_failure(db, episode_id, str(exc))
        raise
    _store(db, episode_id, result, key, translations)
    return result


def _translations(result: MiningResult, transcript, media_path: str, settings: Settings) -> dict[int, dict]:
    """The English of each highlight spoken in another language, by rank (Whisper, the transcript's own model)."""
    translate, by = whisper_translator(media_path, settings, transcript.engine, transcript.model)
    found = translate_highlights(result.highlights, transcript.segments, transcript.language, translate, by)
    return {rank: translation.to_dict() for rank, translation in found.items()}


def energy_or_none(media_path: str | Path, settings: Settings | None = None):
    """The loudness envelope of an episode's media (a ref in the media storage ``settings`` name, or a file),
    or None when it cannot be decoded. A storage that cannot be read is an error, not a missing envelope."""
    media = local_media(settings, str(media_path))
    try:
        return envelope_from_file(media)
    except MediaError:
        return None  # mining still works from the words alone; the result notes it


def _record_failure(db: Database, episode_id: int, message: str) -> None:
    with db.session() as session:
        mark_failed(stage_row(session, session.get(Episode, episode_id), STAGE), message)


def _store(db: Database, episode_id: int, result: MiningResult, key: str,
           translations: dict[int, dict] | None = None) -> None:
    with db.session() as session:
        session.execute(delete(Highlight).where(Highlight.episode_id == episode_id))
        for h in result.highlights:
            session.add(Highlight(
                episode_id=episode_id, rank=h.rank, start=h.start, end=h.end, score=h.score,
                features=h.features, reasons=h.reasons, caveats=h.caveats, text=h.text, quote=h.quote,
                title=h.title, key_phrases=h.key_phrases, hashtags=h.hashtags, llm=h.llm, input_key=key,
                translation=(translations or {}).get(h.rank), speakers=h.speakers, quote_by=h.quote_by,
            ))
        mark_done(stage_row(session, session.get(Episode, episode_id), STAGE))
