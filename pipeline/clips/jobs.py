"""One clip render as plain data, and the function that performs it.

A ``RenderJob`` holds everything a render needs and nothing from the database, so
it can run in a worker process (``pipeline.clips.queue``); the stage records its
``RenderOutput`` afterwards in the main process.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.clips.spec import ClipSpec


@dataclass(frozen=True)
class RenderJob:
    highlight_id: int
    kind: str  # video | audiogram | audio
    aspect: str  # "" for audio snippets
    spec: ClipSpec
    stem: Path  # output files are stem.mp4, stem.jpg, stem.ass … (or stem.mp3/.m4a)
    key: str  # the input hash recorded with the clip
    fit: str = "crop"
    engine: str = "ffmpeg"
    thumbnail: str = "frame"  # "frame" of the clip or the "title" card
    label: str = ""  # for progress lines: "highlight 12 audiogram 9:16"
    # How a video is framed (reframe.REFRAME_MODES); "" = as ``fit`` says, without looking for faces.
    reframe: str = ""
    # The names the VA gave the speakers, for the SRT/VTT sidecars: (("S1", "Dinda"), …). Not part of
    # ``key``: a rename rewrites the sidecars of rendered clips instead (clips.stage.name_speakers).
    speaker_names: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RenderedFile:
    kind: str
    format: str
    path: Path
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RenderOutput:
    job: RenderJob
    files: tuple[RenderedFile, ...] = ()
    error: str = ""  # one line; empty when every file was written


def run_job(job: RenderJob) -> RenderOutput:
    """Render one job; a CastmillError becomes ``error`` (the partial files are already gone)."""
    from pipeline.core.errors import CastmillError

    try:
        files = _snippets(job) if job.kind == "audio" else _video(job)
    except CastmillError as exc:
        return RenderOutput(job, error=str(exc))
    return RenderOutput(job, tuple(files))


def _snippets(job: RenderJob) -> list[RenderedFile]:
    from pipeline.clips.snippets import render_snippets

    snippets = render_snippets(job.spec.source, job.spec.start, job.spec.end, job.stem.parent, job.stem.name)
    return [RenderedFile("audio", s.format, s.path, {"lufs": round(s.lufs, 2)}) for s in snippets]


def _video(job: RenderJob) -> list[RenderedFile]:
    from pipeline.clips import render_ffmpeg
    from pipeline.clips.captions import paginate, write_captions

    render = render_ffmpeg.render
    if job.engine == "moviepy":
        from pipeline.clips.render_moviepy import render  # moviepy loads only when asked for
    spec, frame = framed(job)
    pages = paginate(spec.words, spec.style, spec.size)
    sidecars = write_captions(pages, spec.style, spec.size, job.stem, dict(job.speaker_names))
    video = render(spec, output_file(job.stem, "mp4"), sidecars["ass"] if pages else None, fit=job.fit, frame=frame)
    jpg = output_file(job.stem, "jpg")
    if job.thumbnail == "title":
        cover = render_ffmpeg.title_card(spec, jpg)
    else:
        cover = render_ffmpeg.thumbnail(video, jpg, at=min(spec.seconds / 2, 3.0))
    extra = {"captions": {k: str(v) for k, v in sidecars.items()}}
    if frame is not None:
        extra["reframe"] = frame.summary()
    return [RenderedFile(spec.kind, "mp4", video, extra), RenderedFile("thumbnail", "jpg", cover)]


def framed(job: RenderJob):
    """(the spec to render, its FramePlan) for a video job that asks for reframing; (spec, None) otherwise.

    The faces are looked for here, in the worker, not while planning: it means decoding the cut.
    In the split layout the captions move up to the seam between the two faces.
    """
    if job.kind != "video" or not job.reframe:
        return job.spec, None
    from pipeline.clips.reframe import SPLIT_CAPTION_POSITION, plan_for_clip

    spec = job.spec
    frame = plan_for_clip(spec.source, spec.start, spec.seconds, spec.words, spec.size, mode=job.reframe, fps=spec.fps)
    if frame.layout == "split":
        spec = replace(spec, style=replace(spec.style, position=SPLIT_CAPTION_POSITION))
    return spec, frame


def output_file(stem: Path, ext: str) -> Path:
    """``stem.ext``; not ``with_suffix``, which would eat the decimals of the cut points in the stem."""
    return stem.parent / f"{stem.name}.{ext}"
