"""Build transcripts for highlight tests: word timelines from sentences, random or scripted."""

from __future__ import annotations

from pipeline.transcribe.base import Segment, TranscriptResult, Word


def transcript_from_sentences(sentences: list[str], *, language: str = "en", word_seconds: float = 0.32,
                              gap: float = 0.08, pause: float = 0.6, start: float = 0.5,
                              tail: float = 1.0) -> TranscriptResult:
    """One segment per sentence, words of equal length, ``pause`` seconds between sentences."""
    segments, t = [], start
    for text in sentences:
        words = []
        for token in text.split():
            words.append(Word(" " + token, round(t, 3), round(t + word_seconds, 3), 0.9))
            t += word_seconds + gap
        segments.append(Segment(words[0].start, words[-1].end, text, tuple(words)))
        t += pause - gap
    return TranscriptResult(language, round(t + tail, 3), tuple(segments), "test", "test")
