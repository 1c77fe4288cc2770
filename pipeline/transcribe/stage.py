"""The transcribe stage: decode one episode's audio, transcribe it, store the transcript.

``run_stage`` handles one episode in this process. ``workers.py`` runs it for many episodes
in a process pool sized by cores and memory (``effective_jobs``).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.errors import CastmillError, MediaError
from pipeline.core.settings import Settings, TranscribeSettings, speakers_setting
from pipeline.media.audio import decode_audio, measure_levels
from pipeline.media.storage import local_media
from pipeline.store.db import Database
from pipeline.store.models import Episode, Transcript
from pipeline.store.stages import mark_done, mark_failed, mark_running, stage_row
from pipeline.transcribe.base import SAMPLE_RATE, ProgressCallback, TranscribeOptions, TranscriptResult
from pipeline.transcribe.diarize import DIARIZE_REVISION, DiarizeOptions, diarize, label_speakers
from pipeline.transcribe.language_check import (
    detect_language, language_warnings, needs_check, ranker_for, sample_windows,
)
from pipeline.transcribe.quality import quality_warnings


# The share of an episode's progress bar that transcription fills; diarization fills the rest. On the
# 60-minute episode with the default engine, diarization took 90 s of a 256-s `castmill process`.
TRANSCRIBE_SHARE = 0.65
NO_SPEECH = "no speech was recognised (music only?): the episode gets no highlights and no clips"


@dataclass(frozen=True)
class TranscribeJob:
    engine: str
    options: TranscribeOptions

    @classmethod
    def from_settings(cls, settings: TranscribeSettings, *, engine: str | None = None,
                      model: str | None = None) -> "TranscribeJob":
        """The settings' engine and options, with a command's --engine and --model laid over them. The
        model stays "auto" until the batch knows the client's spoken languages."""
        return cls(engine or settings.engine, TranscribeOptions.from_settings(settings, model=model))

    def input_key(self, episode: Episode) -> str:
        speakers = (episode.client.speakers if episode.client else None) or "auto"
        diarized = "" if speakers == "off" else f"|speakers={speakers}|diarize={DIARIZE_REVISION}"
        return f"{episode.sha256}|{self.options.cache_key(self.engine)}{diarized}"


def diarize_options(setting: int | str) -> DiarizeOptions | None:
    """What a ``speakers`` setting ("auto", "off" or how many speak, as ``speakers_setting`` reads a
    profile) asks of diarization; None when it is off."""
    if setting == "off":
        return None
    return DiarizeOptions(speakers=None if setting == "auto" else int(setting))


def with_speakers(result: TranscriptResult, audio, options: DiarizeOptions | None,
                  progress: ProgressCallback | None = None) -> TranscriptResult:
    """``result`` with a speaker on every word and segment (unchanged when diarization is off)."""
    if options is None or not result.words:
        return result
    return label_speakers(result, diarize(audio, options, progress))


def phased_progress(progress: ProgressCallback | None, duration: float,
                    diarizing: bool) -> tuple[ProgressCallback | None, ProgressCallback | None]:
    """One bar for both passes: transcription fills the first ``TRANSCRIBE_SHARE`` of it, diarization
    (seconds of speech embedded) the rest, so the bar does not sit full while speakers are found."""
    if progress is None or not diarizing:
        return progress, None
    return (lambda seconds: progress(seconds * TRANSCRIBE_SHARE),
            lambda seconds: progress(duration * TRANSCRIBE_SHARE + seconds * (1 - TRANSCRIBE_SHARE)))


def run_stage(db: Database, episode_id: int, job: TranscribeJob, transcriber, progress=None, *,
              settings: Settings | None = None) -> str | None:
    """Transcribe one episode and store its transcript; returns the error message or None (recorded on the stage row).

    ``settings`` name the media storage the episode is read from (``media.storage.local_media``).
    """
    with db.session() as session:
        episode = session.get(Episode, episode_id)
        row = stage_row(session, episode, "transcribe")
        mark_running(row, job.input_key(episode))
        media_path, duration, key = episode.media_path, episode.duration, row.input_key
        spoken = episode.client.languages_spoken
        speakers = diarize_options(speakers_setting(episode.client.speakers))
    try:
        audio = decode_audio(local_media(settings, media_path), expected_seconds=duration)
        levels = measure_levels(audio)
        if levels.is_silent:
            raise MediaError(f"contains only silence (RMS {levels.rms_dbfs:.0f} dBFS)", source=media_path)
        transcribing, diarizing = phased_progress(progress, len(audio) / SAMPLE_RATE, speakers is not None)
        result = with_speakers(transcriber.transcribe(audio, job.options, progress=transcribing), audio, speakers,
                               diarizing)
        windows = sample_windows(audio) if needs_check(job.options) else []
        del audio
        if not result.words:  # music only, or a recording with nobody talking: not a failure
            return _finish(db, episode_id, result=result, key=key, warnings=[NO_SPEECH])
        warnings = language_warnings(result, spoken, detect_language(windows, ranker_for(transcriber, job.options))) \
            + quality_warnings(result.segments)
    except CastmillError as exc:
        return _finish(db, episode_id, error=str(exc))
    return _finish(db, episode_id, result=result, key=key, warnings=warnings)


def _finish(db: Database, episode_id: int, *, error: str | None = None, result=None, key: str = "",
            warnings: list[str] | None = None) -> str | None:
    with db.session() as session:
        episode = session.get(Episode, episode_id)
        row = stage_row(session, episode, "transcribe")
        if error:
            mark_failed(row, error)
            return error
        session.add(Transcript(
            episode_id=episode_id, engine=result.engine, model=result.model, language=result.language,
            language_shares=result.language_shares(),
            duration=result.duration, segments=result.to_dict()["segments"], input_key=key,
            warnings=list(warnings or []),
        ))
        mark_done(row)
    return None
