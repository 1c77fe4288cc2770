"""Explained features, reasons, selection and the bad inputs of highlight mining."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.errors import ConfigError, HighlightError
from pipeline.highlights import EnergyEnvelope, FeatureWeights, HighlightOptions, mine_highlights
from pipeline.highlights.features import hook_strength
from pipeline.highlights.language import cues_for, tokens
from pipeline.transcribe.base import Segment, TranscriptResult, Word
from tests.helpers.timelines import transcript_from_sentences

FILLER_EN = [
    "I mean, you know, it kind of depends on the day.",
    "And so that was sort of the thing we talked about before.",
    "He said something like that, I don't remember exactly.",
    "Yeah, right, and then we moved on to other stuff.",
    "It was fine, I guess, nothing special about it really.",
    "So anyway, that's where we were with all of that.",
]
STRONG_EN = [
    "Here's the thing nobody tells you about pricing your freelance work.",
    "When I charged sixty dollars an hour, every logo cost the client six hundred dollars.",
    "Now I sell a fixed pricing package for three thousand dollars with two revisions.",
    "The client knows the price on day one, and I keep every hour I save.",
    "So stop selling your time, and start pricing the result.",
]


def episode(strong_at: int, repeats: int = 6) -> TranscriptResult:
    sentences = []
    for block in range(repeats):
        sentences += STRONG_EN if block == strong_at else FILLER_EN
    return transcript_from_sentences(sentences)


def test_the_planted_strong_moment_ranks_first_with_reasons():
    transcript = episode(strong_at=3)
    strong_start = transcript.segments[len(FILLER_EN) * 3].start
    strong_end = transcript.segments[len(FILLER_EN) * 3 + len(STRONG_EN) - 1].end
    result = mine_highlights(transcript, HighlightOptions(top=3))
    best = result.highlights[0]
    overlap = min(best.end, strong_end) - max(best.start, strong_start)
    assert overlap / (max(best.end, strong_end) - min(best.start, strong_start)) > 0.8
    assert strong_start - 1.0 < best.start <= strong_start
    assert any("hook opener" in r for r in best.reasons)
    assert best.quote in STRONG_EN and best.features["hook"] >= 0.8
    assert all(0.0 <= v <= 1.0 for v in best.features.values() if v is not None)
    assert best.features["energy"] is None  # no audio given
    assert any("no audio" in n for n in result.notes)
    assert any("pricing" in k for k in best.key_phrases) and best.hashtags[0].startswith("#")


def test_highlights_do_not_overlap_and_spread_out():
    result = mine_highlights(episode(strong_at=0, repeats=12), HighlightOptions(top=5, min_seconds=10, max_seconds=30))
    spans = sorted((h.start, h.end) for h in result.highlights)
    assert len(spans) == 5
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert spans[-1][0] - spans[0][0] > result.duration / 2  # not clustered in one part of the episode


@pytest.mark.parametrize("text, language, expected", [
    ("Why do most podcasts fail?", "en", "opens with a question"),
    ("Here's the thing about hiring.", "en", "hook opener “here's the thing”"),
    ("Ninety percent of shows stop at episode seven.", "en", "opens with a number (ninety)"),
    ("You should never pay for followers.", "en", "bold claim (“never”)"),
    ("Intinya, kamu harus menaikkan harga.", "id", "hook opener “intinya”"),
    ("Kenapa banyak podcast berhenti di episode tujuh?", "id", "opens with a question"),
    ("Sembilan puluh persen klien tidak pernah membaca kontrak.", "id", "opens with a number (sembilan)"),
    ("Jangan pernah bilang ini yang terbaik.", "id", "bold claim (“terbaik”)"),
])
def test_hook_cues_in_english_and_indonesian(text, language, expected):
    score, reasons, _ = hook_strength(text, tokens(text), cues_for(language))
    assert expected in reasons and score > 0


def test_malay_label_uses_indonesian_rules_and_unknown_languages_say_rules_were_not_applied():
    assert cues_for("ms") is cues_for("id")
    german = transcript_from_sentences(["Das ist der wichtigste Punkt über Preise heute."] * 12, language="de")
    result = mine_highlights(german, HighlightOptions(top=2, min_seconds=10, max_seconds=20))
    assert result.highlights, "other languages are still mined"
    assert any("not applied" in n and "'de'" in n for n in result.notes)
    assert all("hook rules were not applied for this language" in h.caveats for h in result.highlights)


def test_dangling_start_lowers_self_containedness_and_is_a_caveat():
    options = HighlightOptions(top=1, min_seconds=5, max_seconds=15)
    dangling = mine_highlights(transcript_from_sentences(["That is why it worked so well for them."] * 8), options)
    clean = mine_highlights(transcript_from_sentences(["Pricing is why it worked so well for them."] * 8), options)
    h = dangling.highlights[0]
    assert clean.highlights[0].features["self_contained"] - h.features["self_contained"] >= 0.5
    assert any("“that”" in c for c in h.caveats) and not clean.highlights[0].caveats


def test_energy_features_come_from_the_audio_envelope():
    transcript = episode(strong_at=2)
    db = np.full(int(transcript.duration * 100) + 100, -35.0, dtype=np.float32)
    loud_from = int(transcript.segments[len(FILLER_EN) * 4].start * 100)
    db[loud_from:] = -12.0  # the last two blocks are spoken loudly
    result = mine_highlights(transcript, HighlightOptions(top=6, min_seconds=10, max_seconds=30),
                             energy=EnergyEnvelope(db))
    loud = [h for h in result.highlights if h.start >= loud_from / 100]
    quiet = [h for h in result.highlights if h.end <= loud_from / 100]
    assert loud and quiet
    assert min(h.features["energy"] for h in loud) > max(h.features["energy"] for h in quiet)
    assert any("high vocal energy" in r for h in loud for r in h.reasons)


def test_weights_change_the_ranking_and_reject_unknown_features():
    base = mine_highlights(episode(strong_at=1), HighlightOptions(top=1))
    only_rate = HighlightOptions(top=1, weights=FeatureWeights().with_overrides(
        {name: 0.0 for name in FeatureWeights.names() if name != "speech_rate"}))
    assert mine_highlights(episode(strong_at=1), only_rate).highlights[0].score != base.highlights[0].score
    with pytest.raises(ConfigError, match="unknown highlight feature"):
        FeatureWeights().with_overrides({"virality": 1.0})
    with pytest.raises(ConfigError, match="at least one"):
        FeatureWeights().with_overrides({n: 0.0 for n in FeatureWeights.names()})


def test_platform_bounds_and_bad_bounds():
    assert HighlightOptions().for_platform("youtube").max_seconds == 60
    assert HighlightOptions().for_platform("tiktok", {"tiktok": (20, 45)}).min_seconds == 20
    with pytest.raises(ConfigError, match="unknown platform 'myspace'"):
        HighlightOptions().for_platform("myspace")
    with pytest.raises(ConfigError, match="min"):
        HighlightOptions(min_seconds=60, max_seconds=30)


def test_empty_transcript_is_an_error_naming_the_source():
    with pytest.raises(HighlightError, match=r"^ep\.json: transcript has no words"):
        mine_highlights(TranscriptResult("en", 0.0, ()), source="ep.json")


def test_five_second_episode_has_no_candidates_and_says_why():
    result = mine_highlights(transcript_from_sentences(["Thanks for listening, see you next week."]))
    assert result.highlights == [] and result.candidates == 0
    assert "less than the 15 s minimum" in result.notes[-1]


def test_segment_only_transcript_falls_back_and_says_so():
    words = episode(strong_at=1)
    segments = tuple(Segment(s.start, s.end, s.text, ()) for s in words.segments)
    result = mine_highlights(TranscriptResult("en", words.duration, segments), HighlightOptions(top=2))
    assert result.timing == "segments" and result.highlights
    assert any("no word timings" in n for n in result.notes)
    starts = {s.start for s in segments}
    assert all(any(abs(h.start - s) <= 0.8 for s in starts) for h in result.highlights)


def test_non_monotonic_timestamps_are_repaired_and_reported():
    base = episode(strong_at=1)
    words = [w for s in base.segments for w in s.words]
    words[10] = Word(words[10].word, words[10].start - 3.0, words[10].end - 3.5, 0.9)  # jumps backwards
    words[20] = Word(words[20].word, words[20].end + 0.1, words[20].start, 0.9)  # ends before it starts
    broken = TranscriptResult("en", base.duration, (Segment(0, base.duration, base.text, tuple(words)),))
    result = mine_highlights(broken, HighlightOptions(top=3))
    assert any("were repaired" in n for n in result.notes) and result.highlights
    times = [(w.start, w.end) for w in result.timeline.words]
    assert all(a[1] <= b[0] + 1e-9 and a[0] <= a[1] for a, b in zip(times, times[1:]))
