"""Which model and language a transcription uses, from the languages spoken on the show.

The bundled ``tiny.en`` hears only English: a French or Indonesian episode comes out as
confident English-sounding nonsense. So the ``auto`` model setting picks ``tiny.en`` only when
every spoken language is English, and the multilingual ``base`` otherwise. A show with exactly
one known language is decoded in that language; a show with several (or ``auto``) is detected.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from pipeline.core.vocab import (
    AUTO_LANGUAGE, AUTO_MODEL, ENGLISH_ONLY_MODEL, MULTILINGUAL_MODEL, base_language, is_english, is_english_only,
)
from pipeline.transcribe.base import TranscribeOptions


def describe_shares(shares: dict[str, float]) -> str:
    """"id 62% · en 38%": an episode's languages, largest share first."""
    return " · ".join(f"{code} {share:.0%}" for code, share in shares.items())


def model_for(configured: str, spoken: Sequence[str]) -> str:
    """The model to load: ``configured`` unless it is "auto", then by the spoken languages."""
    if configured != AUTO_MODEL:
        return configured
    return ENGLISH_ONLY_MODEL if spoken and all(is_english(code) for code in spoken) else MULTILINGUAL_MODEL


def language_for(spoken: Sequence[str]) -> str | None:
    """The language to decode in: the one spoken language, or None (detect) for several or "auto"."""
    known = {base_language(code) for code in spoken if code != AUTO_LANGUAGE}
    return known.pop() if len(known) == 1 and AUTO_LANGUAGE not in spoken else None


def candidate_languages(spoken: Sequence[str]) -> tuple[str, ...]:
    """The languages a stretch is heard as first: the show's several known ones (empty: any)."""
    if AUTO_LANGUAGE in spoken:
        return ()
    known = sorted({base_language(code) for code in spoken})
    return tuple(known) if len(known) > 1 else ()


def for_speakers(options: TranscribeOptions, spoken: Sequence[str]) -> TranscribeOptions:
    """``options`` with the model and language resolved for a show in ``spoken`` languages.

    A language already set (``--language``) wins over the profile's.
    """
    model = model_for(options.model, spoken)
    if model == ENGLISH_ONLY_MODEL:  # it hears English only: a language from the profile changes nothing
        return dataclasses.replace(options, model=model)
    language = options.language or language_for(spoken)
    return dataclasses.replace(options, model=model, language=language,
                               languages=() if language else candidate_languages(spoken))
