"""Reframed video clips, checked on the decoded frames of real renders.

The source is made by ``tests.helpers.faces``: two faces from a real photograph, 960x540,
taking turns (S1, S2, S1) with espeak-ng voices; the left face leans slowly to the right,
and at 6 s a shot change swaps the faces' sides in front of another backdrop. The test
knows where each face is and who speaks when, and reads back from the rendered clip who
is on screen (by skin colour) and where the crop was taken (by the stripes at the top).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.clips.jobs import RenderJob, run_job
from pipeline.clips.reframe import ReframeOptions, plan_for_clip
from pipeline.clips.reframe_data import crop_start
from pipeline.clips.spec import CaptionWord, ClipSpec
from tests.helpers.faces import crop_offset, decode_frames, make_scene, who_is_shown

pytestmark = pytest.mark.slow
TEXTS = [("S1", "Hello and welcome back to the garden show, today we dig deep."),
         ("S2", "Thanks for having me, I love talking about tomatoes and soil."),
         ("S1", "So tell me, what is the secret of a good harvest?")]
SMALL = (180, 320)  # decoded output frames: a sixth of 1080x1920
DRIFT = 30.0  # pixels a second the left face leans right
OPTIONS = ReframeOptions()


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return make_scene(tmp_path_factory.mktemp("faces") / "two.mp4", TEXTS, swap_at=6.0, drift=DRIFT)


def render(scene_or_path, folder: Path, *, start: float = 0.0, end: float | None = None, reframe: str = "auto",
           engine: str = "ffmpeg", words: tuple[CaptionWord, ...] | None = None, name: str = "clip"):
    source = getattr(scene_or_path, "path", scene_or_path)
    end = end if end is not None else scene_or_path.seconds
    words = words if words is not None else scene_or_path.words
    clip_words = tuple(replace(w, start=w.start - start, end=w.end - start)
                       for w in words if start <= w.start and w.end <= end)
    spec = ClipSpec(source, start, end, kind="video", words=clip_words)
    output = run_job(RenderJob(1, "video", "9:16", spec, folder / name, "key", engine=engine, reframe=reframe))
    assert output.error == ""
    video = next(f for f in output.files if f.format == "mp4")
    return spec, video.path, video.extra["reframe"]


def probe(path: Path) -> tuple[int, int, float]:
    data = json.loads(subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                                      "-show_format", str(path)], capture_output=True, check=True, text=True).stdout)
    video = next(s for s in data["streams"] if s["codec_type"] == "video")
    return video["width"], video["height"], float(data["format"]["duration"])


def faces_band(frame: np.ndarray) -> np.ndarray:
    """Where a tracked crop shows the face: below the stripes, above the captions."""
    height = frame.shape[0]
    return frame[int(0.28 * height):int(0.56 * height)]


@pytest.fixture(scope="module")
def tracked(scene, tmp_path_factory):
    spec, path, framing = render(scene, tmp_path_factory.mktemp("tracked"))
    return spec, path, framing, decode_frames(path, SMALL)


def test_the_tracked_crop_shows_whoever_is_speaking(scene, tracked):
    spec, path, framing, frames = tracked
    assert framing["layout"] == "tracked" and not framing["fallback"], framing
    assert framing["shots"] == 2 and framing["speakers"] == {"S1": 2, "S2": 2}
    checked = 0
    for speaker, start, end in scene.turns:
        for t in np.arange(start + 0.3, end - 0.2, 0.5):
            if abs(t - 6.0) < 0.2:
                continue
            frame = frames[int(round(t * 30))]
            assert who_is_shown(faces_band(frame)) == speaker, f"{t:.1f} s: expected {speaker} on screen"
            checked += 1
    assert checked >= 15


def test_the_rendered_crop_is_the_planned_path_and_keeps_the_face_near_the_middle(scene, tracked):
    spec, path, framing, frames = tracked
    plan = plan_for_clip(spec.source, spec.start, spec.seconds, spec.words, spec.size, mode="auto")
    crop_w = plan.crop[0]
    seen = np.array([crop_offset(frame, scene, k / 30, crop_w) for k, frame in enumerate(frames)])
    planned = np.array([crop_start(plan.x_at(k / 30), scene.size[0], crop_w) for k in range(len(frames))])
    assert np.abs(seen - planned).max() <= 3, "the clip's crop is where the plan put it"
    for k, offset in enumerate(seen):
        t = k / 30
        speaker = scene.speaker_at(t)
        if speaker and min(abs(t - c) for c in (4.1, 6.0, 8.4)) > 1.2:  # settled, away from cuts
            assert abs(scene.face_x(speaker, t) - (offset + crop_w / 2)) <= OPTIONS.dead_zone * scene.size[0] + 6


def test_the_camera_moves_smoothly_and_cuts_only_at_turns_and_the_shot_change(scene, tracked):
    spec, path, framing, frames = tracked
    crop_w = 304
    seen = np.array([crop_offset(frame, scene, k / 30, crop_w) for k, frame in enumerate(frames)])
    steps = np.abs(np.diff(seen))
    limit = OPTIONS.max_speed * scene.size[0] + 3  # pixels a frame, plus what reading the stripes misses
    jumps = [(k + 1) / 30 for k in np.flatnonzero(steps > limit)]
    s1_end, s2_start, s2_end, s1_again = scene.turns[0][2], scene.turns[1][1], scene.turns[1][2], scene.turns[2][1]
    allowed = [(s1_end, s2_start), (5.95, 6.05), (s2_end, s1_again)]
    assert jumps and all(any(a - 0.04 <= t <= b + 0.04 for a, b in allowed) for t in jumps), jumps
    assert len(jumps) == 3
    leaning = seen[int(0.6 * 30):int(3.6 * 30)]
    assert leaning[-1] - leaning[0] > 40, "the camera followed the face leaning right"


def test_both_faces_are_stacked_in_the_split_layout(scene, tmp_path):
    spec, path, framing = render(scene, tmp_path, reframe="split")
    assert framing["layout"] == "split" and framing["reason"] == "two faces stacked (reframe = split)"
    assert probe(path)[:2] == (1080, 1920)
    for t in (2.0, 10.0):  # one frame in each shot
        frame = decode_frames(path, SMALL, at=t)[0]
        height = frame.shape[0]
        top, bottom = frame[int(0.05 * height):int(0.4 * height)], frame[int(0.6 * height):int(0.95 * height)]
        assert (who_is_shown(top), who_is_shown(bottom)) == ("S1", "S2"), f"at {t} s"


def test_the_moviepy_engine_takes_the_same_crop_path(scene, tmp_path):
    clips = {engine: render(scene, tmp_path, start=2.3, end=5.8, engine=engine, name=engine)
             for engine in ("ffmpeg", "moviepy")}
    offsets = {}
    for engine, (spec, path, framing) in clips.items():
        assert framing["layout"] == "tracked"
        width, height, seconds = probe(path)
        assert (width, height) == (1080, 1920) and abs(seconds - spec.seconds) < 0.1, engine
        frames = decode_frames(path, SMALL)
        offsets[engine] = np.array([crop_offset(f, scene, 2.3 + k / 30, 304) for k, f in enumerate(frames)])
        assert who_is_shown(faces_band(frames[21])) == "S1" and who_is_shown(faces_band(frames[84])) == "S2", engine
    count = min(len(o) for o in offsets.values())
    assert abs(len(offsets["ffmpeg"]) - len(offsets["moviepy"])) <= 1
    assert np.abs(offsets["ffmpeg"][:count] - offsets["moviepy"][:count]).max() <= 3


# --- inputs that cannot be followed --------------------------------------------------------------

def test_a_video_without_faces_gets_a_blurred_fit_and_says_so(tmp_path):
    empty = make_scene(tmp_path / "empty.mp4", [("S1", "Nobody is on screen right now.")], faces=False)
    spec, path, framing = render(empty, tmp_path)
    assert (framing["layout"], framing["reason"], framing["fallback"]) == ("fit", "no face found: blurred fit", True)
    width, height, seconds = probe(path)
    assert (width, height) == (1080, 1920) and abs(seconds - spec.seconds) < 0.1


def test_faces_too_small_to_follow_are_named(tmp_path):
    far = make_scene(tmp_path / "far.mp4", [("S1", "We are far away."), ("S2", "Very far.")], face_share=0.07)
    plan = plan_for_clip(far.path, 0.0, far.seconds, far.words, (1080, 1920), mode="auto")
    assert plan.layout == "fit" and plan.fallback
    assert plan.reason == "faces too small (the largest is 7% of the picture's height, 8% needed): blurred fit"


def test_a_portrait_source_is_not_reframed(tmp_path):
    tall = make_scene(tmp_path / "tall.mp4", [("S1", "Filmed on a phone.")], size=(540, 960), face_share=0.1)
    spec, path, framing = render(tall, tmp_path)
    assert (framing["layout"], framing["reason"]) == ("centre", "portrait source: not reframed")
    width, height, seconds = probe(path)
    assert (width, height) == (1080, 1920) and abs(seconds - spec.seconds) < 0.1


def test_one_speaker_is_followed_to_the_face_that_talks(tmp_path):
    solo = make_scene(tmp_path / "solo.mp4", [("S2", "Only the second guest talks in this clip, at some length.")])
    plan = plan_for_clip(solo.path, 0.0, solo.seconds, solo.words, (1080, 1920), mode="auto")
    assert plan.layout == "tracked", plan.reason
    assert abs(plan.x_at(1.5) + plan.crop[0] / 2 - solo.face_x("S2", 1.5)) <= OPTIONS.dead_zone * 960


def test_ten_speaker_labels_get_a_clear_choice(scene):
    words = tuple(replace(w, speaker=f"S{k // 3 % 10 + 1}") for k, w in enumerate(scene.words))
    plan = plan_for_clip(scene.path, 0.0, scene.seconds, words, (1080, 1920), mode="auto")
    assert plan.layout in ("tracked", "split", "fit") and plan.reason
    assert sum(plan.speakers.values()) <= 2 * plan.shots, "two faces a shot: at most two speakers matched in each"


def test_a_clip_shorter_than_one_turn_renders(scene, tmp_path):
    spec, path, framing = render(scene, tmp_path, start=1.0, end=2.2)
    assert framing["layout"] in ("tracked", "split", "fit", "centre") and framing["reason"]
    width, height, seconds = probe(path)
    assert (width, height) == (1080, 1920) and abs(seconds - 1.2) < 0.1
