"""Shows in more than one language, end to end: each stretch transcribed in its own language, an
English+Indonesian episode through `castmill process` to approved Indonesian drafts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline import review
from pipeline.access import auth
from pipeline.store.db import Database
from pipeline.store.models import Draft, Transcript
from tests.helpers import media as mf
from tests.helpers.cli import castmill, castmill_json

ENGLISH = ("Welcome back to the show. Today we talk about how small businesses can grow with social media. "
           "The first thing you need is a clear message. Tell people what you do and why it matters. "
           "Post often, and answer every comment.")
FRENCH = ("Bonjour à tous. Aujourd'hui nous parlons de la cuisine française et des marchés de Paris. Le matin, les "
          "marchands installent leurs étals sur la place. On y trouve des fromages, du pain frais et des légumes de "
          "saison. C'est un moment très agréable pour toute la famille.")
INDONESIAN = ("Hari ini kita akan membahas cara membangun bisnis kecil dengan media sosial. Jadi, yang pertama harus "
              "kamu punya adalah pesan yang jelas. Kasih tahu orang apa yang kamu kerjakan dan kenapa itu penting. "
              "Kayak gitu, kepercayaan dibangun pelan-pelan. Tiga hal paling penting adalah konsisten, jujur, "
              "dan sabar. Jangan pernah berhenti belajar dari pendengar kamu.")
FRENCH_WORDS = {"les", "la", "le", "des", "de", "et", "nous", "pour", "du", "famille", "paris", "est"}
INDONESIAN_WORDS = {"kita", "yang", "jadi", "dan", "itu", "kamu", "bisnis", "media", "sosial", "penting", "hari", "ini"}


def two_languages(tmp_path: Path, first: tuple[str, str], second: tuple[str, str]) -> Path:
    """One speaker in ``first`` (text, espeak voice), then in ``second``, as one mp3."""
    parts = [mf.speech_wav(tmp_path / f"part{k}.wav", text, voice) for k, (text, voice) in enumerate((first, second))]
    out = tmp_path / "episode.mp3"
    mf.ffmpeg("-i", str(parts[0]), "-i", str(parts[1]), "-filter_complex", "[0:a][1:a]concat=n=2:v=0:a=1",
              "-ac", "1", "-b:a", "64k", str(out))
    return out


def words_of(segments: list[dict], language: str) -> set[str]:
    return set(re.findall(r"\w+", " ".join(s["text"] for s in segments if s["language"] == language).lower()))


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["faster-whisper", "openai-whisper"])
def test_english_then_french_comes_out_in_both_languages(castmill_home, tmp_path, engine):
    audio = two_languages(tmp_path, (ENGLISH, "en-us"), (FRENCH, "fr"))
    result = castmill("transcribe", str(audio), "--model", "base", "--engine", engine, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["languages"]) == {"en", "fr"} and min(data["languages"].values()) >= 0.3, data["languages"]
    english, french = words_of(data["segments"], "en"), words_of(data["segments"], "fr")
    assert {"show", "message", "comment"} <= english
    assert len(french & FRENCH_WORDS) >= 4, french  # transcribed in French …
    assert not french & {"the", "and", "of", "is"}, french  # … not translated into English
    french_segments = [s for s in data["segments"] if s["language"] == "fr"]
    assert min(s["start"] for s in french_segments) > max(s["end"] for s in data["segments"] if s["language"] == "en")


def approve_everything(db: Database, slug: str) -> list[review.DraftCard]:
    with db.session() as session:
        va = auth.system_identity("test VA")
        client_reviewer = auth.identity_from_review_link(session, auth.make_review_link_token(session, slug, hours=1,
                                                                                              actor="test"))
        cards = []
        for draft_id in session.scalars(select(Draft.id).order_by(Draft.id)):
            card = review.draft_detail(session, va, draft_id)
            if card.violations:
                continue
            review.approve(session, va, draft_id, version=card.version_number)
            review.approve(session, client_reviewer, draft_id, version=card.version_number)
            cards.append(review.draft_detail(session, va, draft_id))
        return cards


@pytest.mark.slow
def test_an_english_and_indonesian_episode_becomes_approved_indonesian_drafts(castmill_home, settings, tmp_path):
    profile = tmp_path / "kopi.toml"
    # 42 s of speech has room for a cut in each language only when cuts stay under 21 s: with the default
    # limit the first cut (0-25 s) may run into the Indonesian stretch and leave too little for a second.
    profile.write_text('slug = "kopi"\nname = "Kopi Talk"\nlanguage = "id"\nlanguages = ["en", "id"]\n'
                       'platforms = ["x", "linkedin"]\n[highlights]\nmax_seconds = 20\n')
    assert castmill("client", "import", str(profile)).exit_code == 0, "profile"
    audio = two_languages(tmp_path, (ENGLISH, "en-us"), (INDONESIAN, "id"))
    result, report = castmill_json("process", "--client", "kopi", str(audio))
    assert result.exit_code == 0, result.stderr
    [episode] = report["episodes"]
    assert set(episode["languages"]) == {"en", "id"}, episode
    assert not any("not among the client's spoken languages" in w for w in episode["warnings"])

    db = Database(settings.database_url)
    with db.session() as session:
        [transcript] = session.scalars(select(Transcript))
        assert len(words_of(transcript.segments, "id") & INDONESIAN_WORDS) >= 6
        assert {"show", "message"} <= words_of(transcript.segments, "en")
    cards = approve_everything(db, "kopi")
    db.dispose()
    assert cards and all(card.status == review.APPROVED for card in cards)
    indonesian = [c for c in cards if len(set(re.findall(r"\w+", c.text.lower())) & INDONESIAN_WORDS) >= 3]
    assert indonesian, [c.text for c in cards]  # the quotes are the Indonesian speech …
    assert all(c.language == "id" for c in cards)  # … in the client's Indonesian templates


@pytest.mark.slow
def test_a_stretch_in_a_language_outside_the_profile_is_a_warning_and_still_transcribed(castmill_home, settings,
                                                                                         tmp_path):
    profile = tmp_path / "kopi.toml"
    profile.write_text('slug = "kopi"\nname = "Kopi Talk"\nlanguage = "id"\nlanguages = ["en", "id"]\n')
    castmill("client", "import", str(profile))
    audio = two_languages(tmp_path, (ENGLISH, "en-us"), (FRENCH, "fr"))
    result, report = castmill_json("process", "--client", "kopi", str(audio))
    assert result.exit_code == 0, result.stderr
    [episode] = report["episodes"]
    [warning] = [w for w in episode["warnings"] if "not among the client's spoken languages" in w]
    assert re.match(r"0:\d\d–0:\d\d: the speech sounds like French \(fr\), which is not among the client's spoken "
                    r"languages \(en, id\): transcribed as French", warning), warning
    listed = castmill_json("episodes", "list", "--client", "kopi")[1]
    assert warning in listed[0]["warnings"] and set(listed[0]["languages"]) == {"en", "fr"}
