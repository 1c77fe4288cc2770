"""The tracked crop's camera path: whom it aims at, frame by frame, and how it moves there.

The camera aims at the face of whoever the turns say is speaking (``Aim``), matched
per shot (``match_speakers``). It cuts straight to a new face only at a shot change or
at a turn; otherwise it keeps still while the face stays inside a dead zone and, when
it must move, eases in and out under a speed limit, so no frame jumps. The result is
simplified to keyframes (``CropKey``) that both engines evaluate with ``path_x``.
"""

from __future__ import annotations

import math

import numpy as np

from pipeline.clips.reframe_data import CropKey, ReframeOptions
from pipeline.clips.reframe_tracks import Aim, Track, speaker_at

# Within this many pixels of its aim, a moving camera has arrived and stops.
SETTLE_PX = 0.5


def camera_path(tracks: tuple[Track, ...], shots: list[tuple[float, float]], aims: list[Aim],
                matches: dict[int, dict[str, int]], seconds: float, fps: int, geometry: tuple[int, int],
                options: ReframeOptions) -> tuple[tuple[CropKey, ...], list[float]]:
    """(keyframes of the crop's left edge, seconds the camera holds a face from one turn cut to the next).

    ``geometry`` is (source width, crop width) in pixels. The holds leave out the clip's first and last
    stretch, which the cut points shorten.
    """
    width = geometry[0]
    targets, cuts, turn_cuts = aim_frames(tracks, shots, aims, matches, seconds, fps, geometry)
    positions = follow(targets, cuts, width, options)
    keys = keyframes(positions, cuts, fps, options.path_tolerance_px)
    bounds = sorted(turn_cuts)
    return keys, [(b - a) / fps for a, b in zip(bounds, bounds[1:])]


def aim_frames(tracks: tuple[Track, ...], shots: list[tuple[float, float]], aims: list[Aim],
               matches: dict[int, dict[str, int]], seconds: float, fps: int,
               geometry: tuple[int, int]) -> tuple[np.ndarray, frozenset[int], frozenset[int]]:
    """(the crop's wanted left edge per output frame, frames where it may cut, the cuts that follow a turn)."""
    width, crop_w = geometry
    by_index = {t.index: t for t in tracks}
    frames = max(1, math.ceil(seconds * fps - 1e-6))
    targets = np.empty(frames)
    cuts, turn_cuts = set(), set()
    shot, current = -1, None
    for k in range(frames):
        t = k / fps
        now = _shot_at(shots, t)
        if now != shot:
            shot, current = now, _opening_face(tracks, shots, aims, matches, now)
            if k:
                cuts.add(k)
        wanted = matches.get(shot, {}).get(speaker_at(aims, t))
        if wanted is not None and wanted != current:
            current = wanted
            if k and k not in cuts:
                cuts.add(k)
                turn_cuts.add(k)
        centre = by_index[current].x_at(t) if current is not None else width / 2
        targets[k] = min(max(centre - crop_w / 2, 0.0), width - crop_w)
    return targets, frozenset(cuts), frozenset(turn_cuts)


def _shot_at(shots: list[tuple[float, float]], t: float) -> int:
    return next((k for k, (_start, end) in enumerate(shots) if t < end), len(shots) - 1)


def _opening_face(tracks, shots, aims, matches, shot: int) -> int | None:
    """The face a shot opens on: the first speaker with a matched face in it, else the face seen most."""
    start, end = shots[shot]
    matched = matches.get(shot, {})
    speaking_at_start = speaker_at(aims, start)
    for aim in aims:
        if aim.start < end and aim.speaker in matched and (aim.start >= start or aim.speaker == speaking_at_start):
            return matched[aim.speaker]
    faces = sorted((t for t in tracks if t.shot == shot), key=lambda t: (-len(t.times), -t.size, t.x))
    return faces[0].index if faces else None


def follow(targets: np.ndarray, cuts: frozenset[int], width: int, options: ReframeOptions) -> np.ndarray:
    """The camera's left edge per frame: cuts at ``cuts``, elsewhere a dead zone, eased moves and a speed limit."""
    dead, top_speed, accel = options.dead_zone * width, options.max_speed * width, options.max_accel * width
    positions = np.empty(len(targets))
    x, speed, moving = float(targets[0]), 0.0, False
    for k, target in enumerate(targets):
        if k in cuts:
            x, speed, moving = float(target), 0.0, False
        else:
            error = float(target) - x
            moving = moving or abs(error) > dead
            if moving and abs(error) <= SETTLE_PX and abs(speed) <= accel:
                x, speed, moving = float(target), 0.0, False
            else:
                # The fastest speed that can still brake to a stop at the target: no overshoot.
                wanted = math.copysign(min(top_speed, math.sqrt(2 * accel * abs(error))), error) if moving else 0.0
                speed += min(max(wanted - speed, -accel), accel)
                x += speed
        positions[k] = x
    return positions


def keyframes(positions: np.ndarray, cuts: frozenset[int], fps: int, tolerance: float) -> tuple[CropKey, ...]:
    """Few keys whose straight lines stay within ``tolerance`` pixels of every frame; a jump key at each cut.

    A jump sits half a frame before the cut's frame, so neither engine's frame clock can land on the wrong side.
    """
    keys: list[CropKey] = []
    bounds = [0, *sorted(cuts), len(positions)]
    for start, end in zip(bounds, bounds[1:]):
        if start and abs(positions[start] - positions[start - 1]) >= 0.5:
            keys.append(CropKey(round((start - 0.5) / fps, 6), round(float(positions[start]), 3), jump=True))
        kept = _simplify(positions[start:end], tolerance)
        keys += [CropKey(round((start + i) / fps, 6), round(float(positions[start + i]), 3)) for i in kept]
    return tuple(_drop_flat(keys))


def _simplify(values: np.ndarray, tolerance: float) -> list[int]:
    """Ramer-Douglas-Peucker on (frame, x): the indices to keep, both ends included."""
    if len(values) <= 2:
        return list(range(len(values)))
    keep = {0, len(values) - 1}
    stack = [(0, len(values) - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        inner = np.arange(first + 1, last)
        line = values[first] + (values[last] - values[first]) * (inner - first) / (last - first)
        errors = np.abs(values[first + 1:last] - line)
        worst = int(np.argmax(errors))
        if errors[worst] > tolerance:
            split = first + 1 + worst
            keep.add(split)
            stack += [(first, split), (split, last)]
    return sorted(keep)


def _drop_flat(keys: list[CropKey]) -> list[CropKey]:
    """Leave out a key between two others at the same x: it adds nothing to the path."""
    out: list[CropKey] = []
    for k, key in enumerate(keys):
        following = keys[k + 1] if k + 1 < len(keys) else None
        if (out and following and not key.jump and not following.jump and out[-1].x == key.x == following.x):
            continue
        out.append(key)
    return out
