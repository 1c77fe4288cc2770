"""Property-based checks of the clean-cut invariants over random word timelines (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from pipeline.highlights.candidates import Cut, clean_cut_violations, enumerate_candidates
from pipeline.highlights.energy import EnergyEnvelope, FRAME_SECONDS
from pipeline.highlights.options import HighlightOptions
from pipeline.highlights.timeline import build_timeline
from pipeline.transcribe.base import Segment, TranscriptResult, Word

ENDINGS = ["", "", "", ",", ".", "?", "!"]


@st.composite
def word_timelines(draw):
    """Random words: durations 0.05–1.2 s, gaps 0–2.5 s (many touching), random punctuation."""
    count = draw(st.integers(min_value=1, max_value=160))
    t = draw(st.floats(0, 3))
    words = []
    for _ in range(count):
        gap = draw(st.one_of(st.just(0.0), st.floats(0, 0.25), st.floats(0, 2.5)))
        length = draw(st.floats(0.05, 1.2))
        t += gap
        words.append(Word(f" w{draw(st.sampled_from(ENDINGS))}", round(t, 3), round(t + length, 3), 0.9))
        t += length
    duration = t + draw(st.floats(0, 2))
    return TranscriptResult("en", duration, (Segment(0.0, duration, "", tuple(words)),))


@st.composite
def options(draw):
    low = draw(st.floats(2, 20))
    return HighlightOptions(min_seconds=low, max_seconds=low + draw(st.floats(1, 60)), top=5)


def random_energy(draw, duration: float) -> EnergyEnvelope:
    frames = int(duration / FRAME_SECONDS) + 10
    seed = draw(st.integers(0, 2**31))
    return EnergyEnvelope(np.random.default_rng(seed).uniform(-90, -10, frames).astype(np.float32))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transcript=word_timelines(), opts=options(), data=st.data())
def test_every_candidate_cut_is_clean(transcript, opts, data):
    energy = random_energy(data.draw, transcript.duration) if data.draw(st.booleans()) else None
    timeline = build_timeline(transcript, opts)
    for candidate in enumerate_candidates(timeline, opts, energy):
        assert clean_cut_violations(candidate.cut, candidate.first, candidate.last, timeline, opts) == []


@settings(max_examples=120, deadline=None)
@given(transcript=word_timelines(), opts=options())
def test_candidates_start_at_sentence_starts_and_end_at_sentence_ends(transcript, opts):
    timeline = build_timeline(transcript, opts)
    for candidate in enumerate_candidates(timeline, opts, None):
        first, last = timeline.sentences[candidate.first], timeline.sentences[candidate.last]
        assert not first.continues_previous and not last.continues_next
        previous = timeline.sentences[candidate.first - 1] if candidate.first else None
        assert previous is None or previous.terminal or first.start - previous.end >= opts.sentence_pause \
            or previous.words[-1].text.endswith((".", "?", "!"))


@settings(max_examples=200, deadline=None)
@given(transcript=word_timelines(), opts=options())
def test_sentences_cover_every_word_once_in_order(transcript, opts):
    timeline = build_timeline(transcript, opts)
    assert [w.text for w in timeline.words] == [w.word.strip() for w in transcript.words]
    starts = [w.start for w in timeline.words]
    assert starts == sorted(starts)
    assert all(s.end - s.start <= opts.max_sentence_seconds or len(s.words) == 1 for s in timeline.sentences
               if s.continues_next or s.continues_previous)


def test_the_checker_catches_a_cut_inside_a_word():
    words = tuple(Word(f" w{i}.", i * 1.0, i * 1.0 + 0.8, 0.9) for i in range(40))
    transcript = TranscriptResult("en", 41.0, (Segment(0, 40, "", words),))
    opts = HighlightOptions(min_seconds=5, max_seconds=20)
    timeline = build_timeline(transcript, opts)
    problems = clean_cut_violations(Cut(3.5, 11.5), 3, 10, timeline, opts)
    assert any("inside the word 'w3.'" in p for p in problems)
    assert any("inside the word 'w11.'" in p for p in problems)
    assert any("after its first word" in p for p in problems)
    assert any("lead 0.100 s" in p for p in clean_cut_violations(Cut(2.9, 10.9), 3, 10, timeline, opts))
    assert clean_cut_violations(Cut(2.8, 10.9), 3, 10, timeline, opts) == []


def test_cut_snaps_to_the_quietest_frame_of_the_pause():
    words = [Word(" one.", 0.0, 4.0, 0.9), Word(" two.", 5.0, 20.0, 0.9), Word(" three.", 22.0, 30.0, 0.9)]
    transcript = TranscriptResult("en", 31.0, (Segment(0, 30, "", tuple(words)),))
    db = np.full(3200, -20.0, dtype=np.float32)
    db[430:440] = -80.0  # a quiet dip 0.6 s before "two"
    db[2060:2070] = -85.0  # and 0.6 s after it
    opts = HighlightOptions(min_seconds=10, max_seconds=20)
    timeline = build_timeline(transcript, opts)
    [candidate] = [c for c in enumerate_candidates(timeline, opts, EnergyEnvelope(db)) if c.first == c.last == 1]
    assert 4.3 <= candidate.cut.start <= 4.4 and 20.6 <= candidate.cut.end <= 20.7
