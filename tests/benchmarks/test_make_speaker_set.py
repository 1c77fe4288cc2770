"""scripts/make_speaker_set.py and tests/helpers/conversations.py: the diarization set, its true
turns placed as documented, and checked against the audio."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.conversations import conversation

_PATH = Path(__file__).resolve().parents[2] / "scripts" / "make_speaker_set.py"
_spec = importlib.util.spec_from_file_location("castmill_make_speaker_set_test", _PATH)
mss = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = mss  # dataclasses look their module up while the class is built
_spec.loader.exec_module(mss)

RATE = mss.SAMPLE_RATE


def test_the_set_has_its_shape():
    """Six two-voice, four three-voice conversations and one monologue, all following the rules."""
    by_count = {}
    for c in mss.CONVERSATIONS:
        mss.check_conversation(c)
        by_count.setdefault(len(c.voices), []).append(c.name)
    assert {n: len(names) for n, names in by_count.items()} == {1: 1, 2: 6, 3: 4}
    assert len({c.name for c in mss.CONVERSATIONS}) == len(mss.CONVERSATIONS)
    texts = [t.text for c in mss.CONVERSATIONS for t in c.turns if len(t.text.split()) > mss.BACKCHANNEL_WORDS]
    assert len(texts) == len(set(texts))


def test_held_out_episodes_come_last_and_are_about_a_third():
    held = [c.name for c in mss.CONVERSATIONS if c.held_out]
    assert held == ["duo05", "duo06", "trio03", "trio04"]
    assert mss.CONVERSATIONS[-len(held):] == mss.HELD_OUT
    assert not any(c.held_out for c in mss.TUNED)
    assert set(mss.LONG_SOURCES) <= {c.name for c in mss.TUNED}


def test_some_pairs_are_two_male_voices():
    def males(c):
        return [v for v in c.voices.values() if "+m" in v.voice]

    hard = [c.name for c in mss.CONVERSATIONS if len(males(c)) >= 2]
    assert {"duo03", "duo05", "trio02", "trio04"} <= set(hard)
    for name in hard:
        voices = males(next(c for c in mss.CONVERSATIONS if c.name == name))
        assert len({v.pitch for v in voices}) == len(voices)


def test_rules_are_enforced():
    voice = mss.Voice("en-us+m3")
    with pytest.raises(ValueError, match="speakers"):
        mss.check_conversation(mss.Conversation("x", "x", {"A": voice}, (mss.T("B", "Hello."),)))
    with pytest.raises(ValueError, match="end with"):
        mss.check_conversation(mss.Conversation("x", "x", {"A": voice}, (mss.T("A", "Hello"),)))
    with pytest.raises(ValueError, match="overlaps"):
        mss.check_conversation(mss.Conversation("x", "x", {"A": voice}, (mss.T("A", "Hi."), mss.T("A", "Hi.", 0.3))))
    with pytest.raises(ValueError, match="share"):
        mss.check_conversation(mss.Conversation("x", "x", {"A": voice, "B": voice},
                                                (mss.T("A", "Hi."), mss.T("B", "Hi."))))


def test_layout_puts_gaps_and_cross_talk_where_documented():
    turns = (mss.T("A", "One."), mss.T("B", "Two."), mss.T("A", "Three.", 0.5), mss.T("B", "Four."))
    lengths = [2 * RATE, 3 * RATE, RATE, 2 * RATE]
    placed = mss.layout(turns, lengths)
    starts = [start for _, start in placed]
    edge, g = round(mss.EDGE_SILENCE * RATE), [round(x * RATE) for x in mss.GAPS]
    assert starts[0] == edge
    assert starts[1] == edge + lengths[0] + g[1]
    assert starts[2] == starts[1] + lengths[1] - RATE // 2   # half a second before B ends
    assert starts[3] == starts[2] + lengths[2] + g[3]        # after A's overlapping turn has ended
    assert all(0.2 <= gap <= 0.8 for gap in mss.GAPS)


def test_layout_loops_the_turns_up_to_the_length_asked():
    turns = (mss.T("A", "One."), mss.T("B", "Two."))
    placed = mss.layout(turns, [RATE, RATE], min_frames=60 * RATE)
    assert [i for i, _ in placed[:4]] == [0, 1, 0, 1]
    last_index, last_start = placed[-1]
    assert last_start + RATE >= 60 * RATE > placed[-2][1] + RATE


def test_overlap_seconds():
    turns = [{"start": 0.0, "end": 5.0}, {"start": 4.0, "end": 6.0}, {"start": 7.0, "end": 8.0}]
    assert mss.overlap_seconds(turns) == 1.0


@pytest.mark.slow
def test_helper_conversations_truth_matches_audio():
    """Speech inside every true turn, silence in every gap between turns."""
    for speakers in (2, 3):
        talk = conversation(speakers)
        assert conversation(speakers) is talk  # built once per session
        samples = talk.samples()
        assert 20 <= talk.duration <= 40 and abs(samples.size / 16000 - talk.duration) < 0.01
        assert {t.speaker for t in talk.turns} == set("ABC"[:speakers])

        def rms(start, end):
            window = samples[round(start * 16000):round(end * 16000)]
            return float(np.sqrt(np.mean(window.astype(np.float64) ** 2)))

        for turn in talk.turns:
            assert rms(turn.start, turn.end) > 0.02, turn
        for a, b in zip(talk.turns, talk.turns[1:]):
            assert b.start - a.end >= 0.199  # the smallest gap, less rounding to the millisecond
            assert rms(a.end + 0.03, b.start - 0.03) < 0.002, (a, b)


@pytest.mark.slow
def test_built_episode_has_truth_and_manifest(tmp_path):
    solo = next(c for c in mss.CONVERSATIONS if c.name == "solo01")
    logs: list[str] = []
    manifest = mss.build(str(tmp_path), conversations=(solo,), log=logs.append)
    truth = json.loads((tmp_path / "solo01.truth.json").read_text())
    assert (tmp_path / "solo01.mp3").stat().st_size > 100_000
    assert [e["episode"] for e in manifest["episodes"]] == ["solo01"]
    assert manifest["generator_version"] == mss.generator_version()
    assert truth["held_out"] is False and truth["long"] is False
    assert [t["text"] for t in truth["turns"]] == [t.text for t in solo.turns]
    assert truth["duration"] > truth["turns"][-1]["end"] > 60
    mss.build(str(tmp_path), conversations=(solo,), log=logs.append)
    assert logs[-1].startswith("solo01: up to date")
