"""Highlights in a diarized transcript: who speaks, turn starts, and no clip opening on someone else's tail."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pipeline.highlights import mine_highlights
from pipeline.highlights.options import HighlightOptions
from pipeline.highlights.scoring import turn_start
from pipeline.highlights.select import who_speaks
from pipeline.highlights.timeline import Sentence, TimedWord
from pipeline.transcribe.base import TranscriptResult
from tests.helpers.timelines import transcript_from_sentences


def _sentences(speakers: str) -> list[Sentence]:
    """One two-word sentence per letter, spoken by S<letter>."""
    return [Sentence(i, (TimedWord("a", i, i + 0.4, speaker=f"S{c}"), TimedWord("b.", i + 0.5, i + 0.9, speaker=f"S{c}")),
                     True) for i, c in enumerate(speakers)]


def test_turn_start_scores_the_opening_of_each_candidate():
    sentences = _sentences("11122")  # S1 speaks three sentences, then S2 two
    first = np.array([0, 1, 2, 3, 1])
    last = np.array([2, 2, 4, 4, 1])
    # 0: opens the episode; 1: mid-turn, S1 goes on; 2: S1's last sentence, then S2 takes over (a tail);
    # 3: S2 starts a turn; 4: a one-sentence clip mid-turn.
    assert turn_start(first, last, sentences).tolist() == [1.0, 0.5, 0.0, 1.0, 0.5]


def test_turn_start_is_not_measured_without_speaker_labels():
    sentences = [replace(s, words=tuple(replace(w, speaker="") for w in s.words)) for s in _sentences("12")]
    assert np.isnan(turn_start(np.array([0, 1]), np.array([1, 1]), sentences)).all()


def test_the_reason_names_who_speaks():
    assert who_speaks([]) == []
    assert who_speaks(["S2"]) == ["S2 speaks alone"]
    assert who_speaks(["S1", "S3", "S2"]) == ["an exchange between S1, S3 and S2"]


ANSWER = [
    "So what did you learn from the first year of the business?",
    "Honestly, the first year taught me that pricing is everything.",
    "We doubled our prices and lost only two clients out of forty.",
    "Revenue went up by sixty percent in three months.",
    "Most founders are scared to charge what their work is worth.",
    "Stop selling your time, and start pricing the result.",
    "That one change saved the company.",
]


def _diarized(transcript: TranscriptResult, speakers: list[str]) -> TranscriptResult:
    segments = tuple(replace(s, speaker=who, words=tuple(replace(w, speaker=who) for w in s.words))
                     for s, who in zip(transcript.segments, speakers))
    return replace(transcript, segments=segments)


def test_highlights_carry_their_speakers_and_never_open_on_the_hosts_tail():
    plain = transcript_from_sentences(ANSWER * 3)
    # The host asks each question; the guest answers with six sentences.
    labels = (["S1"] + ["S2"] * 6) * 3
    options = HighlightOptions(min_seconds=8, max_seconds=30, top=5)
    result = mine_highlights(_diarized(plain, labels), options)
    assert result.highlights
    for h in result.highlights:
        assert h.features["turn_start"] != 0.0
        assert h.speakers and set(h.speakers) <= {"S1", "S2"}
        assert h.quote_by in h.speakers
        named = [r for r in h.reasons if "speaks alone" in r or "exchange between" in r]
        assert len(named) == 1 and all(s in named[0] for s in h.speakers)
    undiarized = mine_highlights(plain, options)
    assert all(h.speakers == [] and h.features["turn_start"] is None for h in undiarized.highlights)
