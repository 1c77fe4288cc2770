"""Whisper's translate task: an English caption track for speech in another language, labelled as such."""

from __future__ import annotations

import json
import re

import pytest

from pipeline.core.errors import ConfigError
from pipeline.transcribe.base import TRANSLATE, Segment, TranscribeOptions, TranscriptResult, Word
from pipeline.transcribe.export import render
from tests.helpers.cli import castmill
from tests.helpers.media import speech_wav

# French, not Indonesian: on espeak-ng's Indonesian voice Whisper base's translate task writes the Indonesian
# it hears instead of translating it (measured); its French it does translate.
FRENCH = ("Bonjour à tous. Aujourd'hui nous parlons de la cuisine française et des marchés de Paris. Le matin, les "
          "marchands installent leurs étals sur la place. C'est un moment très agréable pour toute la famille.")

ENGLISH_WORDS = {"the", "a", "an", "to", "we", "you", "is", "and", "of", "in", "are", "about", "this", "for", "be", "but",
                 "it", "at", "on", "with", "very", "all", "after", "that", "there", "they", "our", "is", "was"}


def test_only_a_multilingual_model_can_translate():
    with pytest.raises(ConfigError, match=r"tiny\.en hears only English and cannot translate: use a multilingual model"):
        TranscribeOptions(model="tiny.en", task=TRANSLATE)
    with pytest.raises(ConfigError, match="unknown transcription task 'summarise'"):
        TranscribeOptions(model="base", task="summarise")
    assert TranscribeOptions(model="base", task=TRANSLATE).cache_key("x") != TranscribeOptions(model="base").cache_key("x")


def test_a_translation_says_so_in_every_format():
    words = (Word(" Good", 0.0, 0.4, 0.9), Word(" morning.", 0.4, 0.9, 0.9))
    result = TranscriptResult("id", 2.0, (Segment(0.0, 0.9, " Good morning.", words, "id"),), task=TRANSLATE)
    label = "English translation by Whisper of speech in id; not a transcript"
    assert render(result, "vtt").startswith(f"WEBVTT\n\nNOTE {label}\n\n00:00:00.000 --> ")
    assert render(result, "txt") == f"[{label}]\nGood morning.\n"
    data = json.loads(render(result, "json"))
    assert data["translated_to"] == "en" and data["language"] == "id"
    assert TranscriptResult.from_dict(data).task == TRANSLATE
    plain = TranscriptResult("id", 2.0, result.segments)
    assert "translated_to" not in json.loads(render(plain, "json")) and render(plain, "vtt").startswith("WEBVTT\n\n00:")


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["faster-whisper", "openai-whisper"])
def test_french_speech_becomes_an_english_caption_track(castmill_home, tmp_path, engine):
    audio = speech_wav(tmp_path / "fr.wav", FRENCH, voice="fr")
    result = castmill("transcribe", str(audio), "--translate", "--engine", engine, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["translated_to"] == "en" and data["language"] == "fr"  # the spoken language, detected
    words = set(re.findall(r"[a-z']+", " ".join(s["text"] for s in data["segments"]).lower()))
    assert len(words & ENGLISH_WORDS) >= 3, words
    assert len(words & {"les", "des", "nous", "est", "et", "pour", "la", "le"}) <= 1, words


def test_the_english_only_model_refuses_to_translate(castmill_home, tmp_path):
    audio = speech_wav(tmp_path / "fr.wav", "Bonjour à tous.", voice="fr")
    result = castmill("transcribe", str(audio), "--model", "tiny.en", "--translate")
    assert result.exit_code != 0
    assert "tiny.en hears only English and cannot translate: use a multilingual model (--model base)" in result.stderr
