"""Pick the top highlights and explain them: reasons, pull quote, title, key phrases, hashtags.

Selection is maximal marginal relevance over time: non-overlapping picks, each
one's score reduced by how close it sits to a pick already made, so highlights
spread across the episode instead of clustering in its best minute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from pipeline.highlights.features import EpisodeFacts, KeywordMatcher, SentenceFacts
from pipeline.highlights.language import cues_for, tokens
from pipeline.highlights.options import FeatureWeights, HighlightOptions
from pipeline.highlights.scoring import ScoredCandidates

TITLE_MAX_CHARS = 70
REASONS_SHOWN = 4
HASHTAGS_MAX = 5


@dataclass
class Highlight:
    rank: int
    start: float  # cut points, seconds
    end: float
    score: float
    features: dict[str, float | None]
    reasons: list[str]
    caveats: list[str]
    text: str
    quote: str
    title: str
    key_phrases: list[str]
    hashtags: list[str]
    first_sentence: int
    last_sentence: int
    llm: dict | None = None
    # The cut edges ("start", "end") placed from the audio's own pauses (see candidates.py).
    cut_from_audio: list[str] = field(default_factory=list)
    # Where the pull quote is spoken (seconds): its audio is what a translation of the quote hears.
    quote_span: tuple[float, float] = (0.0, 0.0)
    # Who speaks in it, most first ("S1" …; empty when the transcript was not diarized), and who says the quote.
    speakers: list[str] = field(default_factory=list)
    quote_by: str = ""

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items()}
        data["start"], data["end"], data["score"] = round(self.start, 3), round(self.end, 3), round(self.score, 4)
        data["features"] = {k: (None if v is None else round(v, 3)) for k, v in self.features.items()}
        return data


def select(scored: ScoredCandidates, options: HighlightOptions, duration: float, count: int) -> list[int]:
    """Indexes of up to ``count`` non-overlapping candidates, best first, spread out in time.

    Greedy maximal marginal relevance, vectorised over every candidate: each round
    takes the best score minus its closeness to picks already made, then drops
    every candidate overlapping the pick.
    """
    if not scored.candidates:
        return []
    starts = np.array([c.cut.start for c in scored.candidates])
    ends = np.array([c.cut.end for c in scored.candidates])
    scale = max(10.0, duration / (4 * options.top))
    lam = options.diversity_lambda
    alive = _not_on_a_tail(scored)
    nearest = np.zeros(len(starts))
    chosen: list[int] = []
    while alive.any() and len(chosen) < count:
        marginal = np.where(alive, lam * scored.scores - (1 - lam) * nearest, -np.inf)
        best = int(np.argmax(marginal))
        chosen.append(best)
        alive &= (ends <= starts[best]) | (starts >= ends[best])
        gap = np.maximum(0.0, np.maximum(starts, starts[best]) - np.minimum(ends, ends[best]))
        nearest = np.maximum(nearest, np.exp(-gap / scale))
    return chosen


def _not_on_a_tail(scored: ScoredCandidates) -> np.ndarray:
    """Candidates that do not open on the last words of another speaker's turn (all of them when every
    candidate does, or when the transcript has no speaker labels)."""
    opens = scored.features.get("turn_start")
    keep = np.ones(len(scored.candidates), dtype=bool) if opens is None else opens != 0.0
    return keep if keep.any() else np.ones(len(scored.candidates), dtype=bool)


# --- explanation --------------------------------------------------------------------------------

def build_highlight(rank: int, index: int, scored: ScoredCandidates, facts: EpisodeFacts,
                    weights: FeatureWeights, language: str) -> Highlight:
    candidate = scored.candidates[index]
    sentences = facts.sentences[candidate.first : candidate.last + 1]
    sentence_facts = facts.facts[candidate.first : candidate.last + 1]
    features = {n: (None if np.isnan(v[index]) else float(v[index])) for n, v in scored.features.items()}
    text = " ".join(s.text for s in sentences)
    quoted = sentences[_pull_quote(sentence_facts)]
    quote = quoted.text
    phrases = key_phrases(text, language, facts.keywords)
    speakers = speakers_by_time(sentences)
    return Highlight(
        rank=rank, start=candidate.cut.start, end=candidate.cut.end, score=float(scored.scores[index]),
        features=features, reasons=reasons(features, weights, sentence_facts, candidate.last - candidate.first + 1,
                                           sentences) + who_speaks(speakers),
        caveats=caveats(features, sentence_facts, facts, sentences), text=text, quote=quote,
        title=suggest_title(sentences[0].text, quote, sentences[0].language or language), key_phrases=phrases,
        hashtags=hashtags(phrases), first_sentence=candidate.first, last_sentence=candidate.last,
        cut_from_audio=sorted(candidate.cut.heard), quote_span=(quoted.start, quoted.end),
        speakers=speakers, quote_by=quoted.speaker,
    )


def speakers_by_time(sentences) -> list[str]:
    """The speaker labels in these sentences, who talks longest first."""
    seconds: dict[str, float] = {}
    for w in (w for s in sentences for w in s.words if w.speaker):
        seconds[w.speaker] = seconds.get(w.speaker, 0.0) + (w.end - w.start)
    return sorted(seconds, key=lambda label: (-seconds[label], label))


def who_speaks(speakers: list[str]) -> list[str]:
    """The reason that names who speaks, with labels that the episode's speaker names replace on display."""
    if not speakers:
        return []
    if len(speakers) == 1:
        return [f"{speakers[0]} speaks alone"]
    return [f"an exchange between {', '.join(speakers[:-1])} and {speakers[-1]}"]


def reasons(features: dict, weights: FeatureWeights, sentence_facts: list[SentenceFacts], count: int, sentences) -> list[str]:
    """The strongest contributions to the score, in words, strongest first."""
    w = weights.normalized()
    ranked = sorted((n for n, v in features.items() if v is not None and v >= 0.5 and w[n] > 0),
                    key=lambda n: -w[n] * features[n])
    out: list[str] = []
    for name in ranked:
        out += [r for r in _phrases(name, features[name], sentence_facts, sentences) if r not in out]
    if any(f.has_number for f in sentence_facts) and not any("number" in r for r in out):
        out.append("contains a number")
    return out[:REASONS_SHOWN]


def _phrases(name: str, value: float, facts: list[SentenceFacts], sentences) -> list[str]:
    if name == "hook":
        return list(facts[0].hook_reasons) or ["strong second sentence"]
    if name == "focus":
        counts: dict[str, int] = {}
        for keyword in (k for f in facts for k in f.keywords):
            counts[keyword] = counts.get(keyword, 0) + 1
        top = sorted(counts, key=lambda k: (-counts[k], k))[:2]
        return [f"keyword: {k}" for k in top]
    if name == "length_fit":
        return [f"good length for a short clip ({sum(s.end - s.start for s in sentences):.0f} s of speech)"]
    if name == "speech_rate":
        words = sum(len(s.words) for s in sentences)
        seconds = sum(max(s.end - s.start, 0.05) for s in sentences)
        return [f"lively pace ({words / seconds:.1f} words/s)"]
    if name == "emphasis":
        cues = sorted({c for f in facts for c in f.emphasis})
        return [f"emphasis: {', '.join(cues[:3])}"]
    return [_FIXED_PHRASES[name]]


_FIXED_PHRASES = {
    "self_contained": "opens a new thought (no reference back at the start)",
    "complete_thought": "complete thought (ends on a point, then a pause)",
    "density": "no dead air (most sentences carry a number, claim or key phrase)",
    "depth": "develops the idea over several strong sentences",
    "energy": "high vocal energy",
    "energy_variation": "animated delivery (varied loudness)",
    "quotability": "has a quotable line",
    "turn_start": "opens as a speaker starts a turn",
}


def caveats(features: dict, sentence_facts: list[SentenceFacts], facts: EpisodeFacts, sentences) -> list[str]:
    out = []
    doubts = sorted({flag for s in sentences for flag in s.flags})
    if doubts:
        out.append(f"the transcript here was decoded as {' and '.join(doubts)}: listen before using the words")
    if sentence_facts[0].dangling_start:
        out.append(f"starts with “{sentence_facts[0].dangling_start}”, which may point back to earlier talk")
    if not facts.language_rules:
        out.append("hook rules were not applied for this language")
    if features.get("energy") is not None and features["energy"] < 0.2:
        out.append("quieter than most of the episode")
    if features.get("turn_start") == 0.0:
        out.append(f"opens on the last words of {sentences[0].speaker}'s turn")
    return out


def _pull_quote(facts: list[SentenceFacts]) -> int:
    """The index of the most quotable sentence."""
    return max(range(len(facts)), key=lambda k: (facts[k].quote, facts[k].hook, -k))


def suggest_title(first_sentence: str, quote: str, language: str) -> str:
    """A title from the opening question or the pull quote, without filler, ≤ 70 characters."""
    source = first_sentence if first_sentence.rstrip().endswith("?") else quote
    cues = cues_for(language)
    text = source.strip()
    for filler in (cues.title_fillers if cues else ()):
        text = re.sub(rf"^{re.escape(filler)}\b[,.]?\s*", "", text, flags=re.I)
    text = text[:1].upper() + text[1:]
    if len(text) <= TITLE_MAX_CHARS:
        return text
    cut = text[: TITLE_MAX_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def key_phrases(text: str, language: str, episode_keywords: list[str], top: int = 5) -> list[str]:
    """Key phrases of the clip itself (YAKE), falling back to the episode's keywords found in it."""
    from pipeline.highlights.features import episode_keywords as extract

    phrases = extract(text, language, cues_for(language), top=top * 2)
    found = list(KeywordMatcher(episode_keywords).find(tokens(text)))
    merged = list(dict.fromkeys([p for p in found if p in phrases] + phrases + found))
    return merged[:top]


def hashtags(phrases: list[str]) -> list[str]:
    """CamelCase hashtag candidates from the key phrases (screen readers read #FreelancePricing well)."""
    tags: list[str] = []
    for phrase in phrases:
        words = [re.sub(r"[^\w]", "", w) for w in phrase.split()]
        tag = "#" + "".join(w[:1].upper() + w[1:] for w in words if w)
        if len(tag) > 2 and not tag[1:].isdigit() and tag.lower() not in {t.lower() for t in tags}:
            tags.append(tag)
    return tags[:HASHTAGS_MAX]
