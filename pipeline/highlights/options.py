"""Every number that shapes highlight mining, in one place (see openai/whisper's DecodingOptions).

``FeatureWeights`` names the explained features; ``HighlightOptions`` holds the
weights plus the cut and length rules. Settings, client profiles and weights
re-fitted from feedback all end up as one ``HighlightOptions``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace

from pipeline.core.errors import ConfigError


@dataclass(frozen=True)
class FeatureWeights:
    # Hook strength of the first sentence: question, bold claim, number, "here's the thing" opener.
    hook: float = 0.18
    # Opens a new thought: no dangling "that/this/he" at the start, after a pause or a question.
    self_contained: float = 0.10
    # Ends on a finished sentence followed by a pause (not cut off mid-thought).
    complete_thought: float = 0.08
    # Share of sentences that carry substance (a number, a claim, a key phrase): no dead air.
    density: float = 0.12
    # Develops the idea: several substantive sentences rather than one line.
    depth: float = 0.10
    # Density of the episode's key phrases (YAKE) inside the clip.
    focus: float = 0.10
    # Loudness of the speech relative to the rest of the episode.
    energy: float = 0.10
    # Variation of loudness inside the clip (animated delivery rather than monotone).
    energy_variation: float = 0.04
    # Words per second close to a lively conversational pace.
    speech_rate: float = 0.03
    # Laughter, exclamations and intensifiers ("absolutely", "banget"), per sentence.
    emphasis: float = 0.03
    # Holds a short complete sentence that could stand alone as a text post.
    quotability: float = 0.12
    # Length inside the ideal range for short-form video (see HighlightOptions.ideal_seconds).
    length_fit: float = 0.08
    # Opens as a speaker starts a turn, not on the last words of the other person's turn (diarized
    # transcripts only: not measured, so not counted, without speaker labels).
    turn_start: float = 0.06

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def with_overrides(self, overrides: dict[str, float] | None, *, source: str = "weights") -> "FeatureWeights":
        if not overrides:
            return self
        unknown = sorted(set(overrides) - set(self.names()))
        if unknown:
            raise ConfigError(f"unknown highlight feature(s) {', '.join(unknown)}; known: {', '.join(self.names())}",
                              source=source)
        bad = [k for k, v in overrides.items() if not 0 <= float(v) <= 10]
        if bad:
            raise ConfigError(f"weight for {bad[0]} must be between 0 and 10", source=source)
        merged = replace(self, **{k: float(v) for k, v in overrides.items()})
        if merged.total <= 0:
            raise ConfigError("at least one highlight weight must be above 0", source=source)
        return merged

    @property
    def total(self) -> float:
        return sum(asdict(self).values())

    def normalized(self) -> dict[str, float]:
        return {name: value / self.total for name, value in asdict(self).items()}


# Clip length bounds per platform in seconds (min, max) used when --platform is given.
# The max is the shorter of the platform's own video limit and what performs as a clip:
# YouTube Shorts allows 3 min, Facebook Reels 90 s, X 140 s (each platform's module in pipeline/platforms).
PLATFORM_BOUNDS: dict[str, tuple[float, float]] = {
    "tiktok": (15.0, 90.0),
    "instagram": (15.0, 90.0),
    "youtube": (15.0, 60.0),
    "facebook": (15.0, 90.0),
    "x": (15.0, 90.0),
    "linkedin": (20.0, 90.0),
    "threads": (15.0, 60.0),
    "bluesky": (15.0, 60.0),
    "mastodon": (15.0, 60.0),
}


@dataclass(frozen=True)
class HighlightOptions:
    # Highlights returned per episode.
    top: int = 8
    # Clip length bounds in seconds, measured between the cut points.
    min_seconds: float = 15.0
    max_seconds: float = 90.0
    # Length that scores best; short-form guidance converges on 20–45 s for clips that get watched through.
    ideal_seconds: tuple[float, float] = (20.0, 45.0)
    # Silence kept before the first word when the pause allows it (at least 0.2 s, so the first word is never clipped).
    lead_min: float = 0.2
    # Never reach further back than this into a long pause.
    lead_max: float = 0.8
    # Silence kept after the last word when the pause allows it (at least 0.3 s, so the last word can ring out).
    tail_min: float = 0.3
    tail_max: float = 1.0
    # An unpunctuated gap this long ends a sentence (speech without punctuation).
    sentence_pause: float = 1.0
    # Sentences longer than this are split at their longest pause (run-on transcripts).
    max_sentence_seconds: float = 30.0
    # Maximal marginal relevance: 1.0 ranks by score only, lower values spread picks out.
    diversity_lambda: float = 0.75
    weights: FeatureWeights = field(default_factory=FeatureWeights)

    def __post_init__(self) -> None:
        if self.top < 1:
            raise ConfigError("top must be at least 1")
        if not 0 < self.min_seconds < self.max_seconds:
            raise ConfigError(f"need 0 < min ({self.min_seconds:g} s) < max ({self.max_seconds:g} s)")

    def for_platform(self, platform: str | None, bounds: dict[str, tuple[float, float]] | None = None) -> "HighlightOptions":
        """These options with the clip length bounds of ``platform`` (client bounds win)."""
        if not platform:
            return self
        table = {**PLATFORM_BOUNDS, **(bounds or {})}
        if platform not in table:
            raise ConfigError(f"unknown platform {platform!r}; known: {', '.join(sorted(table))}")
        low, high = table[platform]
        ideal = (max(low, self.ideal_seconds[0]), min(high, self.ideal_seconds[1]))
        return replace(self, min_seconds=low, max_seconds=high, ideal_seconds=ideal if ideal[0] < ideal[1] else (low, high))

    def cache_key(self) -> str:
        """Changes whenever anything that changes the output changes."""
        blob = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]
