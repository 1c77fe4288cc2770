"""The batch runner behind ``castmill process``: ingest, transcribe, mine highlights; resumable.

Ingest (download, hash, probe) runs in this process, one source at a time.
Transcription runs here for ``jobs=1`` or in a process pool otherwise; each
worker opens its own database session, and progress comes back on a queue.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from pathlib import Path
import queue as queue_module
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field

import psutil

from pipeline.audio import decode_audio, measure_levels
from pipeline.config import Settings, load_settings
from pipeline.db import Database
from pipeline.errors import CastmillError, MediaError, TranscribeError
from pipeline.ingest import Source, apply_probe, fetch_source, find_or_create_episode, get_client, resolve_inputs
from pipeline.media import probe
from pipeline.models import Episode, Transcript
from pipeline.progress import NullReporter, Reporter
from pipeline.stages import DONE, FAILED, is_current, mark_done, mark_failed, mark_running, stage_row
from pipeline.transcribe import ModelStore, TranscribeOptions, get_transcriber

# Resident memory of one worker beyond the audio itself: tiny/base models, CTranslate2 and
# torch runtimes (measured ~450 MB for openai-whisper tiny.en, ~250 MB for faster-whisper).
WORKER_BASE_BYTES = 600 * 1024**2
# Audio as float32 plus the mel features and decode buffers built from it (~3x the samples).
BYTES_PER_AUDIO_SECOND = 16_000 * 4 * 3
DUPLICATE = "duplicate"


@dataclass
class EpisodeOutcome:
    source: str
    episode_id: int | None = None
    title: str = ""
    status: str = "pending"  # done | skipped | duplicate | failed
    error: str | None = None
    stages: dict[str, str] = field(default_factory=dict)
    highlights: int | None = None
    drafts: int | None = None
    clips: int | None = None


@dataclass
class BatchReport:
    client: str
    outcomes: list[EpisodeOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[EpisodeOutcome]:
        return [o for o in self.outcomes if o.status == FAILED]

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict:
        return {"client": self.client, "ok": self.ok, "episodes": [o.__dict__ for o in self.outcomes]}


@dataclass(frozen=True)
class TranscribeJob:
    engine: str
    options: TranscribeOptions

    def input_key(self, episode: Episode) -> str:
        return f"{episode.sha256}|{self.options.cache_key(self.engine)}"


def process_batch(
    db: Database,
    settings: Settings,
    client_slug: str,
    inputs: list[str],
    *,
    job: TranscribeJob,
    latest: int | None = None,
    jobs: int = 1,
    reporter: Reporter | None = None,
) -> BatchReport:
    reporter = reporter or NullReporter()
    with db.session() as session:
        get_client(session, client_slug)  # fail fast on an unknown client
    report = BatchReport(client_slug)
    sources, failures = resolve_inputs(inputs, settings, latest)
    report.outcomes += [EpisodeOutcome(f.uri, status=FAILED, error=f.error) for f in failures]
    for failure in failures:
        reporter.failed(failure.uri, failure.error)
    ingested = [_ingest(db, settings, client_slug, source, reporter) for source in sources]
    report.outcomes += ingested
    pending = _first_of_each_episode([o for o in ingested if o.status != FAILED], reporter)
    _transcribe_all(db, settings, pending, job, jobs, reporter)
    _mine_all(db, settings, [o for o in pending if o.status != FAILED], reporter)
    # Clips before drafts, so a draft carries the rendered (and pre-flighted) file, not a plan.
    _clip_all(db, settings, [o for o in pending if o.status != FAILED], reporter)
    _draft_all(db, settings, [o for o in pending if o.status != FAILED], reporter)
    return report


def _clip_all(db: Database, settings: Settings, outcomes: list[EpisodeOutcome], reporter: Reporter) -> None:
    """The clips stage: the kinds and aspects the client profile asks for; unchanged clips are reused."""
    from pipeline.clips.stage import render_episode_clips

    for outcome in outcomes:
        _mark_stage(db, outcome, "clips", mark_running, "")
        reporter.stage(outcome.source, "rendering clips", 1.0)
        progress = lambda done, total, uri=outcome.source: _clip_progress(reporter, uri, done, total)
        try:
            with db.session() as session:
                result = render_episode_clips(session, settings, outcome.episode_id, progress=progress)
        except CastmillError as exc:
            _fail_stage(db, outcome, "clips", str(exc), reporter)
            continue
        _mark_stage(db, outcome, "clips", mark_done)
        outcome.stages["clips"], outcome.clips = DONE, result.rendered + result.reused
        notes = "".join(f"; {note}" for note in result.notes)
        reporter.finished(outcome.source, f"{result.rendered} clip file(s) rendered, {result.reused} unchanged{notes}")


def _clip_progress(reporter: Reporter, source: str, done: int, total: int) -> None:
    if done == 0:
        reporter.stage(source, f"rendering {total} clips", float(total))
    reporter.advance(source, float(done))


def _draft_all(db: Database, settings: Settings, outcomes: list[EpisodeOutcome], reporter: Reporter) -> None:
    """The drafts stage: re-rendering is cheap and adds a version only when a text changed."""
    from pipeline.drafts.generate import NoPlatforms, generate_drafts

    for outcome in outcomes:
        _mark_stage(db, outcome, "drafts", mark_running, "")
        try:
            with db.session() as session:
                drafts = generate_drafts(session, outcome.episode_id, rewrite_with=settings.rewrite_llm)
            message = f"{len(drafts)} draft(s), {sum(d.created for d in drafts)} new version(s)"
        except NoPlatforms as exc:
            drafts, message = [], str(exc)
        except CastmillError as exc:
            _fail_stage(db, outcome, "drafts", str(exc), reporter)
            continue
        _mark_stage(db, outcome, "drafts", mark_done)
        outcome.stages["drafts"], outcome.drafts = DONE, len(drafts)
        reporter.finished(outcome.source, message)


def _fail_stage(db: Database, outcome: EpisodeOutcome, stage: str, error: str, reporter: Reporter) -> None:
    _mark_stage(db, outcome, stage, mark_failed, error)
    outcome.status, outcome.error, outcome.stages[stage] = FAILED, error, FAILED
    reporter.failed(outcome.source, error)


def _mark_stage(db: Database, outcome: EpisodeOutcome, stage: str, mark, *args) -> None:
    """``mark`` (mark_running, mark_done, mark_failed) the episode's ``stage`` row in its own session."""
    with db.session() as session:
        mark(stage_row(session, session.get(Episode, outcome.episode_id), stage), *args)


def _mine_all(db: Database, settings: Settings, outcomes: list[EpisodeOutcome], reporter: Reporter) -> None:
    """The highlights stage for every transcribed episode; a failure is recorded and the batch goes on."""
    from pipeline.highlights.store import run_highlight_stage

    for outcome in outcomes:
        reporter.stage(outcome.source, "mining highlights", 1.0)
        try:
            result = run_highlight_stage(db, settings, outcome.episode_id)
        except CastmillError as exc:
            outcome.status, outcome.error, outcome.stages["highlights"] = FAILED, str(exc), FAILED
            reporter.failed(outcome.source, str(exc))
            continue
        outcome.stages["highlights"] = DONE
        if result is None:
            reporter.finished(outcome.source, "ready (highlights already current)")
            continue
        outcome.highlights = len(result.highlights)
        message = f"{len(result.highlights)} highlight(s)" if result.highlights else result.notes[-1]
        reporter.finished(outcome.source, message)


def _first_of_each_episode(outcomes: list[EpisodeOutcome], reporter: Reporter) -> list[EpisodeOutcome]:
    """Two sources with the same bytes are one episode: transcribe it once."""
    first: dict[int, EpisodeOutcome] = {}
    for outcome in outcomes:
        if outcome.episode_id in first:
            outcome.status = DUPLICATE
            outcome.error = None
            reporter.finished(outcome.source, f"same content as {first[outcome.episode_id].source}")
        else:
            first[outcome.episode_id] = outcome
    return list(first.values())


def _ingest(db: Database, settings: Settings, client_slug: str, source: Source, reporter: Reporter) -> EpisodeOutcome:
    """Fetch, hash and probe one source; the episode row exists even when probing fails."""
    outcome = EpisodeOutcome(source.uri, title=source.title)
    reporter.started(source.uri, source.title)
    try:
        path = fetch_source(source, settings, client_slug)
        with db.session() as session:
            episode, _created = find_or_create_episode(session, get_client(session, client_slug), source, path)
            outcome.episode_id = episode.id
        with db.session() as session:
            episode = session.get(Episode, outcome.episode_id)
            row = stage_row(session, episode, "ingest")
            if not is_current(row, episode.sha256):
                _probe_into(episode, row)
            outcome.title, outcome.stages["ingest"] = episode.title, row.status
            outcome.status, outcome.error = (FAILED, row.error) if row.status == FAILED else (outcome.status, None)
            duration = episode.duration
    except CastmillError as exc:
        outcome.status, outcome.error = FAILED, str(exc)
    if outcome.status == FAILED:
        reporter.failed(source.uri, outcome.error)
    else:
        reporter.stage(source.uri, "transcribing", duration, outcome.title)
    return outcome


def _probe_into(episode: Episode, row) -> None:
    mark_running(row, episode.sha256)
    try:
        apply_probe(episode, probe(episode.media_path))
        mark_done(row)
    except MediaError as exc:
        mark_failed(row, str(exc))


def _transcribe_all(db, settings, outcomes, job: TranscribeJob, jobs: int, reporter: Reporter) -> None:
    todo = [o for o in outcomes if not _already_transcribed(db, o, job)]
    for outcome in outcomes:
        if outcome not in todo:
            outcome.status, outcome.stages["transcribe"] = "skipped", DONE
            reporter.finished(outcome.source, "skipped (already transcribed)")
    workers = effective_jobs(jobs, [_duration(db, o) for o in todo])
    if workers <= 1:
        transcriber = get_transcriber(job.engine, ModelStore(settings.models_dir, settings.models))
        for outcome in todo:
            progress = lambda seconds, uri=outcome.source: reporter.advance(uri, seconds)
            _record(outcome, transcribe_episode(db, outcome.episode_id, job, transcriber, progress), reporter)
        return
    _transcribe_in_pool(db, settings, todo, job, workers, reporter)


def _already_transcribed(db: Database, outcome: EpisodeOutcome, job: TranscribeJob) -> bool:
    with db.session() as session:
        episode = session.get(Episode, outcome.episode_id)
        return is_current(stage_row(session, episode, "transcribe"), job.input_key(episode))


def _duration(db: Database, outcome: EpisodeOutcome) -> float:
    with db.session() as session:
        return session.get(Episode, outcome.episode_id).duration


def _record(outcome: EpisodeOutcome, error: str | None, reporter: Reporter) -> None:
    outcome.stages["transcribe"] = FAILED if error else DONE
    outcome.status, outcome.error = (FAILED, error) if error else (DONE, None)
    if error:
        reporter.failed(outcome.source, error)
    else:
        reporter.finished(outcome.source, "transcribed")


def effective_jobs(requested: int, durations: list[float]) -> int:
    """Parallel workers that fit in cores and in available memory (never below 1)."""
    if not durations:
        return 1
    per_worker = WORKER_BASE_BYTES + max(durations) * BYTES_PER_AUDIO_SECOND
    by_memory = int(psutil.virtual_memory().available * 0.8 // per_worker)
    return max(1, min(requested, os.cpu_count() or 1, by_memory, len(durations)))


def transcribe_episode(db: Database, episode_id: int, job: TranscribeJob, transcriber, progress=None) -> str | None:
    """Run the transcribe stage for one episode; returns the error message or None."""
    with db.session() as session:
        episode = session.get(Episode, episode_id)
        row = stage_row(session, episode, "transcribe")
        mark_running(row, job.input_key(episode))
        media_path, duration, key = episode.media_path, episode.duration, row.input_key
    try:
        audio = decode_audio(media_path, expected_seconds=duration)
        levels = measure_levels(audio)
        if levels.is_silent:
            raise MediaError(f"contains only silence (RMS {levels.rms_dbfs:.0f} dBFS)", source=media_path)
        result = transcriber.transcribe(audio, job.options, progress=progress)
        del audio
        if not result.words:
            raise TranscribeError("no speech was recognised", source=media_path)
    except CastmillError as exc:
        return _finish(db, episode_id, error=str(exc))
    return _finish(db, episode_id, result=result, key=key)


def _finish(db: Database, episode_id: int, *, error: str | None = None, result=None, key: str = "") -> str | None:
    with db.session() as session:
        episode = session.get(Episode, episode_id)
        row = stage_row(session, episode, "transcribe")
        if error:
            mark_failed(row, error)
            return error
        session.add(Transcript(
            episode_id=episode_id, engine=result.engine, model=result.model, language=result.language,
            duration=result.duration, segments=result.to_dict()["segments"], input_key=key,
        ))
        mark_done(row)
    return None


# --- process pool -----------------------------------------------------------------------------

_worker_state: dict = {}


def _worker_init(database_url: str, home: str, engine: str, threads: int, events) -> None:
    settings = load_settings(Path(home))
    _worker_state.update(
        db=Database(database_url, auto_migrate=False),
        transcriber=get_transcriber(engine, ModelStore(settings.models_dir, settings.models)),
        events=events,
        threads=threads,
    )


def _worker_transcribe(episode_id: int, source: str, job: TranscribeJob) -> str | None:
    events = _worker_state["events"]
    options = dataclasses.replace(job.options, threads=_worker_state["threads"])
    progress = lambda seconds: events.put((source, seconds))
    return transcribe_episode(_worker_state["db"], episode_id, TranscribeJob(job.engine, options), _worker_state["transcriber"], progress)


def _transcribe_in_pool(db, settings, todo, job: TranscribeJob, workers: int, reporter: Reporter) -> None:
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")  # CTranslate2 and torch are not fork-safe
    with context.Manager() as manager:
        events = manager.Queue()
        init_args = (db.url, str(settings.home), job.engine, threads, events)
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init, initargs=init_args) as pool:
            futures = {pool.submit(_worker_transcribe, o.episode_id, o.source, job): o for o in todo}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(events, reporter)
                for future in done:
                    _record(futures[future], _result_or_error(future), reporter)
            _drain(events, reporter)


def _result_or_error(future) -> str | None:
    try:
        return future.result()
    except Exception as exc:  # a worker that died (OOM, signal) must not lose the batch
        return f"transcription worker failed: {type(exc).__name__}: {exc}"


def _drain(events, reporter: Reporter) -> None:
    while True:
        try:
            source, seconds = events.get_nowait()
        except queue_module.Empty:
            return
        reporter.advance(source, seconds)
