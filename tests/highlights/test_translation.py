"""Highlights spoken in another language than the posts', quoted as an English machine translation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from pipeline import review
from pipeline.access import auth
from pipeline.core.errors import ConfigError
from pipeline.highlights.select import Highlight
from pipeline.highlights.translation import spoken_language, translate_highlight, translate_highlights
from pipeline.store.clients import build_profile
from pipeline.store.db import Database
from pipeline.store.models import Draft, Highlight as HighlightRow
from pipeline.transcribe.base import Segment
from tests.helpers import media as mf
from tests.helpers.cli import castmill, castmill_json

FRENCH = ("Bonjour à tous et bienvenue dans notre émission. Aujourd'hui nous parlons de la cuisine française et des "
          "marchés de Paris. Le matin, les marchands installent leurs étals sur la place. On y trouve des fromages, du "
          "pain frais et des légumes de saison. Pourquoi est-ce que les marchés sont si importants? Parce que c'est "
          "là que les familles se retrouvent chaque semaine. C'est un moment très agréable pour tout le monde. "
          "Les enfants goûtent les fruits, et les parents discutent avec les producteurs.")
FRENCH_WORDS = {"les", "des", "nous", "est", "et", "pour", "la", "le", "du", "sur"}
ENGLISH_WORDS = {"the", "a", "to", "we", "you", "is", "and", "of", "in", "are", "this", "for", "it", "on", "with",
                 "very", "that", "there", "they", "everyone", "market", "markets"}


def segment(start: float, end: float, language: str) -> Segment:
    return Segment(start, end, " words", (), language)


def highlight(rank: int, start: float, end: float, quote_span=(0.0, 0.0)) -> Highlight:
    return Highlight(rank=rank, start=start, end=end, score=1.0, features={}, reasons=[], caveats=[], text="…",
                     quote="…", title="…", key_phrases=[], hashtags=[], first_sentence=0, last_sentence=0,
                     quote_span=quote_span)


def test_a_highlights_language_is_that_of_most_of_its_seconds():
    segments = [segment(0, 10, "en"), segment(10, 30, "fr"), segment(30, 34, "en")]
    assert spoken_language(segments, 5, 34, "en") == "fr"  # 20 s of French, 9 s of English
    assert spoken_language(segments, 0, 12, "en") == "en"
    assert spoken_language(segments, 40, 50, "id") == "id"  # no speech there: the episode's language
    assert spoken_language([segment(0, 5, "pt-BR")], 0, 5, "en") == "pt"


def test_only_highlights_spoken_in_another_language_are_translated_each_whole_and_its_quote():
    heard = []

    def translate(start, end, language):
        heard.append((start, end, language))
        return [(start, start + 14, " Why do markets matter?"), (start + 14, end, " Because families meet there.")]

    segments = [segment(0, 20, "en"), segment(20, 60, "fr")]
    found = translate_highlights([highlight(1, 0, 18), highlight(2, 25, 55, quote_span=(40, 45))], segments, "en",
                                 translate, "a translator")
    assert list(found) == [2]
    assert heard == [(25, 55, "fr")]  # one decode: the quote is what was said over its time
    translation = found[2].to_dict()
    assert translation["from"] == "fr" and translation["to"] == "en" and translation["by"] == "a translator"
    assert translation["quote"] == "Because families meet there."
    assert translation["text"] == "Why do markets matter? Because families meet there."
    assert translation["title"] == "Why do markets matter?"  # the opening question, as for spoken titles
    assert "markets" in " ".join(translation["key_phrases"]).lower()
    assert all(tag.startswith("#") for tag in translation["hashtags"])


def test_an_empty_translation_leaves_the_quote_as_spoken():
    assert translate_highlight(highlight(1, 0, 20), "fr", lambda *_: [(0, 20, "  ")], "x") is None
    assert translate_highlight(highlight(1, 0, 20), "fr", lambda *_: [], "x") is None
    # A quote no piece overlaps much takes the piece it overlaps most.
    pieces = [(0, 8, " First part."), (8, 20, " Second part.")]
    assert translate_highlight(highlight(1, 0, 20, (7, 9.5)), "fr", lambda *_: pieces, "x").quote == "Second part."


def test_translation_into_another_language_than_english_is_refused():
    with pytest.raises(ConfigError, match=r"^translate_quotes: Whisper translates only into English, and the posts' "
                                          r"language is 'id'; set language = \"en\" or turn translate_quotes off"):
        build_profile(slug="kopi", name="Kopi", language="id", languages=["id"], translate_quotes=True)
    assert build_profile(slug="kopi", name="Kopi", language="en", languages=["id"], translate_quotes=True).translate_quotes


@pytest.mark.slow
def test_a_french_show_for_english_posts_is_quoted_in_english_and_labelled_in_review(castmill_home, settings, tmp_path):
    profile = tmp_path / "marche.toml"
    profile.write_text('slug = "marche"\nname = "Le Marché"\nlanguage = "en"\nlanguages = ["fr"]\n'
                       'translate_quotes = true\nplatforms = ["x", "linkedin"]\n')
    assert castmill("client", "import", str(profile)).exit_code == 0
    wav = mf.speech_wav(tmp_path / "fr.wav", FRENCH, voice="fr")
    audio = tmp_path / "episode.mp3"
    mf.ffmpeg("-i", str(wav), "-ac", "1", "-b:a", "64k", str(audio))
    result, report = castmill_json("process", "--client", "marche", str(audio))
    assert result.exit_code == 0, result.stderr
    assert report["episodes"][0]["highlights"] >= 1, report

    db = Database(settings.database_url)
    with db.session() as session:
        rows = list(session.scalars(select(HighlightRow)))
        assert rows and all(row.translation and row.translation["from"] == "fr" for row in rows)
        for row in rows:
            spoken = set(re.findall(r"[a-zà-ÿ']+", row.quote.lower()))
            translated = set(re.findall(r"[a-z']+", row.translation["quote"].lower()))
            assert len(spoken & FRENCH_WORDS) >= 1, row.quote  # the quote as said is French …
            assert len(translated & ENGLISH_WORDS) >= 2 and len(translated & FRENCH_WORDS) <= 1, row.translation
        va = auth.system_identity("test VA")
        cards = [review.draft_detail(session, va, draft_id) for draft_id in
                 session.scalars(select(Draft.id).where(Draft.highlight_key != "episode"))]
        assert cards and all(card.translation and card.translation["from"] == "fr" for card in cards)
        assert all(card.translation["quote"] in card.text for card in cards)  # the post quotes the translation
        episode_post = review.draft_detail(session, va, session.scalar(
            select(Draft.id).where(Draft.highlight_key == "episode")))
        assert episode_post.translation is None
    db.dispose()
