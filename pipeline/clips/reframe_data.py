"""The plain data of reframing: its options, what the face detector saw, and crop keyframes.

Everything here is frozen and free of pixels, so the planners (``reframe_tracks``,
``reframe_path``, ``reframe``) are plain functions that tests feed by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.core.errors import ConfigError

# The Haar cascades' smallest window (reframe_detect.py): faces below it are never found.
MIN_DETECTABLE_PX = 20


@dataclass(frozen=True)
class ReframeOptions:
    # Frames a second searched for faces; shot changes are looked for in every frame.
    sample_fps: float = 2.0
    # Sampled frames are scaled to this height (pixels) before face detection.
    analysis_height: int = 360
    # The smallest face worth following, as a share of the picture's height; smaller ones count as none.
    min_face_share: float = 0.08
    # A shot change: the mean grey-level change (0-1) between two frames less the change just before it
    # (like ffmpeg's scene score), on 64x36 thumbnails.
    cut_threshold: float = 0.1
    # A change closer than this to the previous shot change is not a new shot (a flash, a dissolve).
    min_shot_seconds: float = 0.5
    # A face must be found in at least this share of its shot's sampled frames (stray detections drop out).
    min_track_share: float = 0.3
    # While a speaker talks, the face matched to them moves its mouth at least this many times the
    # shot's average face (1.3 with two faces: 65 % of the mouth movement).
    min_activity_lead: float = 1.3
    # The camera stays put while its aim is within this share of the source width.
    dead_zone: float = 0.04
    # The most the camera moves in one output frame, as a share of the source width (cuts aside).
    max_speed: float = 0.006
    # The most the camera's speed changes in one output frame (easing in and out), share of the width.
    max_accel: float = 0.0006
    # A turn shorter than this does not move the camera: a quick "yeah" does not cut away.
    min_turn_seconds: float = 1.0
    # Auto mode stacks the two faces (split) instead when the camera would hold a face for less than
    # this between cuts (the median).
    min_hold_seconds: float = 2.0
    # In the split layout, a face's height as a share of its half's height.
    split_face_share: float = 0.4
    # The crop path keeps a keyframe wherever leaving it out would move the crop by more than this (pixels).
    path_tolerance_px: float = 0.75

    def __post_init__(self) -> None:
        checks = [
            (0.25 <= self.sample_fps <= 10, "sample_fps must be between 0.25 and 10"),
            (120 <= self.analysis_height <= 1080, "analysis_height must be between 120 and 1080 pixels"),
            (0.02 <= self.min_face_share <= 0.5, "min_face_share must be between 0.02 and 0.5"),
            (self.min_face_share * self.analysis_height >= MIN_DETECTABLE_PX,
             f"min_face_share x analysis_height must be at least {MIN_DETECTABLE_PX} pixels (the smallest face "
             "the detector finds), or too small a face would read as no face"),
            (0 < self.cut_threshold < 1, "cut_threshold must be between 0 and 1"),
            (self.min_shot_seconds >= 0, "min_shot_seconds must not be negative"),
            (0 < self.min_track_share <= 1, "min_track_share must be in (0, 1]"),
            (self.min_activity_lead >= 1, "min_activity_lead must be at least 1"),
            (0 <= self.dead_zone < 0.5, "dead_zone must be in [0, 0.5)"),
            (0 < self.max_accel <= self.max_speed <= 0.1, "need 0 < max_accel <= max_speed <= 0.1"),
            (self.min_turn_seconds >= 0 and self.min_hold_seconds >= 0, "turn and hold times must not be negative"),
            (0.1 <= self.split_face_share <= 0.9, "split_face_share must be between 0.1 and 0.9"),
            (self.path_tolerance_px > 0, "path_tolerance_px must be positive"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"reframe options: {message}")


@dataclass(frozen=True)
class Face:
    x: float  # centre, source pixels
    y: float
    size: float  # height of the detected box, source pixels
    activity: float = 0.0  # mouth-region change since the previous sampled frame (grey level 0-1); 0 at a shot's start


@dataclass(frozen=True)
class FaceSample:
    t: float  # seconds from the start of the clip
    faces: tuple[Face, ...] = ()


@dataclass(frozen=True)
class VideoAnalysis:
    """What the detector saw in a clip: the picture's size, faces in sampled frames, shot changes."""

    width: int  # the source picture as displayed, pixels
    height: int
    seconds: float
    samples: tuple[FaceSample, ...] = ()
    cuts: tuple[float, ...] = ()  # where a new shot starts, seconds from the start (between two frames)

    def shots(self) -> list[tuple[float, float]]:
        bounds = [0.0, *self.cuts, self.seconds]
        return list(zip(bounds, bounds[1:]))

    def shot_of(self, t: float) -> int:
        return sum(1 for cut in self.cuts if cut <= t)


@dataclass(frozen=True)
class CropKey:
    """A keyframe of the crop's left edge. Between two keys the edge moves linearly, unless the later one is a jump."""

    t: float  # seconds from the start of the clip
    x: float  # left edge of the crop window, source pixels
    jump: bool = False  # True: hold the previous key's x until t, then cut to this x


def path_x(keys: tuple[CropKey, ...], t: float) -> float:
    """The crop's left edge at ``t``: the sum form that ``render_ffmpeg`` writes as an ffmpeg expression."""
    if not keys:
        return 0.0
    x = keys[0].x
    for before, key in zip(keys, keys[1:]):
        if key.jump:
            x += (key.x - before.x) * (t >= key.t)
        else:
            x += (key.x - before.x) * min(max((t - before.t) / (key.t - before.t), 0.0), 1.0)
    return x


def crop_start(position: float, extent: int, window: int) -> int:
    """Where ffmpeg's crop filter starts a ``window`` asked for at ``position`` along ``extent`` pixels:
    rounded, kept inside, even (yuv420p)."""
    start = min(max(int(round(position)), 0), extent - window)  # round() takes halves to even, like lrint
    return start & ~1


def even(value: float, *, down: bool = False) -> int:
    """``value`` in pixels made even, as yuv420p needs: a size (at least 2), or with ``down`` an offset (floored)."""
    if down:
        return max(0, math.floor(value) & ~1)
    return max(2, int(round(value)) & ~1)
