"""Flags on a decoded segment whose text cannot be trusted.

Two failure modes of Whisper that look like text but are not what was said:

- a repetition loop ("sufraventin, sufraventin, sufraventin…"): the same word or phrase over
  and over, or text that compresses far better than speech does;
- a low-confidence stretch: the model itself gave its words a low probability (speech in a
  language the model does not know well, noise, overlapping voices).

Highlights that contain a flagged segment carry a caveat, and the episode gets a warning.
"""

from __future__ import annotations

import re
import zlib

from pipeline.core.clock import media_position
from pipeline.transcribe.base import Segment

REPETITIVE = "repetitive"
LOW_CONFIDENCE = "low confidence"
# Whisper's own threshold for a failed decode (openai/whisper transcribe.py).
COMPRESSION_RATIO_LIMIT = 2.4
# Shorter text compresses too poorly for the ratio to mean anything.
COMPRESSION_MIN_CHARS = 50
# A word said this many times in a row ("no, no, no" is speech; four times is a loop),
# or a phrase of up to PHRASE_WORDS words said PHRASE_REPEATS times in a row.
WORD_REPEATS = 4
PHRASE_REPEATS = 3
PHRASE_WORDS = 4
# Mean word probability below this: the model was guessing. Clear espeak English decodes at
# about 0.8 with tiny.en; French through tiny.en at 0.3–0.5.
MIN_MEAN_PROBABILITY = 0.45
# Too few words for their mean to say anything.
MIN_WORDS = 3

_WORD = re.compile(r"\w+", re.UNICODE)


def compression_ratio(text: str) -> float:
    data = text.encode()
    return len(data) / len(zlib.compress(data)) if data else 0.0


def is_repetitive(text: str) -> bool:
    if len(text) >= COMPRESSION_MIN_CHARS and compression_ratio(text) > COMPRESSION_RATIO_LIMIT:
        return True
    words = [w.lower() for w in _WORD.findall(text)]
    for size in range(1, PHRASE_WORDS + 1):
        repeats = WORD_REPEATS if size == 1 else PHRASE_REPEATS
        for start in range(len(words) - size * repeats + 1):
            phrase = words[start:start + size]
            if all(words[start + k * size:start + (k + 1) * size] == phrase for k in range(1, repeats)):
                return True
    return False


def is_low_confidence(segment: Segment) -> bool:
    words = [w for w in segment.words if w.word.strip()]
    return len(words) >= MIN_WORDS and sum(w.probability for w in words) / len(words) < MIN_MEAN_PROBABILITY


def quality_flags(segment: Segment) -> tuple[str, ...]:
    """What is doubtful about ``segment`` (empty when nothing is)."""
    flags = []
    if is_repetitive(segment.text):
        flags.append(REPETITIVE)
    if is_low_confidence(segment):
        flags.append(LOW_CONFIDENCE)
    return tuple(flags)


def quality_warnings(segments: tuple[Segment, ...] | list[Segment]) -> list[str]:
    """One warning naming where the decoding is doubtful (empty when nowhere)."""
    flagged = [s for s in segments if s.flags]
    if not flagged:
        return []
    kinds = sorted({flag for s in flagged for flag in s.flags})
    places = ", ".join(f"{media_position(s.start)}–{media_position(s.end)}" for s in flagged[:4])
    more = f" and {len(flagged) - 4} more" if len(flagged) > 4 else ""
    return [f"{len(flagged)} stretch(es) decoded as {' or '.join(kinds)} ({places}{more}): check the transcript "
            f"there; highlights that include them carry a caveat"]
