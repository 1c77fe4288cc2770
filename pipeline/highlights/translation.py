"""Highlights spoken in another language than the posts', quoted in the posts' language.

A client whose posts are in English and whose show is partly in Indonesian or French asks for it
with ``translate_quotes = true`` in the profile. Each highlight whose speech is mostly in another
language is translated by Whisper's own translate task, from the highlight's audio, in one decode:
the pull quote is the translated text spoken over the quote's time. (Translating the quote's few
seconds alone gave unrelated sentences on the French test speech: Whisper needs the context.) The
drafts then quote the translation, and review shows it as a machine translation next to the words
as spoken.

Whisper was chosen over argostranslate: its translate task uses the model already installed for
transcription (no other download), it hears the audio rather than a transcript that may be
wrong, and the argostranslate language models are not on PyPI (its package index downloads them
at run time). Whisper translates into English only; the profile check enforces that.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from pipeline.core.settings import Settings
from pipeline.core.vocab import MULTILINGUAL_MODEL, base_language, is_english_only
from pipeline.highlights.select import Highlight, hashtags, key_phrases, suggest_title
from pipeline.media.audio import decode_span
from pipeline.transcribe import ModelStore, get_transcriber
from pipeline.transcribe.base import TRANSLATE, Segment, TranscribeOptions

TARGET = "en"  # the only language Whisper translates into
# (start, end, spoken language) -> the English of that stretch of the audio, as timed (start, end, text) pieces
Translate = Callable[[float, float, str], list[tuple[float, float, str]]]


@dataclass(frozen=True)
class QuoteTranslation:
    source: str  # the language spoken in the highlight
    by: str  # what translated it, shown in review
    text: str
    quote: str
    title: str
    key_phrases: list[str]
    hashtags: list[str]

    def to_dict(self) -> dict:
        return {"from": self.source, "to": TARGET, "by": self.by, "text": self.text, "quote": self.quote,
                "title": self.title, "key_phrases": self.key_phrases, "hashtags": self.hashtags}


def spoken_language(segments: Sequence[Segment], start: float, end: float, default: str) -> str:
    """The language of most of the speech between ``start`` and ``end`` (by seconds)."""
    seconds: dict[str, float] = defaultdict(float)
    for segment in segments:
        overlap = min(end, segment.end) - max(start, segment.start)
        if overlap > 0:
            seconds[base_language(segment.language or default)] += overlap
    return max(sorted(seconds), key=seconds.get) if seconds else base_language(default)


def translate_highlight(highlight: Highlight, language: str, translate: Translate, by: str) -> QuoteTranslation | None:
    """The highlight in English, or None when the translation came out empty."""
    pieces = [(start, end, text.strip()) for start, end, text in translate(highlight.start, highlight.end, language)]
    text = " ".join(piece for _, _, piece in pieces if piece)
    if not text:
        return None
    quote = _spoken_over(pieces, *highlight.quote_span) or text
    phrases = key_phrases(text, TARGET, [])
    first = re.split(r"(?<=[.?!])\s+", text, maxsplit=1)[0]
    return QuoteTranslation(language, by, text, quote, suggest_title(first, quote, TARGET), phrases, hashtags(phrases))


def _spoken_over(pieces: list[tuple[float, float, str]], start: float, end: float) -> str:
    """The translated pieces that overlap ``start``–``end`` most of their own length (or the single nearest)."""
    def overlap(piece):
        return min(end, piece[1]) - max(start, piece[0])

    inside = [text for s, e, text in pieces if text and overlap((s, e)) >= 0.5 * (e - s) > 0]
    if inside:
        return " ".join(inside)
    best = max(pieces, key=overlap)
    return best[2] if overlap(best) > 0 else ""


def translate_highlights(highlights: Sequence[Highlight], segments: Sequence[Segment], main_language: str,
                         translate: Translate, by: str) -> dict[int, QuoteTranslation]:
    """Translations of the highlights spoken in another language than English, by highlight rank."""
    found: dict[int, QuoteTranslation] = {}
    for highlight in highlights:
        language = spoken_language(segments, highlight.start, highlight.end, main_language)
        if language != TARGET and (translation := translate_highlight(highlight, language, translate, by)):
            found[highlight.rank] = translation
    return found


def whisper_translator(media_path: str, settings: Settings, engine: str, model: str) -> tuple[Translate, str]:
    """Whisper's translate task over spans of ``media_path``, and its label for review."""
    model = MULTILINGUAL_MODEL if is_english_only(model) else model  # an English-only model cannot translate
    transcriber = get_transcriber(engine, ModelStore(settings.models_dir, settings.models))

    def translate(start: float, end: float, language: str) -> list[tuple[float, float, str]]:
        audio = decode_span(media_path, start, end)
        options = replace(TranscribeOptions.from_settings(settings.transcribe, model=model, language=language),
                          task=TRANSLATE)
        result = transcriber.transcribe(audio, options)
        return [(start + segment.start, start + segment.end, segment.text) for segment in result.segments]

    return translate, f"Whisper {model} ({engine}), translate task"
