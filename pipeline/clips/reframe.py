"""Reframing a wide video clip for a tall frame: which layout, and where the crop goes over time.

A video clip cut from a 16:9 recording and shown 9:16 keeps a third of the picture.
This module decides which third, as plain data both engines render alike:

* ``tracked``: a full-height crop that follows the face of whoever is speaking. The
  speakers' turns come from the caption words' ``speaker`` labels; each label is
  matched, shot by shot, to the face whose mouth moves while that speaker talks
  (``reframe_tracks``). The camera eases inside a dead zone and cuts only at a shot
  change or a speaker turn (``reframe_path``).
* ``split``: two faces stacked top and bottom, each half a crop around one face.
* ``fit``: the whole picture on a blurred copy of itself.
* ``centre``: today's centre crop.

``plan_reframe`` is a plain function of the face detections (``VideoAnalysis``, made
by ``reframe_detect.analyse_video``), the caption words and the options; in ``auto``
mode it falls back tracked → split → fit → centre and names the reason on the plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

from pipeline.clips.reframe_data import CropKey, ReframeOptions, VideoAnalysis, even, path_x
from pipeline.clips.reframe_path import camera_path
from pipeline.clips.reframe_tracks import (Track, Turn, aim_speakers, build_tracks, match_speakers, speaker_turns,
                                           speech_coverage)
from pipeline.clips.spec import FPS, CaptionWord, speaker_index
from pipeline.core.errors import ConfigError

REFRAME_MODES = ("auto", "centre", "fit", "split")
LAYOUTS = ("tracked", "split", "fit", "centre")
# A source at least this tall for its width (9:16 or taller) is shown as it is.
PORTRAIT_RATIO = 16 / 9
# In the split layout the captions sit on the seam between the two faces (share of the height).
SPLIT_CAPTION_POSITION = 0.5
# Auto mode keeps the tracked crop when at least this share of the speech is on a face matched to its speaker.
MIN_COVERAGE = 0.8
Size = tuple[int, int]  # (width, height) in pixels
Matches = dict[int, dict[str, int]]  # shot -> speaker -> face track (reframe_tracks.match_speakers)


@dataclass(frozen=True)
class SplitShot:
    start: float  # seconds from the start of the clip
    top: tuple[int, int]  # left and top edge of the upper half's window, source pixels
    bottom: tuple[int, int]


@dataclass(frozen=True)
class FramePlan:
    """How a video clip is framed: the layout, why, and the crop windows over time."""

    layout: str  # tracked | split | fit | centre
    reason: str  # one line for people: "no face found: blurred fit"
    mode: str = "auto"  # the mode that was asked for (REFRAME_MODES)
    crop: Size = (0, 0)  # the crop window in source pixels: the tracked crop, or each half of the split
    path: tuple[CropKey, ...] = ()  # tracked: where the crop's left edge is over time
    split: tuple[SplitShot, ...] = ()  # split: the two windows, shot by shot
    faces: int = 0  # face tracks found (all shots)
    shots: int = 1
    speakers: dict[str, int] = field(default_factory=dict)  # speaker label -> shots in which a face was matched
    fallback: bool = False  # True: not the layout the mode tries first (the reason says why)

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ConfigError(f"unknown reframe layout {self.layout!r}; one of {', '.join(LAYOUTS)}")
        if self.layout == "tracked" and not self.path:
            raise ConfigError("a tracked reframe needs a crop path")
        if self.layout == "split" and not self.split:
            raise ConfigError("a split reframe needs its windows")

    def x_at(self, t: float) -> float:
        """The tracked crop's left edge at ``t`` seconds (before rounding to pixels)."""
        return path_x(self.path, t)

    def summary(self) -> dict:
        """What the clip records about its framing (the ``reframe`` key of the clip's probe JSON)."""
        return {"mode": self.mode, "layout": self.layout, "reason": self.reason, "fallback": self.fallback,
                "faces": self.faces, "shots": self.shots, "speakers": dict(sorted(self.speakers.items())),
                "keyframes": len(self.path)}


def static_plan(fit: str) -> FramePlan:
    """The framing of the ``fit`` switch alone: "blur" fits on a blurred copy, anything else centre-crops."""
    if fit == "blur":
        return FramePlan("fit", "whole picture on a blurred copy (fit = blur)", mode="fit")
    return FramePlan("centre", "centre crop", mode="centre")


def plan_reframe(analysis: VideoAnalysis, words: tuple[CaptionWord, ...], out_size: Size, *,
                 mode: str = "auto", fps: int = FPS, options: ReframeOptions | None = None) -> FramePlan:
    """The layout and crop path for a clip; the same inputs always give the same plan."""
    options = options or ReframeOptions()
    if mode not in REFRAME_MODES:
        raise ConfigError(f"unknown reframe mode {mode!r}; choose one of {', '.join(REFRAME_MODES)}")
    if mode == "centre":
        return FramePlan("centre", "centre crop (reframe = centre)", mode=mode)
    if mode == "fit":
        return FramePlan("fit", "whole picture on a blurred copy (reframe = fit)", mode=mode)
    unframed = _not_reframable(analysis, out_size)
    if unframed:
        return FramePlan("centre", unframed, mode=mode)
    if not analysis.samples:
        return FramePlan("centre", "clip too short to look for faces: centre crop", mode=mode, fallback=True)
    tracks, too_small = build_tracks(analysis, options)
    if not tracks:
        return FramePlan("fit", _no_face_reason(too_small, analysis.height, options), mode=mode,
                         shots=len(analysis.shots()), fallback=True)
    return _choose(_Context(analysis, words, out_size, mode, fps, options, tracks))


@dataclass(frozen=True)
class _Context:
    analysis: VideoAnalysis
    words: tuple[CaptionWord, ...]
    out_size: Size
    mode: str
    fps: int
    options: ReframeOptions
    tracks: tuple[Track, ...]


def _choose(ctx: _Context) -> FramePlan:
    """The tracked crop while the speech is on matched faces; else the two faces stacked; else a blurred fit.

    Split mode stacks the faces whenever it can and otherwise chooses like auto, saying why it could not.
    """
    shots = ctx.analysis.shots()
    turns = speaker_turns(ctx.words)
    matches = match_speakers(ctx.tracks, shots, turns, ctx.analysis, ctx.options)
    coverage = speech_coverage(ctx.tracks, shots, turns, matches)
    (crop, path), holds = _tracked_plan(ctx, shots, turns, matches)
    split, no_split = _split_plan(ctx, shots, matches)
    facts = {"mode": ctx.mode, "faces": len(ctx.tracks), "shots": len(shots), "speakers": _matched_count(matches)}
    if ctx.mode == "split" and split:
        return FramePlan("split", "two faces stacked (reframe = split)", crop=split[0], split=split[1], **facts)
    prefix = f"{no_split}; " if ctx.mode == "split" else ""
    quick = bool(holds) and median(holds) < ctx.options.min_hold_seconds
    if coverage >= MIN_COVERAGE and not (quick and split):
        speakers = len({t.speaker for t in turns})
        return FramePlan("tracked", prefix + _tracked_reason(speakers, len(ctx.tracks), len(shots)), crop=crop,
                         path=path, fallback=bool(prefix), **facts)
    if coverage >= MIN_COVERAGE:
        problem = f"speakers take turns every {median(holds):.1f} s, too quick for a moving crop"
    else:
        problem = f"could not tell which face is speaking ({coverage:.0%} of the speech matched to a face)"
    if split:
        return FramePlan("split", f"{problem}: split", crop=split[0], split=split[1], fallback=True, **facts)
    return FramePlan("fit", f"{prefix}{problem}: blurred fit", fallback=True, **facts)


def _not_reframable(analysis: VideoAnalysis, out_size: Size) -> str:
    out_w, out_h = out_size
    if analysis.height >= analysis.width * PORTRAIT_RATIO - 1:
        return "portrait source: not reframed"
    if analysis.width * out_h <= analysis.height * out_w * 1.02:
        return "the source is no wider than the clip: not reframed"
    return ""


def _no_face_reason(too_small: float, height: int, options: ReframeOptions) -> str:
    if too_small:
        largest = math.floor(100 * too_small / height)  # floored: 7.6 % must not read as the 8 % needed
        return (f"faces too small (the largest is {largest}% of the picture's height, "
                f"{options.min_face_share:.0%} needed): blurred fit")
    return "no face found: blurred fit"


def _tracked_reason(speakers: int, faces: int, shots: int) -> str:
    who = "the speaker" if speakers <= 1 else f"{speakers} speakers"
    return f"tracked crop following {who} ({_count(faces, 'face track')}, {_count(shots, 'shot')})"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' * (number != 1)}"


def _tracked_plan(ctx: _Context, shots: list[tuple[float, float]], turns: list[Turn],
                  matches: Matches) -> tuple[tuple[Size, tuple[CropKey, ...]], list[float]]:
    """((crop size, keyframes), seconds the camera holds a face between two turn cuts)."""
    width, height = ctx.analysis.width, ctx.analysis.height
    out_w, out_h = ctx.out_size
    crop_h = even(height)
    crop_w = min(even(width), even(crop_h * out_w / out_h))
    aims = aim_speakers(turns, ctx.options.min_turn_seconds)
    keys, holds = camera_path(ctx.tracks, shots, aims, matches, ctx.analysis.seconds, ctx.fps, (width, crop_w),
                              ctx.options)
    return ((crop_w, crop_h), keys), holds


def _split_plan(ctx: _Context, shots: list[tuple[float, float]],
                matches: Matches) -> tuple[tuple[Size, tuple[SplitShot, ...]] | None, str]:
    """((window size, windows per shot), "") when two faces are in every shot of a tall clip; else (None, why not)."""
    out_w, out_h = ctx.out_size
    if out_h <= out_w:
        return None, "split needs a tall clip"
    pairs = []
    for index, shot in enumerate(shots):
        faces = [t for t in ctx.tracks if t.shot == index]
        if len(faces) < 2:
            return None, f"split needs two faces in every shot (shot {index + 1} has {len(faces)})"
        pairs.append(_split_pair(faces, matches.get(index, {})))
    width, height = ctx.analysis.width, ctx.analysis.height
    face = median(t.size for pair in pairs for t in pair)
    window_h = face / ctx.options.split_face_share
    window_w = window_h * out_w / (out_h / 2)
    shrink = min(1.0, width / window_w, height / window_h)
    size = (even(window_w * shrink), even(window_h * shrink))
    windows = tuple(SplitShot(start, _window(top, size, width, height), _window(bottom, size, width, height))
                    for (start, _end), (top, bottom) in zip(shots, pairs))
    return (size, windows), ""


def _split_pair(faces: list[Track], matched: dict[str, int]) -> tuple[Track, Track]:
    """The two faces of a shot, top first: the matched speakers' faces in label order, then the faces seen most;
    with no speaker matched, the left face on top."""
    by_index = {t.index: t for t in faces}
    in_label_order = sorted(matched.items(), key=lambda item: (speaker_index(item[0]), item[0]))
    chosen = [by_index[index] for _speaker, index in in_label_order if index in by_index]
    for track in sorted(faces, key=lambda t: (-len(t.times), -t.size, t.x)):
        if track not in chosen:
            chosen.append(track)
    top, bottom = chosen[:2]
    if not matched:
        top, bottom = sorted((top, bottom), key=lambda t: t.x)
    return top, bottom


def _window(track: Track, size: Size, width: int, height: int) -> tuple[int, int]:
    """The window's top-left corner: the face centred across, its centre 45 % down the window."""
    w, h = size
    left = min(max(track.x - w / 2, 0), width - w)
    top = min(max(track.y - 0.45 * h, 0), height - h)
    return even(left, down=True), even(top, down=True)


def _matched_count(matches: Matches) -> dict[str, int]:
    counts: dict[str, int] = {}
    for per_shot in matches.values():
        for speaker in per_shot:
            counts[speaker or "?"] = counts.get(speaker or "?", 0) + 1
    return counts


def plan_for_clip(source: Path, start: float, seconds: float, words: tuple[CaptionWord, ...], out_size: Size, *,
                  mode: str, fps: int = FPS, options: ReframeOptions | None = None) -> FramePlan:
    """Look at the clip's frames (only when the mode needs them) and plan its framing."""
    options = options or ReframeOptions()
    if mode in ("centre", "fit"):
        return plan_reframe(VideoAnalysis(0, 0, seconds), words, out_size, mode=mode, fps=fps, options=options)
    from pipeline.clips.reframe_detect import analyse_video

    analysis = analyse_video(source, start, seconds, fps=fps, options=options)
    return plan_reframe(analysis, words, out_size, mode=mode, fps=fps, options=options)
