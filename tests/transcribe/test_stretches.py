"""Which language a window of speech is heard in, and how windows become stretches."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.transcribe.base import SAMPLE_RATE, TranscribeOptions
from pipeline.transcribe.stretches import REFINE_SECONDS, Hearing, plan_stretches, window_language
from pipeline.transcribe.vad import all_audio
from pipeline.transcribe.bounds import window_bounds


def hearing(ranked, scores=None, tried=None):
    def score(window, language):
        if tried is not None:
            tried.append(language)
        return scores[language]
    return Hearing(rank=lambda window: ranked, score=score)


WINDOW = np.zeros(SAMPLE_RATE, np.float32)


def test_without_the_shows_languages_the_detector_decides_and_nothing_is_decoded_twice():
    tried = []
    assert window_language(WINDOW, (), hearing([("fr", 0.9), ("en", 0.1)], tried=tried)) == ("fr", 0.9)
    assert tried == []


def test_a_sure_profile_language_needs_no_contest():
    tried = []
    assert window_language(WINDOW, ("en", "id"), hearing([("id", 0.7), ("ms", 0.2)], tried=tried)) == ("id", 0.7)
    assert tried == []


def test_an_unsure_or_foreign_first_choice_is_settled_by_decoding_in_the_profile_languages():
    tried = []
    # espeak Indonesian: the detector says Thai; decoding as Indonesian is the likeliest.
    thai = hearing([("th", 0.76), ("en", 0.03), ("id", 0.03)], {"en": -0.81, "id": -0.62, "th": -0.89}, tried)
    assert window_language(WINDOW, ("en", "id"), thai) == ("id", 1.0)
    assert sorted(tried) == ["id", "th"]  # the foreign first choice is tried; English, hardly heard, is not
    # A French guest on an English/Indonesian show stays French.
    french = hearing([("fr", 0.92), ("en", 0.02)], {"en": -2.78, "id": -1.22, "fr": -0.94})
    assert window_language(WINDOW, ("en", "id"), french) == ("fr", 1.0)


def test_english_and_a_foreign_first_choice_need_the_detectors_support():
    tried = []
    # Told "English", the model translates, and a translation scores well: English must be heard first.
    assert window_language(WINDOW, ("en", "id-ID"), hearing([("th", 0.15), ("en", 0.1)], {}, tried)) == ("id", 1.0)
    assert tried == []  # one contender left: nothing to decode
    heard_english = hearing([("th", 0.15), ("en", 0.3)], {"en": -0.5, "id": -0.9}, tried)
    assert window_language(WINDOW, ("en", "id-ID"), heard_english) == ("en", 1.0)
    assert sorted(tried) == ["en", "id"]  # regions are dropped (Whisper knows "id"); the weak Thai guess is not tried


def timed_speech(seconds: float):
    """Speech whose every sample is its own time (in samples), so a hearing knows where a window lies."""
    return all_audio(np.arange(int(seconds * SAMPLE_RATE), dtype=np.float32))


def heard_by_time(language_at):
    """A sure detector that hears each window as the language of most of its seconds."""
    calls = []

    def rank(window):
        start, end = window[0] / SAMPLE_RATE, (window[-1] + 1) / SAMPLE_RATE
        calls.append((start, end))
        seconds = np.arange(start, end, 0.1)
        languages, counts = np.unique([language_at(t) for t in seconds], return_counts=True)
        return [(str(languages[np.argmax(counts)]), 0.9)]
    return Hearing(rank, None), calls


def test_neighbouring_windows_in_one_language_make_one_stretch_and_unsure_ones_take_the_main_language():
    speech = timed_speech(150)
    windows = window_bounds(speech, 29.0)
    assert len(windows) == 7
    answers = [("en", 0.9), ("en", 0.3), ("fr", 0.8), ("fr", 0.9), ("en", 0.95), ("xx", 0.2), ("en", 0.9)]

    def rank(window):
        start = int(window[0])
        if any(start == s and window.size == e - s for s, e in windows):
            return [answers[[s for s, _ in windows].index(start)]]
        # A piece near a switch: the language its window was settled to (the unsure ones take English).
        middle = start + window.size // 2
        index = next(k for k, (s, e) in enumerate(windows) if s <= middle < e)
        return [("fr" if index in (2, 3) else "en", 0.9)]

    plan = plan_stretches(speech, TranscribeOptions(model="base"), Hearing(rank, None))
    assert [s.language for s in plan] == ["en", "fr", "en"]
    assert plan[0].start == 0 and plan[-1].end == speech.size
    assert all(a.end == b.start for a, b in zip(plan, plan[1:]))


@pytest.mark.parametrize("switch", [40.0, 50.0, 33.0])
def test_a_switch_inside_a_window_is_placed_to_within_a_few_seconds(switch):
    speech = timed_speech(120)
    hearing, calls = heard_by_time(lambda t: "en" if t < switch else "id")
    plan = plan_stretches(speech, TranscribeOptions(model="base", languages=("en", "id")), hearing)
    assert [s.language for s in plan] == ["en", "id"]
    placed = plan[0].end / SAMPLE_RATE
    assert abs(placed - switch) <= REFINE_SECONDS / 2, (placed, switch)
    assert plan[1].end == speech.size


def test_one_language_throughout_hears_each_window_once():
    speech = timed_speech(120)
    hearing, calls = heard_by_time(lambda t: "id")
    plan = plan_stretches(speech, TranscribeOptions(model="base", languages=("en", "id")), hearing)
    assert [(s.start, s.end, s.language) for s in plan] == [(0, speech.size, "id")]
    assert len(calls) == len(window_bounds(speech, 29.0))


@pytest.mark.parametrize("options", [TranscribeOptions(model="base", language="id"), TranscribeOptions(model="tiny.en")])
def test_a_known_language_is_one_stretch(options):
    speech = all_audio(np.zeros(90 * SAMPLE_RATE, np.float32))
    plan = plan_stretches(speech, options, Hearing(lambda w: pytest.fail("detected"), None))
    assert [(s.start, s.end, s.language) for s in plan] == [(0, speech.size, options.language or "en")]
