"""The reframing planner on detections made up by hand: no video, no detector.

A made-up clip is 1920x1080 with faces at fixed (or drifting) places, sampled twice a
second; the face of whoever is talking moves its mouth (activity 0.1), the others
hardly (0.002). The plans are checked for their layout and reason, the crop path for its
dead zone, speed and easing limits, and for cutting only at turns and shot changes.
"""

from __future__ import annotations

import pytest

from pipeline.clips.reframe import FramePlan, plan_reframe
from pipeline.clips.reframe_data import (CropKey, Face, FaceSample, ReframeOptions, VideoAnalysis, crop_start,
                                         path_x)
from pipeline.clips.reframe_tracks import speaker_turns, turn_cut
from pipeline.clips.render_ffmpeg import crop_expression
from pipeline.clips.spec import CaptionWord, ClipSpec
from pipeline.core.errors import ConfigError

WIDTH, HEIGHT, FPS = 1920, 1080, 30
TALL = (1080, 1920)
OPTIONS = ReframeOptions()


def spoken(turns: list[tuple[str, float, float]], step: float = 0.4) -> tuple[CaptionWord, ...]:
    """Words of ``step`` seconds with short pauses, through each (speaker, start, end) turn."""
    words = []
    for speaker, start, end in turns:
        t = start
        while t + step <= end + 1e-9:
            words.append(CaptionWord("word", round(t, 3), round(t + step - 0.05, 3), speaker))
            t += step
    return tuple(words)


def made_up(seconds: float, turns: list[tuple[str, float, float]], places: list[dict[str, float]], *,
            cuts: tuple[float, ...] = (), size: float = 240, drift: dict[str, float] | None = None,
            active: float = 0.1, still: float = 0.002, rate: float = 2.0, height: int = HEIGHT,
            width: int = WIDTH) -> VideoAnalysis:
    """``places[shot]`` = {speaker: face centre x}; ``drift`` = {speaker: pixels a second}."""
    samples = []
    for k in range(int(seconds * rate) + 1):
        t = round(k / rate, 6)
        if t >= seconds:
            break
        shot = sum(1 for c in cuts if c <= t)
        talking = next((s for s, a, b in turns if a <= t <= b), "")
        faces = tuple(Face(x + (drift or {}).get(who, 0.0) * t, height * 0.45, size,
                           0.0 if k == 0 else (active if who == talking else still))
                      for who, x in sorted(places[shot].items()))
        samples.append(FaceSample(t, faces))
    return VideoAnalysis(width, height, seconds, tuple(samples), cuts)


def frames(plan: FramePlan, seconds: float) -> list[float]:
    return [path_x(plan.path, k / FPS) for k in range(int(seconds * FPS))]


TWO_TURNS = [("S1", 0.5, 5.0), ("S2", 5.6, 10.5)]
SIDE_BY_SIDE = [{"S1": 500.0, "S2": 1400.0}]


def test_the_crop_follows_each_speaker_and_cuts_between_their_words():
    analysis = made_up(11.0, TWO_TURNS, SIDE_BY_SIDE)
    words = spoken(TWO_TURNS)
    plan = plan_reframe(analysis, words, TALL, fps=FPS)
    assert plan.layout == "tracked" and not plan.fallback, plan.reason
    assert plan.crop == (608, 1080)
    crop_w = plan.crop[0]
    assert path_x(plan.path, 2.0) + crop_w / 2 == pytest.approx(500, abs=2)
    assert path_x(plan.path, 8.0) + crop_w / 2 == pytest.approx(1400, abs=2)
    jumps = [k for k in plan.path if k.jump]
    assert len(jumps) == 1
    last_s1 = max(w.end for w in words if w.speaker == "S1")
    first_s2 = min(w.start for w in words if w.speaker == "S2")
    assert last_s1 <= jumps[0].t <= first_s2, "the cut falls in the pause between the two speakers"
    assert plan.speakers == {"S1": 1, "S2": 1}


def test_the_camera_keeps_still_inside_the_dead_zone():
    drift = OPTIONS.dead_zone * WIDTH * 0.8 / 10  # 80 % of the dead zone over the clip
    analysis = made_up(10.0, [("S1", 0.5, 9.5)], [{"S1": 600.0}], drift={"S1": drift})
    plan = plan_reframe(analysis, spoken([("S1", 0.5, 9.5)]), TALL, fps=FPS)
    assert plan.layout == "tracked"
    assert len({round(x, 6) for x in frames(plan, 10.0)}) == 1


def test_a_moving_face_is_followed_smoothly_within_the_speed_and_easing_limits():
    drift = 90.0  # pixels a second: out of the dead zone within a second
    analysis = made_up(12.0, [("S1", 0.2, 11.8)], [{"S1": 500.0}], drift={"S1": drift})
    plan = plan_reframe(analysis, spoken([("S1", 0.2, 11.8)]), TALL, fps=FPS)
    xs = frames(plan, 12.0)
    steps = [b - a for a, b in zip(xs, xs[1:])]
    tolerance = 2 * OPTIONS.path_tolerance_px  # keyframes may leave out up to the tolerance either side
    assert max(abs(s) for s in steps) <= OPTIONS.max_speed * WIDTH + tolerance
    assert not any(k.jump for k in plan.path), "one speaker in one shot: no cut"
    assert xs[-1] > xs[0] + 500, "the camera went along"
    centre = xs[-1] + plan.crop[0] / 2
    assert abs(centre - (500 + drift * 11.9)) <= OPTIONS.dead_zone * WIDTH + 5


def test_a_face_that_moves_fast_is_not_jumped_to_inside_a_turn():
    analysis = made_up(8.0, [("S1", 0.2, 7.8)], [{"S1": 400.0}], drift={"S1": 200.0})
    plan = plan_reframe(analysis, spoken([("S1", 0.2, 7.8)]), TALL, fps=FPS)
    xs = frames(plan, 8.0)
    speeds = [b - a for a, b in zip(xs, xs[1:])]
    assert max(abs(s) for s in speeds) <= OPTIONS.max_speed * WIDTH + 1.5
    accelerations = [b - a for a, b in zip(speeds, speeds[1:])]
    assert max(abs(a) for a in accelerations) <= OPTIONS.max_accel * WIDTH + 1.5  # eased, not a jolt


def test_cuts_only_at_turns_and_shot_changes_and_never_inside_a_word():
    turns = [("S1", 0.4, 4.0), ("S2", 4.6, 9.0), ("S1", 9.5, 14.0)]
    places = [{"S1": 450.0, "S2": 1450.0}, {"S2": 450.0, "S1": 1450.0}]
    analysis = made_up(14.5, turns, places, cuts=(7.016667,))
    words = spoken(turns)
    plan = plan_reframe(analysis, words, TALL, fps=FPS)
    assert plan.layout == "tracked", plan.reason
    turn_cuts = [turn_cut(4.0, 4.6), turn_cut(9.0, 9.5)]
    allowed = [*turn_cuts, 7.016667]
    jumps = [key.t for key in plan.path if key.jump]
    assert len(jumps) == 3
    for t in jumps:
        assert any(abs(t - c) <= 1 / FPS for c in allowed), t
        if abs(t - 7.016667) > 1e-6:  # the editor's shot change may fall anywhere; a turn cut falls between words
            assert not any(w.start < t < w.end for w in words), f"cut inside a word at {t}"
    # The shot change swaps the faces: S2 is now on the left, and the crop is there at once.
    assert path_x(plan.path, 7.5) + plan.crop[0] / 2 == pytest.approx(450, abs=2)
    assert path_x(plan.path, 12.0) + plan.crop[0] / 2 == pytest.approx(1450, abs=2)


def test_a_short_interjection_does_not_cut_away():
    turns = [("S1", 0.4, 5.0), ("S2", 5.3, 5.8), ("S1", 6.1, 10.0)]
    plan = plan_reframe(made_up(10.5, turns, SIDE_BY_SIDE), spoken(turns), TALL, fps=FPS)
    assert plan.layout == "tracked"
    assert not any(k.jump for k in plan.path)


def test_the_same_detections_give_the_same_plan_whatever_their_order():
    turns = [("S1", 0.4, 4.0), ("S2", 4.6, 9.0)]
    analysis = made_up(9.5, turns, SIDE_BY_SIDE, drift={"S2": 40.0})
    shuffled = VideoAnalysis(analysis.width, analysis.height, analysis.seconds,
                             tuple(FaceSample(s.t, s.faces[::-1]) for s in analysis.samples), analysis.cuts)
    plans = [plan_reframe(a, spoken(turns), TALL, fps=FPS) for a in (analysis, analysis, shuffled)]
    assert plans[0] == plans[1] == plans[2]
    assert plans[0].summary() == plans[2].summary()


def test_the_ffmpeg_expression_is_the_same_path():
    plan = plan_reframe(made_up(12.0, [("S1", 0.2, 11.8)], [{"S1": 500.0}], drift={"S1": 90.0}),
                        spoken([("S1", 0.2, 11.8)]), TALL, fps=FPS)
    keys = (*plan.path, CropKey(12.5, 40.0, jump=True))
    expression = crop_expression(keys)
    assert "if(" not in expression  # a flat sum, however many keys
    evaluate = lambda t: eval(expression, {"gte": lambda a, b: float(a >= b),  # noqa: E731
                                           "clip": lambda v, lo, hi: min(max(v, lo), hi), "t": t})
    for k in range(0, 13 * FPS, 7):
        assert evaluate(k / FPS) == pytest.approx(path_x(keys, k / FPS), abs=0.01)


def test_the_crop_column_matches_ffmpegs_rounding():
    assert crop_start(101.4, 1920, 608) == 100  # rounded, then even for yuv420p
    assert crop_start(-30, 1920, 608) == 0
    assert crop_start(5000, 1920, 608) == 1312


# --- layouts and fallbacks -------------------------------------------------------------------------

def test_when_no_face_speaks_visibly_two_faces_are_stacked():
    analysis = made_up(10.0, TWO_TURNS, SIDE_BY_SIDE, active=0.01, still=0.01)
    plan = plan_reframe(analysis, spoken(TWO_TURNS), TALL, fps=FPS)
    assert plan.layout == "split" and plan.fallback
    assert plan.reason.startswith("could not tell which face is speaking") and plan.reason.endswith(": split")
    (shot,) = plan.split
    w, h = plan.crop
    assert w % 2 == 0 and h % 2 == 0 and w / h == pytest.approx(1080 / 960, abs=0.02)
    assert shot.top[0] < 500 < shot.top[0] + w and shot.bottom[0] < 1400 < shot.bottom[0] + w
    for left, top in (shot.top, shot.bottom):
        assert 0 <= left <= WIDTH - w and 0 <= top <= HEIGHT - h


def test_split_keeps_each_speaker_in_their_half_across_shots():
    turns = [("S1", 0.4, 4.0), ("S2", 4.6, 9.0), ("S1", 9.5, 13.5), ("S2", 13.8, 17.0)]
    places = [{"S1": 450.0, "S2": 1450.0}, {"S2": 450.0, "S1": 1450.0}]
    plan = plan_reframe(made_up(17.5, turns, places, cuts=(8.0,)), spoken(turns), TALL, mode="split", fps=FPS)
    assert plan.layout == "split" and not plan.fallback
    first, second = plan.split
    w = plan.crop[0]
    assert first.top[0] < 450 < first.top[0] + w, "S1 on top in the first shot"
    assert second.top[0] < 1450 < second.top[0] + w, "and still on top after the faces swapped sides"
    assert second.start == 8.0


def test_split_mode_with_one_face_falls_back_and_says_why():
    plan = plan_reframe(made_up(6.0, [("S1", 0.3, 5.5)], [{"S1": 900.0}]), spoken([("S1", 0.3, 5.5)]), TALL,
                        mode="split", fps=FPS)
    assert plan.layout == "tracked" and plan.fallback
    assert plan.reason.startswith("split needs two faces in every shot (shot 1 has 1)")


def test_turns_too_quick_for_a_crop_stack_the_faces():
    turns, t = [], 0.3
    for k in range(10):
        turns.append(("S1" if k % 2 == 0 else "S2", round(t, 2), round(t + 1.2, 2)))
        t += 1.5
    plan = plan_reframe(made_up(15.5, turns, SIDE_BY_SIDE), spoken(turns), TALL, fps=FPS)
    assert plan.layout == "split" and "too quick for a moving crop" in plan.reason


def test_no_face_gives_a_blurred_fit_and_says_so():
    analysis = made_up(5.0, TWO_TURNS, [{}])
    plan = plan_reframe(analysis, spoken(TWO_TURNS), TALL, fps=FPS)
    assert (plan.layout, plan.reason, plan.fallback) == ("fit", "no face found: blurred fit", True)


def test_faces_too_small_to_follow_give_a_blurred_fit_and_say_how_small():
    plan = plan_reframe(made_up(10.0, TWO_TURNS, SIDE_BY_SIDE, size=60), spoken(TWO_TURNS), TALL, fps=FPS)
    assert plan.layout == "fit"
    assert plan.reason == "faces too small (the largest is 5% of the picture's height, 8% needed): blurred fit"


def test_a_portrait_source_is_not_reframed():
    analysis = made_up(4.0, [("S1", 0.2, 3.8)], [{"S1": 540.0}], width=1080, height=1920)
    plan = plan_reframe(analysis, spoken([("S1", 0.2, 3.8)]), TALL, fps=FPS)
    assert (plan.layout, plan.reason) == ("centre", "portrait source: not reframed")
    wide = plan_reframe(made_up(4.0, [], [{"S1": 900.0}]), (), (1920, 1080), fps=FPS)
    assert (wide.layout, wide.reason) == ("centre", "the source is no wider than the clip: not reframed")


def test_a_clip_too_short_to_sample_is_centre_cropped():
    plan = plan_reframe(VideoAnalysis(WIDTH, HEIGHT, 0.2), (), TALL, fps=FPS)
    assert (plan.layout, plan.reason) == ("centre", "clip too short to look for faces: centre crop")


def test_one_speaker_between_two_faces_gets_the_one_that_talks():
    turns = [("S1", 0.3, 9.5)]
    plan = plan_reframe(made_up(10.0, turns, [{"S1": 1400.0, "S2": 500.0}]), spoken(turns), TALL, fps=FPS)
    assert plan.layout == "tracked"
    assert path_x(plan.path, 5.0) + plan.crop[0] / 2 == pytest.approx(1400, abs=2)


def test_words_without_speakers_follow_the_face_that_talks():
    turns = [("", 0.3, 9.5)]
    plan = plan_reframe(made_up(10.0, turns, [{"": 1400.0, "S2": 500.0}]), spoken(turns), TALL, fps=FPS)
    assert plan.layout == "tracked" and plan.speakers == {"?": 1}


def test_ten_speaker_labels_on_two_faces_still_get_a_layout_and_a_reason():
    turns = [(f"S{k + 1}", 0.3 + k * 1.6, 0.3 + k * 1.6 + 1.3) for k in range(10)]
    places = [{"S1": 500.0, "S2": 1400.0}]
    plan = plan_reframe(made_up(16.5, turns, places), spoken(turns), TALL, fps=FPS)
    assert plan.layout in ("tracked", "split", "fit") and plan.reason
    assert set(plan.speakers) <= {f"S{k + 1}" for k in range(10)}
    assert len(plan.speakers) <= 2, "two faces: at most two speakers matched"


def test_centre_and_fit_modes_do_not_look_at_faces():
    analysis = made_up(6.0, TWO_TURNS, SIDE_BY_SIDE)
    assert plan_reframe(analysis, (), TALL, mode="centre").layout == "centre"
    assert plan_reframe(analysis, (), TALL, mode="fit").reason == "whole picture on a blurred copy (reframe = fit)"
    with pytest.raises(ConfigError, match="unknown reframe mode 'zoom'"):
        plan_reframe(analysis, (), TALL, mode="zoom")


def test_turns_come_from_the_words_speakers():
    words = (CaptionWord("a", 0.0, 0.3, "S1"), CaptionWord("b", 0.4, 0.7, ""), CaptionWord("c", 0.8, 1.0, "S2"),
             CaptionWord("d", 1.1, 1.3, "S2"))
    assert [(t.speaker, t.start, t.end) for t in speaker_turns(words)] == [("S1", 0.0, 0.7), ("S2", 0.8, 1.3)]
    assert [t.speaker for t in speaker_turns(words[1:2])] == [""]


@pytest.mark.parametrize("change, message", [
    ({"sample_fps": 0.1}, "sample_fps"),
    ({"min_face_share": 0.03}, "the smallest face the detector finds"),
    ({"max_speed": 0.001, "max_accel": 0.002}, "max_accel <= max_speed"),
    ({"dead_zone": 0.6}, "dead_zone"),
])
def test_options_are_cross_checked(change, message):
    with pytest.raises(ConfigError, match=message):
        ReframeOptions(**change)


def test_a_long_crop_path_reaches_ffmpeg_through_a_file(tmp_path, monkeypatch):
    from pipeline.clips import render_ffmpeg

    keys = tuple(CropKey(k / 30, 100.0 + (k % 7), jump=k % 2 == 1) for k in range(4000))  # a ~250 kB expression
    plan = FramePlan("tracked", "test", crop=(608, 1080), path=keys)
    seen = {}

    def fake_run(cmd, partial, source):
        seen["cmd"] = cmd
        script = cmd[cmd.index("-filter_complex_script") + 1]
        seen["graph"] = open(script, encoding="utf-8").read()
        partial.write_bytes(b"")

    monkeypatch.setattr(render_ffmpeg, "_run", fake_run)
    spec = ClipSpec(tmp_path / "source.mp4", 0.0, 4.0, kind="video")
    render_ffmpeg.render(spec, tmp_path / "out.mp4", None, frame=plan)
    assert "-filter_complex" not in seen["cmd"] and crop_expression(keys) in seen["graph"]
    assert max(len(part) for part in seen["cmd"]) < render_ffmpeg.INLINE_GRAPH_CHARS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"], "the graph file is removed"


def test_ffmpeg_accepts_the_expression_of_a_path_with_thousands_of_keys():
    """ffmpeg refuses an expression tree deeper than about 100: the sum is nested in halves."""
    import subprocess

    keys = tuple(CropKey(k / 30, 100.0 + 3 * (k % 50), jump=k % 2 == 1) for k in range(3000))
    crop = f"crop=64:120:x='{crop_expression(keys)}':y=0"
    result = subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x120:rate=30:duration=1",
                             "-vf", crop, "-f", "null", "-"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
