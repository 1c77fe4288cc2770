"""The model and language a show's spoken languages choose, and the profile field that holds them."""

from __future__ import annotations

import pytest

from pipeline.core.errors import ConfigError
from pipeline.core.settings import ClientProfile
from pipeline.core.vocab import WHISPER_LANGUAGES
from pipeline.store.clients import build_profile
from pipeline.transcribe import TranscribeOptions
from pipeline.transcribe.languages import for_speakers, language_for, model_for


@pytest.mark.parametrize("configured, spoken, expected", [
    ("auto", ["en"], "tiny.en"),
    ("auto", ["en", "en-GB"], "tiny.en"),
    ("auto", ["id"], "base"),
    ("auto", ["en", "id"], "base"),
    ("auto", ["auto"], "base"),
    ("auto", [], "base"),
    ("small", ["en"], "small"),  # a model the settings name is used as named
    ("tiny.en", ["id"], "tiny.en"),
])
def test_the_model_follows_the_spoken_languages(configured, spoken, expected):
    assert model_for(configured, spoken) == expected


@pytest.mark.parametrize("spoken, expected", [
    (["id"], "id"), (["en", "id"], None), (["auto"], None), (["id", "auto"], None), (["pt-BR"], "pt"),
])
def test_one_spoken_language_is_decoded_as_such_several_are_detected(spoken, expected):
    assert language_for(spoken) == expected


def test_an_explicit_language_wins_and_the_english_model_keeps_its_options():
    assert for_speakers(TranscribeOptions(model="auto", language="fr"), ["id"]).language == "fr"
    indonesian = for_speakers(TranscribeOptions(model="auto"), ["id"])
    assert (indonesian.model, indonesian.language) == ("base", "id")
    english = for_speakers(TranscribeOptions(model="auto"), ["en"])
    assert english == TranscribeOptions(model="tiny.en")  # same cache key as before: nothing is redone


def test_whisper_languages_match_the_tokenizer():
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert WHISPER_LANGUAGES == tuple(_LANGUAGE_CODES)


def test_an_unknown_spoken_language_is_refused_with_the_codes():
    with pytest.raises(ConfigError, match=r"languages: .*unknown spoken language 'xx'; use \"auto\" or one of: af, am"):
        build_profile(slug="acme", name="Acme", languages=["xx"])
    assert ClientProfile(slug="acme", name="Acme", languages=["en", "id"]).languages == ["en", "id"]


def test_a_multilingual_model_decodes_in_smaller_batches():
    from pipeline.core.settings import TranscribeSettings

    settings = TranscribeSettings()
    base = for_speakers(TranscribeOptions.from_settings(settings), ["en", "id"])
    english = for_speakers(TranscribeOptions.from_settings(settings), ["en"])
    assert (base.model, base.effective_batch_size) == ("base", 4)
    assert (english.model, english.effective_batch_size) == ("tiny.en", 8)
    assert TranscribeOptions(model="base", batch_size=2).effective_batch_size == 2  # a smaller batch stays
    assert "batch=4" in base.cache_key("faster-whisper")
