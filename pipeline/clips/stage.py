"""Render a highlight's clips and record them: the entry point behind `castmill clips render`.

A clip is keyed by everything it is rendered from (source hash, cut, kind, aspect,
style, engine, caption words); asking again for an unchanged clip whose file is
still there does no work.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.clips.captions import clip_words, paginate, write_captions
from pipeline.clips.spec import ASPECTS, KINDS, CaptionStyle, ClipSpec
from pipeline.config import Settings
from pipeline.download import sha256_file
from pipeline.errors import MediaError, NotFoundError
from pipeline.models import Clip, Episode, Highlight

# Bumped when rendering changes its output for the same inputs.
RENDER_REVISION = 1
ENGINES = ("ffmpeg", "moviepy")
STYLES = {
    "default": CaptionStyle(),
    "upper": CaptionStyle(uppercase=True, size=0.05),
    "minimal": CaptionStyle(highlight="#FFFFFF", size=0.038, position=0.72),
}


@dataclass(frozen=True)
class ClipFile:
    id: int
    kind: str
    format: str
    path: str
    rendered: bool  # False: an unchanged clip was reused

    def to_dict(self) -> dict:
        return asdict(self)


def render_highlight(session: Session, settings: Settings, highlight_id: int, *, kind: str = "audiogram",
                     aspect: str = "9:16", style: str = "default", fit: str = "crop",
                     client_slug: str | None = None, engine: str = "ffmpeg") -> list[ClipFile]:
    highlight, episode = _load(session, highlight_id, client_slug)
    _check_request(highlight, episode, kind, aspect, style)
    if engine not in ENGINES:
        raise MediaError(f"unknown render engine {engine!r}; choose one of {', '.join(ENGINES)}")
    out_dir = settings.home / "clips" / episode.client.slug / f"episode-{episode.id}"
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"{highlight.key}-{kind}-{aspect.replace(':', 'x')}"
    if kind == "audio":
        return _audio(session, highlight, episode, stem)
    spec = ClipSpec(source=Path(episode.media_path), start=highlight.start, end=highlight.end, kind=kind,
                    aspect=aspect, title=episode.title, words=_words(session, episode, highlight),
                    style=STYLES[style])
    key = _key(episode, spec, style, fit, engine)
    reused = _reuse(session, episode, highlight, kind, aspect, "mp4", key)
    if reused:
        thumb = _reuse(session, episode, highlight, "thumbnail", aspect, "jpg", key)
        return [reused] + ([thumb] if thumb else [])
    return _render_video(session, highlight, episode, spec, stem, key, fit, engine)


def _load(session: Session, highlight_id: int, client_slug: str | None) -> tuple[Highlight, Episode]:
    highlight = session.get(Highlight, highlight_id)
    if highlight is None or (client_slug and highlight.episode.client.slug != client_slug):
        raise NotFoundError(f"no highlight {highlight_id}" + (f" for client {client_slug}" if client_slug else ""))
    return highlight, highlight.episode


def _check_request(highlight: Highlight, episode: Episode, kind: str, aspect: str, style: str) -> None:
    if kind not in KINDS:
        raise MediaError(f"unknown clip kind {kind!r}; choose one of {', '.join(KINDS)}")
    if aspect not in ASPECTS:
        raise MediaError(f"unknown aspect {aspect!r}; choose one of {', '.join(ASPECTS)}")
    if style not in STYLES:
        raise MediaError(f"unknown caption style {style!r}; choose one of {', '.join(STYLES)}")
    if highlight.end > (episode.duration or 0.0) + 0.05:
        raise MediaError(f"highlight ends at {highlight.end:.1f} s but the media is only "
                         f"{episode.duration:.1f} s long", source=episode.media_path)
    if kind == "video" and not episode.has_video:
        raise MediaError("the episode has no video stream: use --kind audiogram or audio", source=episode.media_path)


def _words(session: Session, episode: Episode, highlight: Highlight):
    from pipeline.highlights.store import latest_transcript, transcript_result

    row = latest_transcript(session, episode.id)
    words = transcript_result(row).words if row else []
    return clip_words(words, highlight.start, highlight.end)


def _key(episode: Episode, spec: ClipSpec, style: str, fit: str, engine: str = "ffmpeg") -> str:
    blob = json.dumps({"sha": episode.sha256, "cut": [spec.start, spec.end], "kind": spec.kind, "aspect": spec.aspect,
                       "style": style, "fit": fit, "words": [asdict(w) for w in spec.words], "title": spec.title,
                       "engine": engine, "revision": RENDER_REVISION}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _reuse(session, episode, highlight, kind, aspect, fmt, key) -> ClipFile | None:
    row = _row(session, episode, highlight, kind, aspect, fmt)
    if row and row.input_key == key and Path(row.path).is_file():
        return ClipFile(row.id, row.kind, row.format, row.path, False)
    return None


def _row(session, episode, highlight, kind, aspect, fmt) -> Clip | None:
    return session.scalar(select(Clip).where(Clip.episode_id == episode.id, Clip.highlight_key == highlight.key,
                                             Clip.kind == kind, Clip.aspect == aspect, Clip.format == fmt))


def _render_video(session, highlight, episode, spec: ClipSpec, stem: Path, key: str, fit: str,
                  engine: str = "ffmpeg") -> list[ClipFile]:
    from pipeline.clips import render_ffmpeg

    render = render_ffmpeg.render
    if engine == "moviepy":
        from pipeline.clips.render_moviepy import render  # moviepy loads only when asked for
    pages = paginate(spec.words, spec.style, spec.size)
    sidecars = write_captions(pages, spec.style, spec.size, stem)
    video = render(spec, _file(stem, "mp4"), sidecars["ass"] if pages else None, fit=fit)
    cover = render_ffmpeg.thumbnail(video, _file(stem, "jpg"), at=min(spec.seconds / 2, 3.0))
    extra = {"captions": {k: str(v) for k, v in sidecars.items()}}
    return [_record(session, episode, highlight, spec.kind, spec.aspect, "mp4", video, key, extra, engine),
            _record(session, episode, highlight, "thumbnail", spec.aspect, "jpg", cover, key, {}, engine)]


def _file(stem: Path, ext: str) -> Path:
    """``stem.ext``; not ``with_suffix``, which would eat the decimals of the cut points in the stem."""
    return stem.parent / f"{stem.name}.{ext}"


def _audio(session, highlight, episode, stem: Path) -> list[ClipFile]:
    from pipeline.clips.snippets import render_snippets

    key = hashlib.sha256(f"{episode.sha256}|{highlight.start}|{highlight.end}|audio|{RENDER_REVISION}".encode()).hexdigest()
    files = [_reuse(session, episode, highlight, "audio", "", fmt, key) for fmt in ("mp3", "m4a")]
    if all(files):
        return files
    snippets = render_snippets(Path(episode.media_path), highlight.start, highlight.end, stem.parent, stem.name)
    return [_record(session, episode, highlight, "audio", "", s.format, s.path, key, {"lufs": round(s.lufs, 2)})
            for s in snippets]


def _record(session, episode, highlight, kind, aspect, fmt, path: Path, key: str, extra: dict,
            engine: str = "ffmpeg") -> ClipFile:
    row = _row(session, episode, highlight, kind, aspect, fmt) or Clip(
        episode_id=episode.id, highlight_key=highlight.key, kind=kind, aspect=aspect, format=fmt)
    row.highlight_id, row.engine, row.path, row.input_key = highlight.id, engine, str(path), key
    row.sha256, row.probe = sha256_file(path), {**_probe(path, fmt), **extra}
    session.add(row)
    session.flush()
    return ClipFile(row.id, kind, fmt, str(path), True)


def _probe(path: Path, fmt: str) -> dict:
    if fmt == "jpg":
        return {"bytes": path.stat().st_size}
    from pipeline.clips.preflight import probe_clip

    probe = probe_clip(path)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(probe).items()}


@dataclass(frozen=True)
class StageResult:
    rendered: int
    reused: int
    skipped: list[str]


def render_episode_clips(session: Session, settings: Settings, episode_id: int) -> StageResult:
    """Every clip the client's [clips] settings ask for, for every highlight of the episode."""
    episode = session.get(Episode, episode_id)
    wanted = episode.client.clip_settings or {}
    rendered = reused = 0
    skipped: list[str] = []
    for highlight in episode.highlights:
        for kind in wanted.get("kinds", []):
            if kind == "video" and not episode.has_video:
                skipped.append(f"highlight {highlight.id}: no video stream, video clips skipped")
                continue
            for aspect in (wanted.get("aspects") or ["9:16"]) if kind != "audio" else ["9:16"]:
                files = render_highlight(session, settings, highlight.id, kind=kind, aspect=aspect,
                                         style=wanted.get("style", "default"), fit=wanted.get("fit", "crop"))
                rendered += sum(f.rendered for f in files)
                reused += sum(not f.rendered for f in files)
        session.commit()  # each highlight's clips are kept even if a later render fails; no long write lock
    return StageResult(rendered, reused, skipped)
