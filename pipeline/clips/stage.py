"""Plan, render and record a highlight's clips: behind `castmill clips render` and the clips stage.

A clip is keyed by everything it is rendered from (source hash, cut, kind, aspect,
caption style, cover, engine, caption words and their speakers, reframe mode);
asking again for an unchanged clip whose file is still there does no work. The
stage renders an episode's missing clips through the render queue
(``pipeline.clips.queue``) and commits each one as it finishes, so an interrupted
batch resumes where it stopped. A video clip records how it was framed and why
(``probe["reframe"]``, see ``pipeline.clips.reframe``). Caption sidecars name the
speakers; ``name_speakers`` renames them and rewrites the sidecars of rendered clips.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.access.identity import Identity
from pipeline.clips.captions import clip_words, rename_in_sidecars
from pipeline.clips.cover import resolve_cover
from pipeline.clips.jobs import RenderJob, RenderOutput, run_job
from pipeline.clips.spec import CaptionStyle, ClipSpec
from pipeline.clips.snippets import END_TOLERANCE_S
from pipeline.core.settings import ClipSettings, Settings
from pipeline.media.download import sha256_file
from pipeline.media.storage import MediaStorage, clip_key, ensure_local, local_media, open_storage, store_copy
from pipeline.core.errors import CastmillError, MediaError, NotFoundError
from pipeline.core.vocab import ASPECTS, CARD, CLIP_KINDS, RENDER_ENGINES
from pipeline.store.db import Database
from pipeline.store.stages import mark_done, mark_failed, mark_running, mark_stage
from pipeline.store.models import Clip, Episode, Highlight
from pipeline.transcribe.speakers import rename_speakers

# Bumped when rendering changes its output for the same inputs.
# 3: the audio fades in and out at both edges (spec.EDGE_FADE_SECONDS).
# 4: video clips follow the speaking face (reframe.py); caption words carry their speaker.
RENDER_REVISION = 4
STAGE = "clips"
STYLES = {
    "default": CaptionStyle(),
    "upper": CaptionStyle(uppercase=True, size=0.05),
    "minimal": CaptionStyle(highlight="#FFFFFF", size=0.038, position=0.72),
}
MAIN_FORMAT = {"video": "mp4", "audiogram": "mp4", "audio": "mp3"}


@dataclass(frozen=True)
class ClipFile:
    id: int
    kind: str
    format: str
    path: str
    rendered: bool  # False: an unchanged clip was reused
    framing: str = ""  # video clips: how the picture was framed and why ("no face found: blurred fit")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class StageResult:
    rendered: int
    reused: int
    skipped: list[str]
    failed: list[str] = field(default_factory=list)  # "highlight 12 audiogram 9:16: <error>"
    notes: list[str] = field(default_factory=list)


def caption_style(preset: str, overrides: dict | None = None) -> CaptionStyle:
    """The preset's style with the client's own caption settings laid over it."""
    if preset not in STYLES:
        raise MediaError(f"unknown caption style {preset!r}; choose one of {', '.join(STYLES)}")
    laid = {k: tuple(v) if isinstance(v, list) else v for k, v in (overrides or {}).items() if v is not None}
    return replace(STYLES[preset], **laid)


class EpisodeClips:
    """An episode's clip planning: its words and cover are looked up once for all its highlights."""

    def __init__(self, session: Session, settings: Settings, episode: Episode, engine: str = "ffmpeg"):
        if engine not in RENDER_ENGINES:
            raise MediaError(f"unknown render engine {engine!r}; choose one of {', '.join(RENDER_ENGINES)}")
        self.session, self.settings, self.episode, self.engine = session, settings, episode, engine
        self.wanted = episode.client.clip_settings or {}
        self.out_dir = settings.home / "clips" / episode.client.slug / f"episode-{episode.id}"
        self.storage = open_storage(settings)
        self._words = None
        self._cover = None
        self._source: Path | None = None

    def source(self) -> Path:
        """The episode's media as a local file (fetched from the media storage once, when a clip must render)."""
        if self._source is None:
            self._source = local_media(self.settings, self.episode.media_path)
        return self._source

    @property
    def cover(self):
        if self._cover is None:
            self._cover = resolve_cover(self.settings, self.episode)
        return self._cover

    def words(self, highlight: Highlight):
        if self._words is None:
            from pipeline.highlights.store import transcript_result
            from pipeline.store.episodes import latest_transcript

            row = latest_transcript(self.session, self.episode.id)
            self._words = transcript_result(row).words if row else []
        return clip_words(self._words, highlight.start, highlight.end)

    def reframe_mode(self, fit: str | None = None) -> str:
        """How video clips are framed: the client's ``reframe``; an explicit fit = "blur" asks for the blurred fit."""
        if fit == "blur":
            return "fit"
        return ClipSettings.reframe_for(self.wanted.get("reframe"), self.wanted.get("fit") or "crop")

    def plan(self, highlight: Highlight, kind: str, aspect: str, style: str, fit: str,
             reframe: str | None = None) -> RenderJob | list[ClipFile]:
        """The job that renders this clip, or the stored files when nothing it depends on changed.

        ``reframe`` (video only) defaults to ``reframe_mode(fit)``.
        """
        _check_request(highlight, self.episode, kind, aspect)
        aspect = "" if kind == "audio" else aspect
        stem = self.out_dir / f"{highlight.key}-{kind}-{(aspect or '9:16').replace(':', 'x')}"
        spec = ClipSpec(source=Path(self.episode.media_path), start=highlight.start, end=highlight.end, kind=kind,
                        aspect=aspect or "9:16", title=self.episode.title)
        if kind != "audio":
            spec = replace(spec, words=self.words(highlight), cover=self.cover.path,
                           style=caption_style(style, self.wanted.get("caption_style")))
        thumbnail = self.wanted.get("thumbnail", "frame")
        reframe = (reframe or self.reframe_mode(fit)) if kind == "video" else ""
        key = _key(self.episode, spec, thumbnail, fit, self.engine, reframe)
        reused = self._reuse(highlight, kind, aspect, key)
        if reused:
            return reused
        spec = replace(spec, source=self.source())
        return RenderJob(highlight.id, kind, aspect, spec, stem, key, fit, self.engine, thumbnail,
                         label=f"highlight {highlight.id} {kind} {aspect}".strip(), reframe=reframe,
                         speaker_names=tuple(sorted((self.episode.speaker_names or {}).items())))

    def _reuse(self, highlight: Highlight, kind: str, aspect: str, key: str) -> list[ClipFile]:
        formats = ("mp3", "m4a") if kind == "audio" else ("mp4", "jpg")
        kinds = (kind, kind) if kind == "audio" else (kind, "thumbnail")
        rows = [_row(self.session, self.episode, highlight, k, aspect, f) for k, f in zip(kinds, formats)]
        if all(r and r.status == "ready" and r.input_key == key for r in rows) and \
                all(ensure_local(self.storage, r.path, (r.probe or {}).get("stored")) for r in rows):
            for row in rows:
                fetch_sidecars(self.storage, row.probe)
            return [ClipFile(r.id, r.kind, r.format, r.path, False, framing(r.probe)) for r in rows]
        return []

    def record(self, output: RenderOutput) -> list[ClipFile]:
        """Store what a job produced; a failed job marks its clip failed with the error."""
        job = output.job
        highlight = self.session.get(Highlight, job.highlight_id)
        if output.error:
            row = self._stored_or_new(highlight, job.kind, job.aspect, MAIN_FORMAT[job.kind])
            row.status, row.error, row.input_key, row.engine = "failed", output.error, job.key, job.engine
            row.path, row.sha256, row.highlight_id = "", "", highlight.id
            self.session.add(row)
            self.session.flush()
            return []
        return [self._record_file(highlight, job, f) for f in output.files]

    def _record_file(self, highlight: Highlight, job: RenderJob, file) -> ClipFile:
        row = self._stored_or_new(highlight, file.kind, job.aspect, file.format)
        row.highlight_id, row.engine, row.path, row.input_key = highlight.id, job.engine, str(file.path), job.key
        row.status, row.error = "ready", ""
        row.sha256, row.probe = sha256_file(file.path), {**_probe(file.path, file.format), **file.extra}
        row.probe = {**row.probe, **store_copy(self.storage, Path(file.path), self._key_of(file.path)),
                     **self._store_sidecars(file.extra.get("captions") or {})}
        self.session.add(row)
        self.session.flush()
        return ClipFile(row.id, file.kind, file.format, str(file.path), True, framing(row.probe))

    def _key_of(self, path: str | Path) -> str:
        return clip_file_key(self.episode, path)

    def _store_sidecars(self, captions: dict[str, str]) -> dict:
        """``{"captions_stored": {ext: ref}}`` for the clip's caption files, so that another machine has them."""
        if not captions or not self.storage.keeps_copies:
            return {}
        return {"captions_stored": {ext: self.storage.put(Path(path), self._key_of(path))
                                    for ext, path in captions.items()}}

    def _stored_or_new(self, highlight: Highlight, kind: str, aspect: str, fmt: str) -> Clip:
        return _row(self.session, self.episode, highlight, kind, aspect, fmt) or Clip(
            episode_id=self.episode.id, highlight_key=highlight.key, kind=kind, aspect=aspect, format=fmt)


def render_highlight(session: Session, settings: Settings, highlight_id: int, *, kind: str = "audiogram",
                     aspect: str = "9:16", style: str = "default", fit: str = "crop",
                     client_slug: str | None = None, engine: str = "ffmpeg",
                     reframe: str | None = None) -> list[ClipFile]:
    """Render (or reuse) one clip now, in this process; a failed render is recorded, then raised.

    A video is framed as ``reframe`` says; by default as the client's [clips] table says, or with the
    blurred fit when ``fit`` is "blur".
    """
    highlight = session.get(Highlight, highlight_id)
    if highlight is None or (client_slug and highlight.episode.client.slug != client_slug):
        raise NotFoundError(f"no highlight {highlight_id}" + (f" for client {client_slug}" if client_slug else ""))
    clips = EpisodeClips(session, settings, highlight.episode, engine)
    planned = clips.plan(highlight, kind, aspect, style, fit, reframe)
    if isinstance(planned, list):
        return planned
    planned.stem.parent.mkdir(parents=True, exist_ok=True)
    output = run_job(planned)
    files = clips.record(output)
    if output.error:
        session.commit()  # the failure stays on the clip even though the command fails
        raise MediaError(output.error)
    return files


def render_episode(session: Session, settings: Settings, episode_id: int, *, workers: int | None = None,
                         progress: Callable[[int, int], None] | None = None) -> StageResult:
    """Every clip the client's [clips] settings ask for, for every highlight of the episode.

    Missing clips render in the queue; each is committed as it finishes. Clips that
    fail are marked failed and the others still render; then the stage raises with
    the count, so the episode shows the error and a re-run redoes only the failed ones.
    """
    from pipeline.clips.queue import run_jobs

    episode = session.get(Episode, episode_id)
    clips = EpisodeClips(session, settings, episode)
    jobs, reused, skipped = _plan_episode(clips, episode)
    clips.out_dir.mkdir(parents=True, exist_ok=True)
    session.commit()  # release the write lock while rendering
    rendered, failed = 0, []
    if progress and jobs:
        progress(0, len(jobs))
    notes = []
    for done, output in enumerate(run_jobs(jobs, workers), start=1):
        rendered += len(clips.record(output))
        notes += framing_notes(output)
        if output.error:
            failed.append(f"{output.job.label}: {output.error}")
        session.commit()
        if progress:
            progress(done, len(jobs))
    notes = ([clips.cover.note] if jobs and clips.cover.note else []) + notes
    attempted = len(jobs)
    if CARD in clips.wanted.get("kinds", []):
        made, kept, card_failures = _cards(session, settings, episode)
        rendered, reused, failed = rendered + made, reused + kept, failed + card_failures
        attempted += made + len(card_failures)
    if failed:
        raise MediaError(f"{len(failed)} of {attempted} clips failed; first: {failed[0]}", source=episode.media_path)
    return StageResult(rendered, reused, skipped, failed, notes)


def _cards(session: Session, settings: Settings, episode: Episode) -> tuple[int, int, list[str]]:
    """Every highlight's quote cards: (drawn, reused, failures); each highlight's cards committed as they are made."""
    from pipeline.clips.quote_card import cards_for_highlight

    made = kept = 0
    failed = []
    for highlight in episode.highlights:
        try:
            cards = cards_for_highlight(session, settings, highlight)
        except CastmillError as exc:
            failed.append(f"highlight {highlight.id} quote card: {exc}")
            continue
        made += sum(card.rendered for card in cards)
        kept += sum(not card.rendered for card in cards)
        session.commit()
    return made, kept, failed


def _plan_episode(clips: EpisodeClips, episode: Episode) -> tuple[list[RenderJob], int, list[str]]:
    wanted = clips.wanted
    jobs, reused, skipped = [], 0, []
    for highlight in episode.highlights:
        for kind in wanted.get("kinds", []):
            if kind == CARD:  # drawn in this process after the renders (``_cards``)
                continue
            if kind == "video" and not episode.has_video:
                skipped.append(f"highlight {highlight.id}: no video stream, video clips skipped")
                continue
            for aspect in (wanted.get("aspects") or ["9:16"]) if kind != "audio" else ["9:16"]:
                planned = clips.plan(highlight, kind, aspect, wanted.get("style", "default"), wanted.get("fit", "crop"),
                                     clips.reframe_mode())
                if isinstance(planned, list):
                    reused += len(planned)
                else:
                    jobs.append(planned)
    return jobs, reused, skipped


def name_speakers(session: Session, settings: Settings, identity: Identity, episode_id: int,
                  names: dict[str, str]) -> dict[str, str]:
    """Name an episode's speakers (``transcribe.speakers.rename_speakers``: staff only, audited) and rewrite
    the SRT/VTT sidecars of its rendered clips with the names (fetched from the media storage first when
    another machine rendered them, and stored back). Returns the episode's whole name map."""
    after = rename_speakers(session, identity, episode_id, names)
    storage, episode = open_storage(settings), session.get(Episode, episode_id)
    for clip in session.scalars(select(Clip).where(Clip.episode_id == episode_id, Clip.status == "ready")):
        sidecars = (clip.probe or {}).get("captions")
        if sidecars and fetch_sidecars(storage, clip.probe) and rename_in_sidecars(sidecars, after):
            stored = clip.probe.get("captions_stored") or {}
            for ext in ("srt", "vtt"):
                if ext in stored:
                    storage.put(Path(sidecars[ext]), clip_file_key(episode, sidecars[ext]))
    return after


def clip_file_key(episode: Episode, path: str | Path) -> str:
    """Where a file rendered for ``episode`` (a clip, its thumbnail, a caption file) is kept in the media storage."""
    return clip_key(episode.client.slug, episode.id, Path(path).name)


def fetch_sidecars(storage: MediaStorage, probe: dict | None) -> bool:
    """True when every caption file of a clip is on this machine, fetched back from the storage where missing."""
    paths, stored = (probe or {}).get("captions") or {}, (probe or {}).get("captions_stored") or {}
    return all(ensure_local(storage, path, stored.get(ext)) for ext, path in paths.items())


def _check_request(highlight: Highlight, episode: Episode, kind: str, aspect: str) -> None:
    if kind not in CLIP_KINDS:
        raise MediaError(f"unknown clip kind {kind!r}; choose one of {', '.join(CLIP_KINDS)}")
    if aspect not in ASPECTS:
        raise MediaError(f"unknown aspect {aspect!r}; choose one of {', '.join(ASPECTS)}")
    if highlight.end > (episode.duration or 0.0) + END_TOLERANCE_S:
        raise MediaError(f"highlight ends at {highlight.end:.1f} s but the media is only "
                         f"{episode.duration:.1f} s long", source=episode.media_path)
    if kind == "video" and not episode.has_video:
        raise MediaError("the episode has no video stream: use --kind audiogram or audio", source=episode.media_path)


def _key(episode: Episode, spec: ClipSpec, thumbnail: str, fit: str, engine: str = "ffmpeg", reframe: str = "") -> str:
    cover = {"path": str(spec.cover), "sha": sha256_file(spec.cover)} if spec.cover else None
    blob = json.dumps({"sha": episode.sha256, "cut": [spec.start, spec.end], "kind": spec.kind, "aspect": spec.aspect,
                       "style": asdict(spec.style), "fit": fit, "words": [asdict(w) for w in spec.words],
                       "title": spec.title, "cover": cover, "thumbnail": thumbnail, "engine": engine,
                       "reframe": reframe, "revision": RENDER_REVISION}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def framing(probe: dict | None) -> str:
    """The framing reason a clip recorded in its probe JSON ("" for audiograms, snippets and older clips)."""
    return str(((probe or {}).get("reframe") or {}).get("reason", ""))


def framing_notes(output: RenderOutput) -> list[str]:
    """"highlight 3 video 9:16: no face found: blurred fit" for each clip that fell back to another framing."""
    framed = [f.extra["reframe"] for f in output.files if f.extra.get("reframe")]
    return [f"{output.job.label}: {r['reason']}" for r in framed if r.get("fallback")]


def _row(session, episode, highlight, kind, aspect, fmt) -> Clip | None:
    return session.scalar(select(Clip).where(Clip.episode_id == episode.id, Clip.highlight_key == highlight.key,
                                             Clip.kind == kind, Clip.aspect == aspect, Clip.format == fmt))


def _probe(path: Path, fmt: str) -> dict:
    if fmt == "jpg":
        return {"bytes": path.stat().st_size}
    from pipeline.clips.preflight import probe_clip

    probe = probe_clip(path)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(probe).items()}


def run_stage(db: Database, settings: Settings, episode_id: int, *, workers: int | None = None,
              progress: Callable[[int, int], None] | None = None) -> StageResult:
    """The clips stage of one episode, recorded on its stage row (see ``render_episode``)."""
    mark_stage(db, episode_id, STAGE, mark_running, "")
    try:
        with db.session() as session:
            result = render_episode(session, settings, episode_id, workers=workers, progress=progress)
    except CastmillError as exc:
        mark_stage(db, episode_id, STAGE, mark_failed, str(exc))
        raise
    mark_stage(db, episode_id, STAGE, mark_done)
    return result
