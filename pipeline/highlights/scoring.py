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
from pipeline.highlights.options import FeatureWeights

# A pause this long after a sentence reads as the end of a thought.
THOUGHT_PAUSE_SECONDS = 0.8
# Lively conversational pace in words per second (full score inside, zero at the outer bounds).
RATE_IDEAL, RATE_OUTER = (2.3, 3.6), (1.2, 5.0)
# Emphasis cues for a full emphasis score.
EMPHASIS_FULL = 3


@dataclass
class ScoredCandidates:
    candidates: list[Candidate]
    features: dict[str, np.ndarray]  # name -> value per candidate (NaN = not measured)
    scores: np.ndarray


def score_candidates(candidates: list[Candidate], facts: EpisodeFacts, weights: FeatureWeights) -> ScoredCandidates:
    if not candidates:
        return ScoredCandidates([], {n: np.zeros(0) for n in weights.names()}, np.zeros(0))
    first = np.array([c.first for c in candidates])
    last = np.array([c.last for c in candidates])
    features = candidate_features(first, last, facts)
    return ScoredCandidates(candidates, features, weighted_total(features, weights))


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
    words, seconds = span(n_words), span(spoken)
    out = {
        "hook": _hook(first, last, f),
        "self_contained": np.array([0.25 if f[i].dangling_start else 1.0 for i in first]),
        "complete_thought": _complete_thought(first, last, facts),
        "focus": _focus(span(np.array([len(x.keywords) for x in f], dtype=float)), words),
        "speech_rate": _rate_score(words / seconds),
        "emphasis": np.minimum(1.0, span(np.array([len(x.emphasis) for x in f], dtype=float)) / EMPHASIS_FULL),
        "quotability": _range_max(np.array([x.quote for x in f]), first, last),
    }
    out.update(_energy(first, last, facts, spoken, seconds))
    return out


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


def _complete_thought(first: np.ndarray, last: np.ndarray, facts: EpisodeFacts) -> np.ndarray:
    s = facts.sentences
    terminal = np.array([x.terminal for x in s], dtype=float)
    pause_after = np.array([s[i + 1].start - s[i].end if i + 1 < len(s) else 2.0 for i in range(len(s))])
    pause_before = np.concatenate([[2.0], pause_after[:-1]])
    share_terminal = _range_sum(_prefix(terminal), first, last) / (last - first + 1)
    return (0.4 * terminal[last] + 0.2 * share_terminal
            + 0.2 * np.minimum(1.0, pause_after[last] / THOUGHT_PAUSE_SECONDS)
            + 0.2 * np.minimum(1.0, pause_before[first] / THOUGHT_PAUSE_SECONDS))


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
