"""Flags on decoded text that cannot be trusted, the episode warning, and the highlight caveat."""

from __future__ import annotations

import pytest

from pipeline.highlights.mine import mine_highlights
from pipeline.highlights.options import HighlightOptions
from pipeline.transcribe.base import Segment, TranscriptResult, Word
from pipeline.transcribe.base import TranscribeOptions
from pipeline.transcribe.language_check import LanguageGuess, detect_language, language_warnings, ranker_for
from pipeline.transcribe.quality import LOW_CONFIDENCE, REPETITIVE, is_repetitive, quality_flags, quality_warnings


def segment(text: str, start: float = 0.0, probability: float = 0.9, language: str = "en") -> Segment:
    words = text.split()
    step = 0.4
    timed = tuple(Word(f" {w}", start + k * step, start + k * step + 0.3, probability) for k, w in enumerate(words))
    return Segment(start, start + len(words) * step, f" {text}", timed, language)


@pytest.mark.parametrize("text, looped", [
    ("sufraventin, sufraventin, sufraventin, sufraventin", True),
    ("and then the market and then the market and then the market", True),
    ("no, no, no, that is not what I said", False),  # three times is still speech
    ("Post often, and answer every comment. That is how trust is built.", False),
    ("la la la la la la la la la la la la la la la la la la la la la la", True),
])
def test_repetition_loops_are_told_from_speech(text, looped):
    assert is_repetitive(text) is looped


def test_low_word_probabilities_flag_the_segment():
    assert quality_flags(segment("the weather today is sunny", probability=0.9)) == ()
    assert quality_flags(segment("offering a new period of time", probability=0.3)) == (LOW_CONFIDENCE,)
    assert quality_flags(segment("hello there", probability=0.1)) == ()  # too few words to judge
    assert quality_flags(segment("hey hey hey hey hey", probability=0.2)) == (REPETITIVE, LOW_CONFIDENCE)


def test_the_episode_warning_names_where():
    segments = [segment("fine words here", 0.0), segment("offering a new period of time", 75.0, probability=0.2)]
    segments = [Segment(s.start, s.end, s.text, s.words, s.language, quality_flags(s)) for s in segments]
    [warning] = quality_warnings(segments)
    assert warning.startswith("1 stretch(es) decoded as low confidence (1:15–1:17)")
    assert quality_warnings(segments[:1]) == []


def test_a_stretch_outside_the_profile_is_named_with_its_times():
    result = TranscriptResult("en", 120.0, (segment("hello and welcome", 0.0), segment("bonjour à tous", 62.0, language="fr"),
                                             segment("on parle de cuisine", 70.0, language="fr"),
                                             segment("back to English", 90.0)), model="base")
    [warning] = language_warnings(result, ["en", "id"], None)
    assert warning == ("1:02–1:12: the speech sounds like French (fr), which is not among the client's spoken "
                       "languages (en, id): transcribed as French (fr); check the profile's languages")
    assert language_warnings(result, ["en", "fr"], None) == []
    assert language_warnings(result, ["auto"], None) == []
    assert result.language_shares() == {"fr": 0.538, "en": 0.462}  # by seconds of speech: 2.8 s and 2.4 s
    assert list(result.language_shares()) == ["fr", "en"]  # largest first


def test_a_fixed_language_that_the_audio_contradicts_is_named_as_set_not_as_heard():
    result = TranscriptResult("id", 60.0, (segment("selamat datang", 0.0, language="id"),), model="base")
    [warning] = language_warnings(result, ["id"], LanguageGuess("fr", 0.81))
    assert warning == ("the audio sounds like French (fr) (81% sure), which is not among the client's spoken "
                       "languages (id), but it was transcribed as Indonesian (id) as set: check the profile's languages")
    assert language_warnings(result, ["id", "fr"], LanguageGuess("fr", 0.81)) == []
    assert language_warnings(result, ["id"], LanguageGuess("fr", 0.3)) == []  # too unsure to say


def test_a_multilingual_engine_hears_the_check_windows_itself():
    heard = []

    class Engine:
        store = None  # an English-only model would need it for the multilingual detector

        def detect(self, window, options):
            heard.append((window.size, options.model))
            return [("fr", 0.7), ("en", 0.2)] if len(heard) == 1 else [("fr", 0.5), ("en", 0.4)]

    import numpy as np

    rank = ranker_for(Engine(), TranscribeOptions(model="base", language="en"))
    assert detect_language([np.zeros(16000), np.zeros(16000)], rank) == LanguageGuess("fr", 0.6)
    assert heard == [(16000, "base"), (16000, "base")]
    assert detect_language([], rank) is None


def test_highlights_over_a_doubtful_stretch_carry_a_caveat():
    lines = [f"Sentence number {k} says something clear about growing a podcast audience." for k in range(12)]
    segments, t = [], 0.0
    for k, line in enumerate(lines):
        s = segment(line, t, probability=0.2 if k >= 6 else 0.9)
        segments.append(Segment(s.start, s.end, s.text, s.words, s.language, quality_flags(s)))
        t = s.end + 1.2
    result = mine_highlights(TranscriptResult("en", t, tuple(segments)), HighlightOptions(min_seconds=5, max_seconds=12, top=20))
    doubtful = [h for h in result.highlights if h.start >= segments[6].start - 1]
    clear = [h for h in result.highlights if h.end <= segments[6].start]
    assert doubtful and clear
    assert all(any("decoded as low confidence" in c for c in h.caveats) for h in doubtful)
    assert not any("decoded as" in c for h in clear for c in h.caveats)
