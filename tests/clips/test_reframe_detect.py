"""The detector's parts on pictures made in memory: shot changes, faces, mouth movement."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.clips.reframe_data import ReframeOptions
from pipeline.clips.reframe_detect import detect_faces, mouth_movement, shot_cuts
from tests.helpers.faces import astronaut_patch

OPTIONS = ReframeOptions()


def thumbs(*backgrounds: int, frames_each: int = 30) -> np.ndarray:
    rng = np.random.default_rng(0)
    stills = [np.clip(rng.normal(level, 20, (36, 64)), 0, 255) for level in backgrounds]
    return np.array([s for s in stills for _ in range(frames_each)], dtype=np.uint8)


def test_a_cut_is_found_at_its_frame_and_a_pan_is_not_a_cut():
    cuts = shot_cuts(thumbs(60, 180, 90), 30, OPTIONS)
    assert cuts == pytest.approx((29.5 / 30, 59.5 / 30))
    texture = np.random.default_rng(1).uniform(0, 255, (36, 400))
    pan = np.array([texture[:, k:k + 64] for k in range(0, 300, 2)], dtype=np.uint8)  # 2 px a frame
    assert shot_cuts(pan, 30, OPTIONS) == ()


def test_changes_closer_than_the_shortest_shot_are_one_cut():
    flashes = thumbs(60, 200, 60, frames_each=5)  # 5 frames each: 0.17 s apart
    assert shot_cuts(flashes, 30, OPTIONS) == pytest.approx((4.5 / 30,))


def grey_frame(face_at: tuple[int, int] = (60, 80), size: int = 80) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    patch = astronaut_patch(size, recoloured=False).mean(axis=2).astype(np.uint8)
    frame = np.full((360, 640), 90, dtype=np.uint8)
    top, left = face_at
    frame[top:top + patch.shape[0], left:left + patch.shape[1]] = patch
    return frame, (left, top)


def test_the_astronauts_face_is_found_where_it_is():
    frame, (left, top) = grey_frame()
    (x, y, w, h), = detect_faces(frame)
    # The face sits in the patch where it does in the photograph: 47 px across and 46 down, scaled by 80/95.
    assert abs(x - (left + 40)) < 12 and abs(y - (top + 39)) < 12 and 65 < h < 100
    assert detect_faces(np.full((360, 640), 90, dtype=np.uint8)) == []


def test_mouth_movement_ignores_a_head_that_moves_and_sees_a_mouth_that_does():
    before, _ = grey_frame((60, 80))
    after, _ = grey_frame((63, 84))  # the whole head moved 3 px down and 4 px right
    box = detect_faces(after)[0]
    assert mouth_movement(after, before, box) < 0.01
    x, y, w, h = box
    talking = after.copy()
    talking[y + int(0.75 * h):y + int(0.85 * h), x + int(0.35 * w):x + int(0.65 * w)] = 20  # an open mouth
    assert mouth_movement(talking, before, box) > 0.05
