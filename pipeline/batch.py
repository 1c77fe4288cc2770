"""The batch runner behind ``castmill process``: every stage's ``run_stage`` in the order data flows.

ingest → transcribe → highlights → clips → drafts, one episode after another within a stage.
A failure is recorded on the episode's stage row and the batch goes on with the next episode;
a batch killed at any point resumes from the first stage whose input changed or that did not
finish. Ingest runs in this process, one source at a time; transcription runs here for
``jobs=1`` or in a process pool otherwise (``pipeline.transcribe.workers``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.access.identity import Identity
from pipeline.access.permissions import require_staff
from pipeline.core.errors import CastmillError, NotFoundError
from pipeline.core.progress import NullReporter, Reporter
from pipeline.core.settings import Settings
from pipeline.core.vocab import DONE, FAILED, STAGES
from pipeline.ingest.sources import Source, resolve_inputs
from pipeline.media.storage import local_media
from pipeline.store.clients import get_client
from pipeline.store.db import Database
from pipeline.store.episodes import latest_transcript_facts
from pipeline.store.models import Episode
from pipeline.store.stages import is_current, stage_row
from pipeline.transcribe import ModelStore, get_transcriber
from pipeline.transcribe.languages import describe_shares, for_speakers
from pipeline.transcribe.stage import TranscribeJob
from pipeline.transcribe.workers import effective_jobs, transcribe_in_pool

DUPLICATE = "duplicate"

__all__ = ["BatchReport", "EpisodeOutcome", "TranscribeJob", "effective_jobs", "process_batch", "process_for",
           "process_sources", "rerun_stage"]


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
    warnings: list[str] = field(default_factory=list)  # the transcript's (see transcribe.language_check)
    languages: dict[str, float] = field(default_factory=dict)  # the transcript's share of each language


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
    job = _for_client(db, client_slug, job)  # fails fast on an unknown client
    report = BatchReport(client_slug)
    sources, failures = resolve_inputs(inputs, settings, latest)
    report.outcomes += [EpisodeOutcome(f.uri, status=FAILED, error=f.error) for f in failures]
    for failure in failures:
        reporter.failed(failure.uri, failure.error)
    return _run_stages(db, settings, client_slug, sources, job, jobs, reporter, report)


def process_sources(db: Database, settings: Settings, client_slug: str, sources: list[Source], *, job: TranscribeJob,
                    jobs: int = 1, reporter: Reporter | None = None) -> BatchReport:
    """``process_batch`` for sources already resolved, e.g. the new entries a feed watch found."""
    job = _for_client(db, client_slug, job)
    return _run_stages(db, settings, client_slug, sources, job, jobs, reporter or NullReporter(),
                       BatchReport(client_slug))


def _for_client(db: Database, client_slug: str, job: TranscribeJob) -> TranscribeJob:
    """``job`` with the model and language the client's spoken languages call for."""
    with db.session() as session:
        spoken = get_client(session, client_slug).languages_spoken
    return TranscribeJob(job.engine, for_speakers(job.options, spoken))


def _run_stages(db: Database, settings: Settings, client_slug: str, sources: list[Source], job: TranscribeJob,
                jobs: int, reporter: Reporter, report: BatchReport) -> BatchReport:
    ingested = [_ingest(db, settings, client_slug, source, reporter) for source in sources]
    report.outcomes += ingested
    pending = _first_of_each_episode([o for o in ingested if o.status != FAILED], reporter)
    _transcribe_all(db, settings, pending, job, jobs, reporter)
    _mine_all(db, settings, [o for o in pending if o.status != FAILED], reporter)
    # Clips before drafts, so a draft carries the rendered (and pre-flighted) file, not a plan.
    _clip_all(db, settings, [o for o in pending if o.status != FAILED], reporter)
    _draft_all(db, settings, [o for o in pending if o.status != FAILED], reporter)
    return report


def process_for(identity: Identity, db: Database, settings: Settings, client_slug: str, inputs: list[str],
                reporter: Reporter | None = None) -> BatchReport:
    """``process_batch`` on a person's behalf (staff only), with the settings' engine and model."""
    require_staff(identity, "process episodes")
    return process_batch(db, settings, client_slug, inputs, job=TranscribeJob.from_settings(settings.transcribe),
                         reporter=reporter)


def rerun_stage(identity: Identity, db: Database, settings: Settings, episode_id: int, stage: str,
                reporter: Reporter | None = None) -> BatchReport:
    """Run ``stage`` of the episode again, and whatever depends on it (staff only).

    Forgetting the stage's input key makes the resume check fail for that stage only; the
    runner then redoes it, and later stages redo their work when their input changed.
    """
    require_staff(identity, "re-run a stage")
    if stage not in STAGES:
        raise NotFoundError(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
    with db.session() as session:
        episode = session.get(Episode, episode_id)
        if episode is None:
            raise NotFoundError(f"no episode {episode_id}")
        stage_row(session, episode, stage).input_key = ""
        slug, media = episode.client.slug, episode.media_path
    local = local_media(settings, media)  # a stored episode comes back from the media store
    if not local.is_file():
        raise CastmillError(f"the episode's media file is gone: {media}")
    return process_for(identity, db, settings, slug, [str(local)], reporter)


# --- the stages, in order -------------------------------------------------------------------------

def _ingest(db: Database, settings: Settings, client_slug: str, source: Source, reporter: Reporter) -> EpisodeOutcome:
    from pipeline.ingest.stage import run_stage

    outcome = EpisodeOutcome(source.uri, title=source.title)
    reporter.started(source.uri, source.title)
    try:
        ingested = run_stage(db, settings, client_slug, source)
    except CastmillError as exc:
        outcome.status, outcome.error = FAILED, str(exc)
        reporter.failed(source.uri, outcome.error)
        return outcome
    outcome.episode_id, outcome.title = ingested.episode_id, ingested.title
    outcome.stages["ingest"] = FAILED if ingested.error else DONE
    if ingested.error:
        outcome.status, outcome.error = FAILED, ingested.error
        reporter.failed(source.uri, outcome.error)
    else:
        reporter.stage(source.uri, "transcribing", ingested.duration, outcome.title)
    return outcome


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


def _transcribe_all(db, settings, outcomes, job: TranscribeJob, jobs: int, reporter: Reporter) -> None:
    from pipeline.transcribe.stage import run_stage

    todo = [o for o in outcomes if not _already_transcribed(db, o, job)]
    for outcome in outcomes:
        if outcome not in todo:
            outcome.status, outcome.stages["transcribe"] = "skipped", DONE
            _add_transcript_facts(db, outcome)
            reporter.finished(outcome.source, "skipped (already transcribed)" + _warning_text(outcome))
    workers = effective_jobs(jobs, [_duration(db, o) for o in todo])
    if workers <= 1:
        transcriber = get_transcriber(job.engine, ModelStore(settings.models_dir, settings.models))
        for outcome in todo:
            progress = lambda seconds, uri=outcome.source: reporter.advance(uri, seconds)
            _record(db, outcome, run_stage(db, outcome.episode_id, job, transcriber, progress, settings=settings),
                    reporter)
        return
    by_id = {o.episode_id: o for o in todo}
    transcribe_in_pool(db, settings, [(o.episode_id, o.source) for o in todo], job, workers,
                       advance=reporter.advance,
                       finished=lambda episode_id, error: _record(db, by_id[episode_id], error, reporter))


def _already_transcribed(db: Database, outcome: EpisodeOutcome, job: TranscribeJob) -> bool:
    with db.session() as session:
        episode = session.get(Episode, outcome.episode_id)
        return is_current(stage_row(session, episode, "transcribe"), job.input_key(episode))


def _duration(db: Database, outcome: EpisodeOutcome) -> float:
    with db.session() as session:
        return session.get(Episode, outcome.episode_id).duration


def _record(db: Database, outcome: EpisodeOutcome, error: str | None, reporter: Reporter) -> None:
    outcome.stages["transcribe"] = FAILED if error else DONE
    outcome.status, outcome.error = (FAILED, error) if error else (DONE, None)
    if error:
        reporter.failed(outcome.source, error)
        return
    _add_transcript_facts(db, outcome)
    reporter.finished(outcome.source, "transcribed" + _language_text(outcome) + _warning_text(outcome))


def _add_transcript_facts(db: Database, outcome: EpisodeOutcome) -> None:
    with db.session() as session:
        outcome.warnings, outcome.languages = latest_transcript_facts(session, [outcome.episode_id]).get(
            outcome.episode_id, ([], {}))


def _language_text(outcome: EpisodeOutcome) -> str:
    """" (id 62% · en 38%)" for an episode in several languages; nothing for one language."""
    if len(outcome.languages) < 2:
        return ""
    return f" ({describe_shares(outcome.languages)})"


def _warning_text(outcome: EpisodeOutcome) -> str:
    return "".join(f"; warning: {w}" for w in outcome.warnings)


def _mine_all(db: Database, settings: Settings, outcomes: list[EpisodeOutcome], reporter: Reporter) -> None:
    from pipeline.highlights.stage import run_stage

    for outcome in outcomes:
        reporter.stage(outcome.source, "mining highlights", 1.0)
        try:
            result = run_stage(db, settings, outcome.episode_id)
        except CastmillError as exc:
            _failed(outcome, "highlights", str(exc), reporter)
            continue
        outcome.stages["highlights"] = DONE
        if result is None:
            reporter.finished(outcome.source, "ready (highlights already current)")
            continue
        outcome.highlights = len(result.highlights)
        message = f"{len(result.highlights)} highlight(s)" if result.highlights else result.notes[-1]
        reporter.finished(outcome.source, message)


def _clip_all(db: Database, settings: Settings, outcomes: list[EpisodeOutcome], reporter: Reporter) -> None:
    """The kinds and aspects the client profile asks for; unchanged clips are reused."""
    from pipeline.clips.stage import run_stage

    for outcome in outcomes:
        reporter.stage(outcome.source, "rendering clips", 1.0)
        progress = lambda done, total, uri=outcome.source: _clip_progress(reporter, uri, done, total)
        try:
            result = run_stage(db, settings, outcome.episode_id, progress=progress)
        except CastmillError as exc:
            _failed(outcome, "clips", str(exc), reporter)
            continue
        outcome.stages["clips"], outcome.clips = DONE, result.rendered + result.reused
        notes = "".join(f"; {note}" for note in result.notes)
        reporter.finished(outcome.source, f"{result.rendered} clip file(s) rendered, {result.reused} unchanged{notes}")


def _clip_progress(reporter: Reporter, source: str, done: int, total: int) -> None:
    if done == 0:
        reporter.stage(source, f"rendering {total} clips", float(total))
    reporter.advance(source, float(done))


def _draft_all(db: Database, settings: Settings, outcomes: list[EpisodeOutcome], reporter: Reporter) -> None:
    from pipeline.drafts.stage import run_stage

    for outcome in outcomes:
        try:
            result = run_stage(db, settings, outcome.episode_id)
        except CastmillError as exc:
            _failed(outcome, "drafts", str(exc), reporter)
            continue
        outcome.stages["drafts"], outcome.drafts = DONE, len(result.drafts)
        reporter.finished(outcome.source, result.message)


def _failed(outcome: EpisodeOutcome, stage: str, error: str, reporter: Reporter) -> None:
    """The stage recorded its failure on the episode; the batch notes it and goes on."""
    outcome.status, outcome.error, outcome.stages[stage] = FAILED, error, FAILED
    reporter.failed(outcome.source, error)
