"""Word timeline → sentences, the units a highlight is cut from.

A sentence ends at terminal punctuation or at a pause of ``sentence_pause``
seconds; a run-on longer than ``max_sentence_seconds`` is split at its longest
pause and the pieces are marked as continuations, so a clip never starts or ends
inside them. Transcripts without word timings fall back to one sentence per
segment, and out-of-order timestamps are repaired; both are reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pipeline.highlights.options import HighlightOptions
from pipeline.transcribe.base import Segment, TranscriptResult, Word

TERMINALS = (".", "?", "!", "…", "。", "？", "！")
ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "vs.", "e.g.", "i.e.", "jr.", "sr.", "no.", "bpk.", "ibu."})


@dataclass(frozen=True)
class TimedWord:
    text: str
    start: float
    end: float
    # The language of the stretch the word was heard in ("" when the transcript does not say).
    language: str = ""
    # The decoding doubts of its segment ("repetitive", "low confidence").
    flags: tuple[str, ...] = ()
    # Who said it ("S1" …; "" when the transcript was not diarized).
    speaker: str = ""


@dataclass(frozen=True)
class Sentence:
    index: int
    words: tuple[TimedWord, ...]
    # Ends with . ? ! — a finished sentence rather than a pause-ended fragment.
    terminal: bool
    # Starts or ends inside a longer run-on sentence: never a clip boundary on that side.
    continues_previous: bool = False
    continues_next: bool = False

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def language(self) -> str:
        """The language most of its words were heard in ("" when unknown)."""
        counts: dict[str, int] = {}
        for w in self.words:
            counts[w.language] = counts.get(w.language, 0) + 1
        return max(counts, key=lambda code: (counts[code], code != ""))

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(sorted({flag for w in self.words for flag in w.flags}))

    @property
    def speaker(self) -> str:
        """Who said most of its words ("" when not diarized)."""
        seconds: dict[str, float] = {}
        for w in self.words:
            seconds[w.speaker] = seconds.get(w.speaker, 0.0) + (w.end - w.start) + 1e-3
        return max(seconds, key=lambda label: (seconds[label], label != ""), default="")


@dataclass
class Timeline:
    sentences: list[Sentence]
    duration: float
    language: str
    # "words" or "segments" (no word timings: segment boundaries stand in for sentences).
    timing: str = "words"
    warnings: list[str] = field(default_factory=list)

    @property
    def words(self) -> list[TimedWord]:
        return [w for s in self.sentences for w in s.words]


def build_timeline(transcript: TranscriptResult, options: HighlightOptions) -> Timeline:
    """Sentences with repaired, monotonic timings; warnings say what was repaired."""
    duration = transcript.duration or max((s.end for s in transcript.segments), default=0.0)
    words = [(w, s) for s in transcript.segments for w in s.words if w.word.strip()]
    if words:
        repaired, fixes = _monotonic(words)
        groups = _split_sentences(repaired, options)
        timeline = Timeline(_sentences(groups), duration, transcript.language)
    else:
        timeline = _segment_timeline(transcript, duration)
        fixes = 0
    if fixes:
        timeline.warnings.append(f"{fixes} word timestamp(s) were out of order or overlapping and were repaired")
    if timeline.sentences:
        timeline.duration = max(timeline.duration, timeline.sentences[-1].end)
    return timeline


def _monotonic(words: list[tuple[Word, Segment]]) -> tuple[list[TimedWord], int]:
    """Clamp each word to start after the previous one ended, keeping spoken order."""
    out: list[TimedWord] = []
    fixes, previous_end = 0, 0.0
    for w, segment in words:
        start, end = float(w.start), float(w.end)
        if not (math.isfinite(start) and math.isfinite(end)):
            fixes += 1
            start = end = previous_end
        if start < previous_end or end < start:
            fixes += 1
            start = max(start, previous_end)
            end = max(end, start)
        out.append(TimedWord(w.word.strip(), start, end, segment.language, segment.flags, w.speaker or segment.speaker))
        previous_end = end
    return out, fixes


def _ends_sentence(word: TimedWord, next_word: TimedWord | None, options: HighlightOptions) -> bool:
    if next_word is None:
        return True
    text = word.text.lower()
    if text.endswith(TERMINALS) and text not in ABBREVIATIONS:
        return True
    return next_word.start - word.end >= options.sentence_pause


def _split_sentences(words: list[TimedWord], options: HighlightOptions) -> list[tuple[list[TimedWord], bool, bool]]:
    """Groups of words, each with (continues_previous, continues_next) flags."""
    groups, current = [], []
    for i, word in enumerate(words):
        current.append(word)
        if _ends_sentence(word, words[i + 1] if i + 1 < len(words) else None, options):
            groups += _split_run_on(current, options.max_sentence_seconds)
            current = []
    return groups


def _split_run_on(words: list[TimedWord], limit: float, cont_prev: bool = False, cont_next: bool = False):
    if words[-1].end - words[0].start <= limit or len(words) < 2:
        return [(words, cont_prev, cont_next)]
    gaps = [words[i + 1].start - words[i].end for i in range(len(words) - 1)]
    cut = max(range(len(gaps)), key=lambda i: (gaps[i], -abs(i - len(gaps) / 2))) + 1
    return _split_run_on(words[:cut], limit, cont_prev, True) + _split_run_on(words[cut:], limit, True, cont_next)


def _sentences(groups) -> list[Sentence]:
    return [
        Sentence(i, tuple(words), words[-1].text.endswith(TERMINALS) and not cont_next, cont_prev, cont_next)
        for i, (words, cont_prev, cont_next) in enumerate(groups)
    ]


def _segment_timeline(transcript: TranscriptResult, duration: float) -> Timeline:
    """No word timings: each segment is one sentence, words spread evenly for rate features only."""
    sentences, previous_end = [], 0.0
    for segment in transcript.segments:
        texts = segment.text.split()
        if not texts:
            continue
        start = max(float(segment.start), previous_end)
        end = max(float(segment.end), start)
        step = (end - start) / len(texts)
        words = tuple(TimedWord(t, start + k * step, start + (k + 1) * step, segment.language, segment.flags)
                      for k, t in enumerate(texts))
        sentences.append(Sentence(len(sentences), words, texts[-1].endswith(TERMINALS)))
        previous_end = end
    warnings = ["transcript has no word timings: cut points follow segment boundaries, which are less precise"]
    return Timeline(sentences, duration, transcript.language, timing="segments", warnings=warnings if sentences else [])
