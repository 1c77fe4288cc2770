"""Windowed decoding: where long audio is cut, and how times are put back together."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.transcribe.base import SAMPLE_RATE, Segment, TranscribeOptions, Word
from pipeline.transcribe.stretches import Hearing
from pipeline.transcribe.bounds import window_bounds
from pipeline.transcribe.stretches import REFINE_SECONDS
from pipeline.transcribe.windows import transcribe_in_windows


def _speechy(seconds: float, gaps: list[float], seed: int = 0) -> np.ndarray:
    """Noise bursts ("speech") with 0.5 s of silence starting at each gap second."""
    rng = np.random.default_rng(seed)
    audio = (rng.standard_normal(int(seconds * SAMPLE_RATE)) * 0.2).astype(np.float32)
    for gap in gaps:
        audio[int(gap * SAMPLE_RATE) : int((gap + 0.5) * SAMPLE_RATE)] = 0.0
    return audio


def test_short_audio_is_one_window():
    audio = _speechy(30, [])
    assert window_bounds(audio, 60) == [(0, audio.size)]


def test_cuts_fall_in_the_silence_near_each_boundary():
    # 250 s in 60 s windows: six windows of ~41.7 s, each cut searched within 7.5 s of its nominal place.
    audio = _speechy(250, gaps=[40.0, 85.0, 120.0, 170.0, 210.0])
    bounds = window_bounds(audio, 60)
    cuts = [end / SAMPLE_RATE for _, end in bounds[:-1]]
    assert [round(c) for c in cuts] == [40, 85, 120, 170, 210]
    assert all(audio[int(c * SAMPLE_RATE)] == 0.0 for c in cuts)


@settings(max_examples=40, deadline=None)
@given(seconds=st.floats(1, 400), window=st.floats(20, 120))
def test_windows_tile_the_audio_without_gaps_or_overlap(seconds, window):
    audio = _speechy(seconds, [])
    bounds = window_bounds(audio, window)
    assert bounds[0][0] == 0 and bounds[-1][1] == audio.size
    assert all(a_end == b_start for (_, a_end), (b_start, _) in zip(bounds, bounds[1:]))
    assert all(0 < end - start <= window * SAMPLE_RATE for start, end in bounds)
    if len(bounds) > 1:  # near-equal lengths: no sliver of a last window
        lengths = [end - start for start, end in bounds]
        assert min(lengths) >= max(lengths) / 3


def test_segments_are_shifted_back_to_original_time():
    audio = _speechy(130, gaps=[45.0, 85.0])  # three windows of ~43 s
    calls = []

    def decode(window_audio, options):
        calls.append((window_audio.size / SAMPLE_RATE, options.language))
        n = len(calls)
        return "en", [Segment(1.0, 2.0, f" window {n}", (Word(f" window{n}", 1.0, 2.0, 0.9),))]

    segments = transcribe_in_windows(audio, TranscribeOptions(model="base", vad=False), decode, window_seconds=60)
    assert [s.language for s in segments] == ["en"] * 3
    assert [c[1] for c in calls] == [None, "en", "en"]  # no detector: the decoder detects once, then it is fixed
    starts = [s.start for s in segments]
    assert starts[0] == pytest.approx(1.0)
    assert starts[1] == pytest.approx(1.0 + 45.25, abs=0.05)
    assert starts[2] == pytest.approx(1.0 + 85.25, abs=0.05)
    assert [s.words[0].start for s in segments] == starts


def test_no_speech_means_no_decoding():
    silent = np.zeros(5 * SAMPLE_RATE, np.float32)
    called = []
    segments = transcribe_in_windows(
        silent, TranscribeOptions(vad=True), lambda *a: called.append(a) or ("en", [])
    )
    assert segments == [] and called == []


def test_each_stretch_is_decoded_in_the_language_heard_there():
    audio = _speechy(130, gaps=[45.0, 85.0])
    heard = []

    def detect(window):  # from the third window on the speech is "French"; the shorter pieces heard
        heard.append(window.size)  # around the switch are English, which moves it into the third window
        french = len(heard) > 2 and window.size > REFINE_SECONDS * SAMPLE_RATE
        return [("fr", 0.9), ("en", 0.1)] if french else [("en", 0.95), ("fr", 0.05)]

    calls = []

    def decode(window_audio, options):
        calls.append(options.language)
        return options.language, [Segment(1.0, 2.0, " text", (Word(" text", 1.0, 2.0, 0.9),))]

    segments = transcribe_in_windows(audio, TranscribeOptions(model="base", vad=False), decode,
                                     window_seconds=600, hearing=Hearing(detect, score=None))
    assert len(heard) >= 5 and max(heard) <= 29 * SAMPLE_RATE  # every window fits the model's context
    assert calls == ["en", "fr"]  # two stretches, each decoded once in its own language
    assert [s.language for s in segments] == ["en", "fr"]
    third = sum(heard[:2]) / SAMPLE_RATE, sum(heard[:3]) / SAMPLE_RATE
    assert third[0] + 1.0 < segments[1].start < third[1] + 1.0


def test_a_fixed_language_or_an_english_model_is_not_detected():
    audio = _speechy(70, gaps=[35.0])
    asked = []
    for options in (TranscribeOptions(model="base", language="id", vad=False), TranscribeOptions(model="tiny.en", vad=False)):
        transcribe_in_windows(audio, options, lambda a, o: (o.language, []), hearing=Hearing(lambda w: asked.append(w) or [], None))
    assert asked == []
