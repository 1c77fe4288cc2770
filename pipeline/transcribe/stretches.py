"""Language per stretch: which language each part of an episode is spoken in.

Given one language for a whole file, the multilingual model writes a French stretch of an
English show as an English translation, and an Indonesian guest in an English show the same
way. So, unless the language is fixed, the speech is cut into windows of about 30 seconds
(the model's own context), the engine hears the language of each window, neighbouring
windows in the same language are joined into a stretch, and each stretch is decoded with its
own language token.

Without the show's languages, a window takes the detector's first choice; a window it is
unsure of takes the episode's main language. With the client's languages known
(``TranscribeOptions.languages``), a window the detector gives to one of them with confidence
is that language. Otherwise the detector is not to be trusted (espeak Indonesian is heard as
Thai, real Indonesian often as Malay), and the window is decoded briefly in each of the
client's languages, and in the detector's choice unless it is a wild guess: the language whose decode
the model finds likeliest wins. Measured on espeak speech (per-token log-probability, greedy):
Indonesian decodes at -0.62 as Indonesian, -0.81 as English, -0.89 as Thai (the detector's
choice, 76 %); French at -0.94 as French, -1.22 as Indonesian, -2.78 as English.
A trial that falls into a repetition loop loses whatever its score. Only profile languages
and the detector's choice are tried: Thai text scores well on any
audio (English speech decodes at -0.27 as Thai), so an open contest would be won by Thai. And
English is tried only when the detector hears some English (see CONTEST_PROBABILITY).

A switch rarely falls on a window's edge. Where two neighbouring windows differ, the speech
between their middles (the later part of one, the earlier part of the other: each window is
mostly its own language) is heard again in pieces of about REFINE_SECONDS, each settled between
the two languages as above, so a stretch starts at the piece where the other language begins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.transcribe.base import TranscribeOptions
from pipeline.transcribe.bounds import window_bounds
from pipeline.core.vocab import base_language, is_english_only
from pipeline.transcribe.vad import SpeechOnly

# The model's context is 30 s; a little under it so a window is heard whole.
DETECT_SECONDS = 29.0
# Below this the detector's first choice is a guess.
MIN_PROBABILITY = 0.5
# A first choice outside the client's languages joins the contest from this probability on, and so does
# English: told that speech is English, the model translates it, and a fluent translation scores well
# (French speech decodes at -0.21 as English, -1.0 as French), so English must have the detector's support.
CONTEST_PROBABILITY = 0.2
# Where two windows differ, the switch is placed to within a piece of about this length.
REFINE_SECONDS = 8.0


@dataclass(frozen=True)
class Hearing:
    """How an engine hears the language of a window of at most 30 s."""

    # window -> [(language, probability)], most likely first
    rank: Callable[[np.ndarray], Sequence[tuple[str, float]]]
    # (window, language) -> mean log-probability per token of a quick decode in that language
    score: Callable[[np.ndarray, str], float]


@dataclass(frozen=True)
class Stretch:
    start: int  # samples of the speech-only audio, [start, end)
    end: int
    language: str | None  # None: the decoder detects (no way to hear it beforehand)
    probability: float = 1.0


def window_language(window: np.ndarray, allowed: Sequence[str], hearing: Hearing) -> tuple[str, float]:
    """The language of ``window`` and how sure the detector is (see the module's text)."""
    ranked = hearing.rank(window)
    top, probability = ranked[0]
    known = sorted({base_language(code) for code in allowed})
    if not known or (top in known and probability >= MIN_PROBABILITY):
        return top, probability
    heard = dict(ranked)
    contenders = [language for language in known if language != "en" or heard.get("en", 0.0) >= CONTEST_PROBABILITY]
    if top not in contenders and probability >= CONTEST_PROBABILITY:
        contenders.append(top)
    if len(contenders) == 1:
        return contenders[0], 1.0
    scores = {language: hearing.score(window, language) for language in contenders}
    best = max(contenders, key=lambda language: scores[language])
    return best, 1.0  # settled by decoding, not a guess


def plan_stretches(speech: SpeechOnly, options: TranscribeOptions, hearing: Hearing | None) -> list[Stretch]:
    """The stretches of ``speech`` and their languages (one stretch when the language is known)."""
    fixed = options.language or ("en" if is_english_only(options.model) else None)
    if fixed or hearing is None or speech.size == 0:
        return [Stretch(0, speech.size, fixed)]
    windows = window_bounds(speech, DETECT_SECONDS)
    guesses = [window_language(speech[start:end], options.languages, hearing) for start, end in windows]
    languages = _settle_unsure(guesses)
    pieces = [(start, end, language, probability)
              for (start, end), language, (_, probability) in zip(windows, languages, guesses)]
    stretches: list[Stretch] = []
    for start, end, language, probability in _refine_switches(speech, pieces, hearing):
        if stretches and stretches[-1].language == language:
            last = stretches[-1]
            stretches[-1] = Stretch(last.start, end, language, min(last.probability, probability))
        else:
            stretches.append(Stretch(start, end, language, probability))
    return stretches


def _refine_switches(speech: SpeechOnly, pieces: list[tuple[int, int, str, float]],
                     hearing: Hearing) -> list[tuple[int, int, str, float]]:
    """``pieces`` with every switch between two windows placed again from shorter pieces (module text)."""
    refined: list[tuple[int, int, str, float]] = []
    carried = pieces[0][0]  # where the next window's own part starts (after the previous switch's region)
    for index, (start, end, language, probability) in enumerate(pieces):
        following = pieces[index + 1] if index + 1 < len(pieces) else None
        if following is None or following[2] == language:
            refined.append((carried, end, language, probability))
            carried = end
            continue
        middle, next_middle = (start + end) // 2, (following[0] + following[1]) // 2
        if middle > carried:
            refined.append((carried, middle, language, probability))
        region_start = max(middle, carried)
        for piece_start, piece_end in window_bounds(speech, REFINE_SECONDS, (region_start, next_middle)):
            heard, _ = window_language(speech[piece_start:piece_end], (language, following[2]), hearing)
            # Settled between the two: a third language heard in a few seconds is not trusted, and the
            # piece keeps the language of the window it lies in.
            nearer = language if (piece_start + piece_end) // 2 < following[0] else following[2]
            chosen = heard if heard in (language, following[2]) else nearer
            refined.append((piece_start, piece_end, chosen, min(probability, following[3])))
        carried = next_middle
    return refined


def _settle_unsure(guesses: list[tuple[str, float]]) -> list[str]:
    """Each window's language; an unsure window takes the language most windows are sure of."""
    counts = Counter(language for language, probability in guesses if probability >= MIN_PROBABILITY) \
        or Counter(language for language, _ in guesses)
    main = min(counts, key=lambda language: (-counts[language], language))
    return [language if probability >= MIN_PROBABILITY else main for language, probability in guesses]
