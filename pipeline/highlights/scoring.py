"""Explained scores: each candidate gets named features in 0–1 and a weighted total.

Features are computed for all candidates at once from per-sentence facts
(prefix sums and vectorised numpy), so a 3-hour episode with ~25k candidates
scores in well under a second. A feature that cannot be measured (no audio)
is NaN and drops out of the weighted total instead of counting as zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.highlights.candidates import Candidate
from pipeline.highlights.features import EpisodeFacts, loudness_arrays
from pipeline.highlights.options import FeatureWeights, HighlightOptions

# Summed sentence substance that counts as a fully developed idea (about four strong sentences).
DEPTH_FULL = 4.0
# Lively conversational pace in words per second (full score inside, zero at the outer bounds).
RATE_IDEAL, RATE_OUTER = (2.3, 3.6), (1.2, 5.0)
# Share of sentences with an emphasis cue that earns the full emphasis score.
EMPHASIS_SHARE_FULL = 0.3


@dataclass
class ScoredCandidates:
    candidates: list[Candidate]
    features: dict[str, np.ndarray]  # name -> value per candidate (NaN = not measured)
    scores: np.ndarray


def score_candidates(candidates: list[Candidate], facts: EpisodeFacts, options: HighlightOptions) -> ScoredCandidates:
    if not candidates:
        return ScoredCandidates([], {n: np.zeros(0) for n in options.weights.names()}, np.zeros(0))
    first = np.array([c.first for c in candidates])
    last = np.array([c.last for c in candidates])
    features = candidate_features(first, last, facts)
    features["length_fit"] = length_fit(np.array([c.cut.seconds for c in candidates]), options)
    return ScoredCandidates(candidates, features, weighted_total(features, options.weights))


def length_fit(seconds: np.ndarray, options: HighlightOptions) -> np.ndarray:
    """1 inside the ideal range, 0.5 at the shortest allowed clip, 0 at twice the ideal maximum."""
    low, high = options.ideal_seconds
    rising = 0.5 + 0.5 * (seconds - options.min_seconds) / max(low - options.min_seconds, 1e-6)
    falling = 1.0 - (seconds - high) / max(high, 1e-6)
    return np.clip(np.where(seconds < low, rising, np.where(seconds > high, falling, 1.0)), 0.0, 1.0)


def weighted_total(features: dict[str, np.ndarray], weights: FeatureWeights) -> np.ndarray:
    w = weights.normalized()
    numerator = sum(np.nan_to_num(features[n]) * w[n] for n in w)
    denominator = sum(np.where(np.isnan(features[n]), 0.0, w[n]) for n in w)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def candidate_features(first: np.ndarray, last: np.ndarray, facts: EpisodeFacts) -> dict[str, np.ndarray]:
    s, f = facts.sentences, facts.facts
    n_words = np.array([len(x.words) for x in s], dtype=float)
    spoken = np.array([max(x.end - x.start, 0.05) for x in s])
    span = lambda values: _range_sum(_prefix(values), first, last)  # noqa: E731
    words, seconds, count = span(n_words), span(spoken), (last - first + 1).astype(float)
    gaps = _relative_gaps(s)
    out = {
        "hook": _hook(first, last, f),
        "self_contained": _self_contained(first, facts, gaps),
        "complete_thought": _complete_thought(first, last, facts, gaps),
        "density": span(np.array([x.substance for x in f]) * n_words) / words,
        "depth": np.minimum(1.0, span(np.array([x.substance for x in f])) / DEPTH_FULL),
        "focus": _focus(span(np.array([len(x.keywords) for x in f], dtype=float)), words),
        "speech_rate": _rate_score(words / seconds),
        "emphasis": np.minimum(1.0, span(np.array([bool(x.emphasis) for x in f], dtype=float)) / count
                               / EMPHASIS_SHARE_FULL),
        "quotability": _range_max(np.array([x.quote for x in f]), first, last),
    }
    out["turn_start"] = turn_start(first, last, s)
    out.update(_energy(first, last, facts, spoken, seconds))
    return {name: np.clip(values, 0.0, 1.0) for name, values in out.items()}  # prefix sums drift by 1e-16


def turn_start(first: np.ndarray, last: np.ndarray, sentences) -> np.ndarray:
    """1 when the clip opens as its first speaker starts a turn; 0 when it opens on the tail of a turn
    that another speaker then takes over inside the clip (the last words of the other person); 0.5 when
    it opens mid-turn and that speaker goes on. NaN for a transcript without speaker labels."""
    speakers = np.array([s.speaker for s in sentences], dtype=object)
    if not speakers.size or not any(speakers):
        return np.full(first.shape, np.nan)
    previous = np.where(first > 0, speakers[np.maximum(first - 1, 0)], "")
    opens_turn = (first == 0) | (previous != speakers[first])
    nxt = np.minimum(first + 1, len(sentences) - 1)
    handed_over = (last > first) & (speakers[nxt] != speakers[first])
    return np.where(opens_turn, 1.0, np.where(handed_over, 0.0, 0.5))


def _prefix(values: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(values, dtype=float)])


def _range_sum(prefix: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    return prefix[last + 1] - prefix[first]


def _range_max(values: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    best = values[first].copy()
    for offset in range(1, int((last - first).max(initial=0)) + 1):
        inside = first + offset <= last
        best[inside] = np.maximum(best[inside], values[(first + offset)[inside]])
    return best


def _hook(first: np.ndarray, last: np.ndarray, f) -> np.ndarray:
    """The first sentence's hook, helped a little by a second sentence ("Here's the thing. 90 % …")."""
    hooks = np.array([x.hook for x in f])
    second = np.where(first + 1 <= last, hooks[np.minimum(first + 1, len(hooks) - 1)], 0.0)
    return np.minimum(1.0, hooks[first] + 0.35 * second)


def _relative_gaps(sentences) -> tuple[np.ndarray, np.ndarray]:
    """Pause before and after each sentence as its rank among the episode's pauses (0–1).

    Ranks rather than seconds: speakers differ, and Whisper stretches word ends into pauses.
    """
    after = np.array([sentences[i + 1].start - sentences[i].end for i in range(len(sentences) - 1)] + [np.inf])
    finite = np.sort(after[np.isfinite(after)])
    rank = np.searchsorted(finite, after, side="right") / max(len(finite), 1)
    rank = np.where(np.isfinite(after), rank, 1.0)  # the episode's end is the clearest pause of all
    return np.concatenate([[1.0], rank[:-1]]), rank


def _self_contained(first: np.ndarray, facts: EpisodeFacts, gaps) -> np.ndarray:
    pause_before, _ = gaps
    s, f = facts.sentences, facts.facts
    after_question = np.array([i > 0 and s[i - 1].text.rstrip().endswith("?") for i in range(len(s))], dtype=float)
    clean_start = np.array([0.0 if x.dangling_start else 1.0 for x in f])
    opening = np.maximum(pause_before, after_question)
    return 0.5 * clean_start[first] + 0.5 * opening[first]


def _complete_thought(first: np.ndarray, last: np.ndarray, facts: EpisodeFacts, gaps) -> np.ndarray:
    """Ends on a finished sentence that makes a point, followed by a clear pause."""
    _, pause_after = gaps
    terminal = np.array([x.terminal for x in facts.sentences], dtype=float)
    point = np.array([max(x.substance, x.quote) for x in facts.facts])
    share_terminal = _range_sum(_prefix(terminal), first, last) / (last - first + 1)
    return 0.3 * terminal[last] + 0.1 * share_terminal + 0.3 * point[last] + 0.3 * pause_after[last]


def _focus(hits: np.ndarray, words: np.ndarray) -> np.ndarray:
    density = hits / np.maximum(words, 1.0)
    reference = np.quantile(density, 0.9) if density.size else 0.0
    return np.minimum(1.0, density / reference) if reference > 0 else np.zeros_like(density)


def _rate_score(rate: np.ndarray) -> np.ndarray:
    (low, high), (floor, ceiling) = RATE_IDEAL, RATE_OUTER
    rising = (rate - floor) / (low - floor)
    falling = (ceiling - rate) / (ceiling - high)
    return np.clip(np.minimum(rising, falling), 0.0, 1.0)


def _energy(first, last, facts: EpisodeFacts, spoken: np.ndarray, seconds: np.ndarray) -> dict[str, np.ndarray]:
    if not facts.has_audio:
        nan = np.full(first.shape, np.nan)
        return {"energy": nan, "energy_variation": nan.copy()}
    loudness, spread = loudness_arrays(facts.facts)
    mean_loudness = _range_sum(_prefix(loudness * spoken), first, last) / seconds
    mean_spread = _range_sum(_prefix(spread * spoken), first, last) / seconds
    return {"energy": _relative(mean_loudness, loudness), "energy_variation": _relative(mean_spread, spread)}


def _relative(values: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Position between the episode's 10th and 90th percentile sentence, clipped to 0–1."""
    low, high = np.quantile(population, [0.1, 0.9])
    if high - low < 1e-6:
        return np.full(values.shape, 0.5)
    return np.clip((values - low) / (high - low), 0.0, 1.0)
