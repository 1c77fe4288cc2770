"""Say it when the model cannot hear the show: warnings stored with the transcript.

Two cases give a warning, never silent nonsense:

- The English-only model transcribed audio that the multilingual model hears as another
  language (``tiny.en`` writes confident English for French or Indonesian speech).
- The language heard is not among the client's spoken languages (a profile that says "en"
  for a show in Indonesian, or a guest who speaks another language).

The check runs the multilingual model's language detection on a few 30-second windows spread
over the episode, which costs about a second. It runs only when the decode itself did not
detect the language, that is when the model is English-only or the language was fixed.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.core.vocab import AUTO_LANGUAGE, MULTILINGUAL_MODEL, base_language, is_english_only, language_name
from pipeline.core.clock import media_position
from pipeline.transcribe.base import SAMPLE_RATE, TranscribeOptions, TranscriptResult

WINDOW_SECONDS = 30
WINDOWS = 3  # spread over the episode: a show that opens with an English intro is still caught
MIN_PROBABILITY = 0.5  # below this the guess is too unsure to warn about
# window -> [(language, probability)], most likely first
Ranker = Callable[[np.ndarray], Sequence[tuple[str, float]]]


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    probability: float


def sample_windows(audio: np.ndarray) -> list[np.ndarray]:
    """Up to WINDOWS copies of 30 s spread over ``audio`` (copies: the episode's audio can be freed)."""
    window = WINDOW_SECONDS * SAMPLE_RATE
    if audio.size < SAMPLE_RATE:
        return []
    last = max(0, audio.size - window)
    starts = sorted({round(last * k / (WINDOWS - 1)) for k in range(WINDOWS)}) if last else [0]
    return [audio[start:start + window].copy() for start in starts]


def detect_language(windows: list[np.ndarray], rank: Ranker) -> LanguageGuess | None:
    """The language ``rank`` hears in ``windows``, averaged (None without audio)."""
    if not windows:
        return None
    totals: dict[str, float] = defaultdict(float)
    for window in windows:
        for language, probability in rank(window):
            totals[language] += probability / len(windows)
    language = max(totals, key=totals.get)
    return LanguageGuess(language, round(totals[language], 3))


def ranker_for(transcriber, options: TranscribeOptions) -> Ranker:
    """The engine's own detector when its model is multilingual (already loaded for the decode);
    for an English-only model, the multilingual model, loaded once per process."""
    if not is_english_only(options.model):
        return lambda window: transcriber.detect(window, options)
    model = _detector(str(transcriber.store.ct2_model(MULTILINGUAL_MODEL)))
    return lambda window: [(language, float(p)) for language, p in model.detect_language(window)[2]]


@functools.lru_cache(maxsize=1)
def _detector(model_dir: str):
    """The multilingual model for English-only decodes: detection does not sample, so reuse is safe."""
    from faster_whisper import WhisperModel

    return WhisperModel(model_dir, device="cpu", compute_type="int8")


def needs_check(options: TranscribeOptions) -> bool:
    """Whether the decode could not tell the language itself."""
    return is_english_only(options.model) or options.language is not None


def language_warnings(result: TranscriptResult, spoken: Sequence[str], guess: LanguageGuess | None) -> list[str]:
    """What to tell the VA about the transcript's languages (empty: nothing to say).

    ``guess`` is the detector's hearing when the decode could not detect (``needs_check``);
    otherwise each segment carries the language its stretch was heard in.
    """
    if guess is not None and guess.probability < MIN_PROBABILITY:
        return []  # too unsure to say anything
    heard = "" if guess is None else f"the audio sounds like {language_name(guess.language)} ({guess.probability:.0%} sure)"
    if guess is not None and is_english_only(result.model) and guess.language != "en":
        return [f"{heard}, but {result.model} hears only English, so this transcript is likely nonsense: add "
                f"languages = [\"{guess.language}\"] to the client's profile (or process with --model "
                f"{MULTILINGUAL_MODEL})"]
    expected = {base_language(code) for code in spoken}
    if AUTO_LANGUAGE in expected:
        return []
    if guess is not None:
        if guess.language in expected:
            return []
        return [f"{heard}, which is not among the client's spoken languages ({', '.join(sorted(expected))}), but it "
                f"was transcribed as {language_name(result.language)} as set: check the profile's languages"]
    return [f"{_where(spans)}sounds like {language_name(language)}, which is not among the client's spoken "
            f"languages ({', '.join(sorted(expected))}): transcribed as {language_name(language)}; check the "
            "profile's languages"
            for language, spans in _spans_by_language(result).items() if language not in expected]


def _spans_by_language(result: TranscriptResult) -> dict[str, list[tuple[float, float]]]:
    """Each language's stretches, neighbouring segments joined."""
    spans: dict[str, list[tuple[float, float]]] = {}
    previous = None
    for segment in result.segments:
        language = segment.language or result.language
        if language == previous:
            spans[language][-1] = (spans[language][-1][0], segment.end)
        else:
            spans.setdefault(language, []).append((segment.start, segment.end))
        previous = language
    return spans


def _where(spans: list[tuple[float, float]]) -> str:
    """"0:35–1:10, 3:00–3:30: the speech " for the stretches of one language."""
    shown = ", ".join(f"{media_position(start)}–{media_position(end)}" for start, end in spans[:3])
    return f"{shown}{' …' if len(spans) > 3 else ''}: the speech "
