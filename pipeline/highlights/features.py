"""What each sentence says about itself: hooks, references, keywords, loudness, quotes.

Candidates are scored from these per-sentence facts with prefix sums, so mining
stays linear in the episode length (``scoring.py``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.highlights.energy import FLOOR_DB, EnergyEnvelope
from pipeline.highlights.language import DIGITS, LAUGHTER, LanguageCues, cues_for, tokens
from pipeline.highlights.timeline import Sentence, Timeline

# Hook points per cue, capped at 1 (a question that opens with a number is a strong hook).
HOOK_QUESTION, HOOK_OPENER, HOOK_NUMBER, HOOK_BOLD = 0.45, 0.5, 0.35, 0.45
# A quotable sentence is short enough for a text post and long enough to say something.
QUOTE_MIN_WORDS, QUOTE_MAX_WORDS = 6, 25
KEYWORDS_PER_EPISODE = 20
# Sentences up to this many words count in full as a hook or as substance; longer ones are diluted.
PUNCHY_WORDS = 22


@dataclass(frozen=True)
class SentenceFacts:
    hook: float
    hook_reasons: tuple[str, ...]
    has_number: bool
    dangling_start: str | None  # the first word when it points back to earlier talk
    keywords: tuple[str, ...]  # episode key phrases found in this sentence
    emphasis: tuple[str, ...]  # emphasis cues found ("laughter", "!", "absolutely")
    quote: float
    # 0–1: carries a number, a bold claim or opener, or key phrases (filler carries none).
    substance: float
    loudness: float  # mean dB over the sentence
    loudness_spread: float  # standard deviation of dB over the sentence


@dataclass
class EpisodeFacts:
    sentences: list[Sentence]
    facts: list[SentenceFacts]
    keywords: list[str]
    language_rules: bool  # hook and reference rules exist for this language
    has_audio: bool
    notes: list[str] = field(default_factory=list)


def analyse(timeline: Timeline, energy: EnergyEnvelope | None) -> EpisodeFacts:
    cues = cues_for(timeline.language)
    keywords = episode_keywords(" ".join(s.text for s in timeline.sentences), timeline.language, cues)
    matcher = KeywordMatcher(keywords)
    # A code-switched episode: each sentence is read with the cues of the language it was heard in.
    facts = [_sentence_facts(s, cues_for(s.language) if s.language else cues, matcher, energy)
             for s in timeline.sentences]
    notes = []
    if cues is None:
        notes.append(f"hook and reference rules were not applied: no cue lists for language {timeline.language!r} "
                     "(questions, digits, keywords and audio still count)")
    if energy is None:
        notes.append("no audio: vocal energy features were not used and cuts were not snapped to the quietest frame")
    return EpisodeFacts(timeline.sentences, facts, keywords, cues is not None, energy is not None, notes)


def _sentence_facts(sentence: Sentence, cues: LanguageCues | None, matcher: "KeywordMatcher",
                    energy: EnergyEnvelope | None) -> SentenceFacts:
    text = sentence.text
    words = tokens(text)
    hook, reasons, has_number = hook_strength(text, words, cues)
    brevity = min(1.0, PUNCHY_WORDS / max(len(words), 1))  # a hook is a short line; so is a dense one
    hook *= brevity
    first = words[0] if words else ""
    dangling = first if cues and first in cues.dangling_starts else None
    loudness, spread = energy.stats(sentence.start, sentence.end) if energy else (FLOOR_DB, 0.0)
    found = matcher.find(words)
    emphasis = _emphasis(text, words, cues)
    claim = any(r.startswith(("bold claim", "hook opener")) for r in reasons)
    substance = min(1.0, 0.4 * has_number + 0.4 * claim + 0.3 * min(len(found), 2)) * brevity
    return SentenceFacts(hook, reasons, has_number, dangling, found, emphasis,
                         _quote_score(sentence, len(words), hook, dangling, found), substance, loudness, spread)


def hook_strength(text: str, words: list[str], cues: LanguageCues | None) -> tuple[float, tuple[str, ...], bool]:
    """0–1 hook score of one sentence and the reasons, in words."""
    reasons, score = [], 0.0
    if text.rstrip().endswith("?"):
        score += HOOK_QUESTION
        reasons.append("opens with a question")
    number = _number_in(text, words, cues)
    if number:
        score += HOOK_NUMBER
        reasons.append(f"opens with a number ({number})")
    if cues:
        lowered = " ".join(words)
        opener = next((o for o in cues.openers if lowered.startswith(o)), None)
        if opener:
            score += HOOK_OPENER
            reasons.append(f"hook opener “{opener}”")
        bold = next((w for w in words if w in cues.bold_words or cues.is_superlative(w)), None)
        if bold:
            score += HOOK_BOLD
            reasons.append(f"bold claim (“{bold}”)")
    return min(1.0, score), tuple(reasons), bool(number)


def _number_in(text: str, words: list[str], cues: LanguageCues | None) -> str | None:
    digit = next((w for w in words if DIGITS.search(w)), None)
    if digit:
        return digit
    return next((w for w in words if cues and w in cues.number_words), None)


def _emphasis(text: str, words: list[str], cues: LanguageCues | None) -> tuple[str, ...]:
    found = []
    if LAUGHTER.search(text):
        found.append("laughter")
    if "!" in text:
        found.append("exclamation")
    if cues:
        found += [w for w in words if w in cues.intensifiers][:2]
    return tuple(found)


def _quote_score(sentence: Sentence, n_words: int, hook: float, dangling: str | None, keywords) -> float:
    if not sentence.terminal or dangling or not QUOTE_MIN_WORDS <= n_words <= QUOTE_MAX_WORDS:
        return 0.0
    score = 0.5 + 0.3 * min(1.0, hook / HOOK_OPENER) + (0.2 if keywords else 0.0)
    return score if 8 <= n_words <= 18 else 0.8 * score


# --- keywords ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def stopwords(language: str) -> frozenset[str]:
    import yake

    folder = Path(yake.__file__).parent / "core" / "StopwordsList"
    path = folder / f"stopwords_{language}.txt"
    if not path.is_file():
        path = folder / "stopwords_noLang.txt"
    return frozenset(path.read_text(encoding="utf-8", errors="ignore").lower().split())


def episode_keywords(text: str, language: str, cues: LanguageCues | None, top: int = KEYWORDS_PER_EPISODE) -> list[str]:
    """The episode's key phrases (1–2 words) by YAKE, lower-cased, best first."""
    import yake

    if not text.strip():
        return []
    code = (language or "en").split("-")[0].lower()
    stop = set(stopwords(code))
    if cues:
        stop |= cues.dangling_starts | set(cues.title_fillers) | cues.intensifiers | cues.generic_words
    extractor = yake.KeywordExtractor(lan=code, n=2, top=top, stopwords=stop)
    phrases = [phrase.lower() for phrase, _score in extractor.extract_keywords(text)]
    return [p for p in phrases if not set(p.split()) & stop]


class KeywordMatcher:
    """Finds episode key phrases (one or two words) in a token list."""

    def __init__(self, keywords: list[str]):
        self.unigrams = {k for k in keywords if " " not in k}
        self.bigrams = {tuple(k.split()) for k in keywords if k.count(" ") == 1}

    def find(self, words: list[str]) -> tuple[str, ...]:
        found = [w for w in words if w in self.unigrams]
        found += [" ".join(pair) for pair in zip(words, words[1:]) if pair in self.bigrams]
        return tuple(found)


def loudness_arrays(facts: list[SentenceFacts]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([f.loudness for f in facts]), np.array([f.loudness_spread for f in facts])
