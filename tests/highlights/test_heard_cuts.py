"""Cuts checked against the audio: on synthetic speech whose true spans are known, with word times
off by up to ±0.3 s (as Whisper's often are), no cut falls inside speech or nearer to it than the
clip's edge fade, and every clip holds its first and last words whole."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from pipeline.highlights.candidates import EDGE_GUARD, END, START, enumerate_candidates
from pipeline.highlights.energy import envelope_from_samples
from pipeline.highlights.options import HighlightOptions
from pipeline.highlights.timeline import build_timeline
from pipeline.media.audio import SAMPLE_RATE
from pipeline.transcribe.base import Segment, TranscriptResult, Word

FADE = 0.02  # the clips' edge fade (clips.spec.EDGE_FADE_SECONDS)


@dataclass
class Episode:
    audio: np.ndarray
    sentences: list[list[tuple[float, float]]]  # true word spans, per sentence
    transcript: TranscriptResult  # word times shifted from the truth

    @property
    def spans(self) -> list[tuple[float, float]]:
        return [span for sentence in self.sentences for span in sentence]


def synthetic_episode(seed: int, shift: float = 0.3) -> Episode:
    """Noise-burst "words" over a quiet floor: gaps of 0–0.12 s inside a sentence, pauses of 0.25–0.5 s
    (some up to 2 s) between sentences, and each word's reported time moved by up to ``shift`` seconds."""
    rng = np.random.default_rng(seed)
    t, sentences = 0.6, []
    for _ in range(rng.integers(6, 18)):
        words = []
        for k in range(rng.integers(2, 9)):
            if k:
                t += rng.choice([0.0, rng.uniform(0.0, 0.05), rng.uniform(0.05, 0.12)])
            length = rng.uniform(0.15, 0.6)
            words.append((t, t + length))
            t += length
        sentences.append(words)
        t += rng.uniform(0.25, 0.5) if rng.random() < 0.7 else rng.uniform(0.5, 2.0)
    duration = t + 0.5
    audio = (rng.standard_normal(int(duration * SAMPLE_RATE)) * 0.001).astype(np.float32)
    for start, end in (span for sentence in sentences for span in sentence):
        a, b = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
        audio[a:b] += (rng.standard_normal(b - a) * rng.uniform(0.08, 0.3)).astype(np.float32)
    words = []
    for s, sentence in enumerate(sentences):
        for k, (start, end) in enumerate(sentence):
            moved = rng.uniform(-shift, shift)
            text = f" w{s}_{k}" + ("." if k == len(sentence) - 1 else "")
            words.append(Word(text, round(max(0.0, start + moved), 3), round(max(0.0, end + moved), 3), 0.9))
    transcript = TranscriptResult("en", duration, (Segment(0.0, duration, "", tuple(words)),))
    return Episode(audio, sentences, transcript)


def distance_to_speech(t: float, spans: list[tuple[float, float]]) -> float:
    """0 inside a word, else how far the nearest word is."""
    return min(0.0 if a <= t <= b else min(abs(t - a), abs(t - b)) for a, b in spans)


def candidates_of(episode: Episode, options: HighlightOptions, with_audio: bool = True):
    timeline = build_timeline(episode.transcript, options)
    assert len(timeline.sentences) == len(episode.sentences)  # punctuation keeps the sentences apart
    energy = envelope_from_samples(episode.audio) if with_audio else None
    return enumerate_candidates(timeline, options, energy)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), low=st.floats(2, 8), extra=st.floats(4, 30))
def test_no_cut_falls_inside_speech_whatever_the_word_times_say(seed, low, extra):
    episode = synthetic_episode(seed)
    options = HighlightOptions(min_seconds=low, max_seconds=low + extra)
    for candidate in candidates_of(episode, options):
        cut = candidate.cut
        assert cut.heard == {START, END}  # clear pauses: both edges were placed from the audio
        for t in (cut.start, cut.end):
            assert distance_to_speech(t, episode.spans) >= FADE, (t, cut)
        first = episode.sentences[candidate.first][0]
        last = episode.sentences[candidate.last][-1]
        assert cut.start <= first[0] - FADE and cut.end >= last[1] + FADE  # first and last words whole


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31))
def test_a_pause_too_short_for_lead_and_tail_is_split_not_crossed(seed):
    episode = synthetic_episode(seed)
    options = HighlightOptions(min_seconds=2, max_seconds=40, lead_min=0.4, lead_max=0.8, tail_min=0.5, tail_max=1.0)
    for candidate in candidates_of(episode, options):
        for t in (candidate.cut.start, candidate.cut.end):
            assert distance_to_speech(t, episode.spans) >= EDGE_GUARD - 1e-3


def test_word_times_alone_would_cut_into_speech_on_the_same_episodes():
    """The check above can fail: placed from the shifted word times only, cuts land inside words."""
    options = HighlightOptions(min_seconds=3, max_seconds=20)
    inside = 0
    for seed in range(10):
        episode = synthetic_episode(seed)
        inside += sum(distance_to_speech(t, episode.spans) < FADE
                      for c in candidates_of(episode, options, with_audio=False) for t in (c.cut.start, c.cut.end))
    assert inside > 0


def test_without_a_trustworthy_pause_the_word_times_decide():
    episode = synthetic_episode(3, shift=0.0)
    music_bed = episode.audio + (np.random.default_rng(1).standard_normal(episode.audio.size) * 0.2).astype(np.float32)
    timeline = build_timeline(episode.transcript, HighlightOptions(min_seconds=3, max_seconds=20))
    candidates = enumerate_candidates(timeline, HighlightOptions(min_seconds=3, max_seconds=20),
                                      envelope_from_samples(music_bed))
    assert candidates and all(c.cut.heard == frozenset() for c in candidates)


def test_a_sentence_end_said_in_one_breath_is_not_a_cut_point():
    """The ASR ends a sentence where the audio shows no pause (a comma said in one breath): no cut there."""
    for seed in range(40):
        episode = synthetic_episode(seed, shift=0.0)
        touching = [(s, k) for s, sentence in enumerate(episode.sentences) for k in range(len(sentence) - 1)
                    if sentence[k + 1][0] - sentence[k][1] == 0.0 and 0 < s < len(episode.sentences) - 1]
        if touching:
            break
    s, k = touching[0]
    index = sum(len(sentence) for sentence in episode.sentences[:s]) + k
    words = list(episode.transcript.segments[0].words)
    words[index] = Word(words[index].word + ".", words[index].start, words[index].end, 0.9)
    transcript = TranscriptResult("en", episode.transcript.duration, (Segment(0.0, episode.transcript.duration, "",
                                                                              tuple(words)),))
    options = HighlightOptions(min_seconds=1, max_seconds=60)
    boundary = episode.sentences[s][k][1]
    timeline = build_timeline(transcript, options)
    candidates = enumerate_candidates(timeline, options, envelope_from_samples(episode.audio))
    assert candidates and all(abs(t - boundary) > 0.1 for c in candidates for t in (c.cut.start, c.cut.end))
    without_audio = enumerate_candidates(timeline, options, None)  # the word times alone would cut there
    assert any(abs(t - boundary) <= 0.3 for c in without_audio for t in (c.cut.start, c.cut.end))
