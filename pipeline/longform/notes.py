"""Show notes: what an episode is about, where each part starts, what to take away, who said what.

Everything comes from the transcript and the mined highlights, nothing is invented:
- the summary is extractive: the sentences that carry most of the episode's key phrases (YAKE),
  at most one per part of the episode, in the order they were said;
- chapters come from ``chapters.py`` (an episode too short for chapters has none, and says so);
- takeaways are the titles of the best highlights, quotes their pull quotes with a timestamp and
  the speaker's name when the VA named them;
- links are the URLs and bare domains said in the transcript ("castmill.example/show");
- names are capitalised words and phrases that appear inside sentences (not just at their start)
  at least twice, or once as two or more capitalised words ("Budi Santoso"); the speakers' names are
  listed separately.

``episode_notes`` gathers them for an identity; ``build_notes`` is the pure part.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import regex

from sqlalchemy.orm import Session

from pipeline.access.identity import Identity
from pipeline.access.permissions import visible_episode
from pipeline.core.errors import LongFormError
from pipeline.highlights.timeline import Sentence
from pipeline.platforms import text as textlib
from pipeline.store.episodes import latest_transcript
from pipeline.store.models import Episode

# Sentences in the summary, and its longest length in characters.
SUMMARY_SENTENCES = 3
SUMMARY_MAX_CHARS = 600
# A summary sentence has at least this many words and at most this many (no fragments, no run-ons).
SUMMARY_WORDS = (8, 40)
TAKEAWAYS = 5
QUOTES = 3
NAMES = 12
# Capitalised words that are not names however often they appear mid-sentence.
NOT_NAMES = frozenset("""I I'm I've I'll I'd OK Okay Yeah Yes No So And But Or The A An It It's That This
Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August
September October November December English Indonesian Mr Mrs Ms Dr""".split())
CAPITALISED = regex.compile(r"\p{Lu}[\p{L}\p{M}'’-]*")


@dataclass(frozen=True)
class ChapterLine:
    start: float  # seconds
    title: str
    summary: str = ""  # the chapter's sentence richest in the episode's key phrases ("" when none stands out)


@dataclass(frozen=True)
class Quote:
    start: float
    text: str
    by: str = ""  # the speaker's name, when the VA named them


@dataclass(frozen=True)
class ShowNotes:
    title: str
    summary: str
    chapters: tuple[ChapterLine, ...]
    takeaways: tuple[str, ...]
    quotes: tuple[Quote, ...]
    links: tuple[str, ...]
    names: tuple[str, ...]  # people, places and things named in the conversation
    speakers: tuple[str, ...]  # the names the VA gave the episode's speakers
    notes: tuple[str, ...] = field(default=())  # what is missing and why ("no chapters: …")


def build_notes(title: str, sentences: list[Sentence], keywords: list[str], highlights: list,
                chapters: list[ChapterLine], speaker_names: dict[str, str], notes: tuple[str, ...] = ()) -> ShowNotes:
    """Show notes from the episode's sentences, key phrases, highlights (best first) and chapters."""
    named = {label: name for label, name in speaker_names.items() if name}
    text = " ".join(s.text for s in sentences)
    best = best_per_part(sentences, keywords, [c.start for c in chapters])
    chapters = [replace(c, summary=_as_sentence(best[k][0].text) if k in best else "")
                for k, c in enumerate(chapters, start=1)]
    return ShowNotes(
        title=title, summary=summary_of(best),
        chapters=tuple(chapters), takeaways=tuple(dict.fromkeys(h.title for h in highlights if h.title))[:TAKEAWAYS],
        quotes=tuple(Quote(h.start, h.quote, named.get(h.quote_by, "")) for h in highlights[:QUOTES] if h.quote),
        links=links_in(text), names=names_in(sentences, set(named.values())),
        speakers=tuple(dict.fromkeys(named.values())), notes=notes)


def summary(sentences: list[Sentence], keywords: list[str], part_starts: list[float]) -> str:
    """The best-scoring sentence of each part (chapter), the best ``SUMMARY_SENTENCES`` of those, in order."""
    return summary_of(best_per_part(sentences, keywords, part_starts))


def summary_of(best: dict[int, tuple[Sentence, float]]) -> str:
    """The best ``SUMMARY_SENTENCES`` of ``best_per_part``'s sentences, in the order they were said."""
    chosen = sorted(best.values(), key=lambda pair: -pair[1])[:SUMMARY_SENTENCES]
    out = ""
    for sentence, _ in sorted(chosen, key=lambda pair: pair[0].start):
        candidate = f"{out} {_as_sentence(sentence.text)}".strip()
        if len(candidate) > SUMMARY_MAX_CHARS:
            break
        out = candidate
    return out


def best_per_part(sentences: list[Sentence], keywords: list[str],
                  part_starts: list[float]) -> dict[int, tuple[Sentence, float]]:
    """Part number (1 for the part from ``part_starts[0]``; 0 before any) -> its best summary sentence and score."""
    weights = {k: len(keywords) - rank for rank, k in enumerate(keywords)}
    best: dict[int, tuple[Sentence, float]] = {}
    for sentence in sentences:
        if not _summary_length(sentence):
            continue
        score = _sentence_score(sentence, weights)
        part = sum(1 for start in part_starts if start <= sentence.start)
        if score > 0 and (part not in best or score > best[part][1]):
            best[part] = (sentence, score)
    return best


def _summary_length(sentence: Sentence) -> bool:
    lowest, highest = SUMMARY_WORDS
    return lowest <= len(sentence.words) <= highest and not sentence.text.rstrip().endswith("?")


def _sentence_score(sentence: Sentence, weights: dict[str, int]) -> float:
    """Key-phrase weight per word: dense sentences win over long ones."""
    lowered = " ".join(w.text.lower().strip(".,;:!?\"'“”") for w in sentence.words)
    hits = sum(weight for phrase, weight in weights.items() if regex.search(rf"\b{regex.escape(phrase)}\b", lowered))
    return hits / len(sentence.words) ** 0.5


def _as_sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "…")) else text.rstrip(",;:") + "."


def links_in(text: str) -> tuple[str, ...]:
    """URLs and bare domains said in the episode, each once, as https links."""
    found = [span.text.rstrip(".") for span in textlib.find_urls(text, bare_domains=True)]
    return tuple(dict.fromkeys(url if "://" in url else f"https://{url}" for url in found))


def names_in(sentences: list[Sentence], speakers: set[str]) -> tuple[str, ...]:
    """Capitalised names used inside sentences: twice as one word, or once as two or more words."""
    counts: Counter[str] = Counter()
    for sentence in sentences:
        for run in _capitalised_runs([w.text.strip(".,;:!?\"“”()") for w in sentence.words][1:]):
            counts[run] += 1
    keep = [name for name, n in counts.items()
            if name not in speakers and (n >= 2 or " " in name) and name.split()[0] not in NOT_NAMES]
    return tuple(sorted(keep, key=lambda name: (-counts[name], name))[:NAMES])


def _capitalised_runs(words: list[str]) -> list[str]:
    runs, current = [], []
    for word in words + [""]:
        if word and CAPITALISED.fullmatch(word) and word not in NOT_NAMES:
            current.append(word)
            continue
        if current:
            runs.append(" ".join(current))
        current = []
    return runs


def notes_for_episode(session: Session, episode: Episode) -> ShowNotes:
    """Show notes of a stored episode from its latest transcript and its highlights (best first)."""
    from pipeline.highlights.features import episode_keywords
    from pipeline.highlights.language import cues_for
    from pipeline.highlights.options import HighlightOptions
    from pipeline.highlights.store import transcript_result
    from pipeline.highlights.timeline import build_timeline
    from pipeline.longform.chapters import make_chapters

    row = latest_transcript(session, episode.id)
    if row is None or not row.segments:
        raise LongFormError("has no transcript yet: run `castmill process` first", source=f"episode {episode.id}")
    transcript = transcript_result(row)
    timeline = build_timeline(transcript, HighlightOptions())
    text = " ".join(s.text for s in timeline.sentences)
    keywords = episode_keywords(text, timeline.language, cues_for(timeline.language))
    names = dict(episode.speaker_names or {})
    missing: tuple[str, ...] = ()
    try:
        chapters = [ChapterLine(c.start, c.title) for c in make_chapters(transcript, speaker_names=names,
                                                                         name=f"episode {episode.id}")]
    except LongFormError as exc:
        chapters, missing = [], (f"no chapters: {exc}",)
    highlights = sorted(episode.highlights, key=lambda h: h.rank)
    return build_notes(episode.title, timeline.sentences, keywords, highlights, chapters, names, missing)


def episode_notes(session: Session, identity: Identity, episode_id: int) -> ShowNotes:
    """Show notes of an episode ``identity`` may see."""
    return notes_for_episode(session, visible_episode(session, identity, episode_id))
