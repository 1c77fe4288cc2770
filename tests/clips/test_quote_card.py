"""Quote cards: sizes, text kept inside the safe area, fitting and shortening, colours, accents and emoji,
byte-identical output, reuse, client scoping, the profile's [clips.card] table and the CLI."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import get_args

import numpy as np
import pytest
from PIL import Image

from pipeline.access.identity import system_identity
from pipeline.clips.quote_card import CARD_SIZES, CardStyle, render_card, render_quote_cards
from pipeline.core.errors import ConfigError, MediaError, NotFoundError
from pipeline.core.settings import CardSettings, ClipSettings, load_client_profile
from pipeline.store.models import Client, Clip, Episode, Highlight
from tests.helpers.calendar import client_identity
from tests.helpers.cli import castmill

STYLE = CardStyle()
SHORT = "Consistency beats intensity."
LONG = ("The biggest mistake I see new podcasters make is treating every episode like a launch: they burn out "
        "after ten weeks, when the audience was only just starting to find them and trust that they would keep "
        "showing up.")
VERY_LONG = " ".join(
    ["Kami mulai dari warung kecil di Yogyakarta, dan setiap pagi saya bangun jam empat untuk menyiapkan kopi, "
     "roti, dan semua yang dibutuhkan pelanggan pertama."] * 6)
INDONESIAN = "Bu Sénah bilang: kopi tubruk di kafé kami dibuat dengan cinta, bukan dengan mesin — ça coûte très peu."
CARD_COLOURS = {"background": "#FFEEDD", "text": "#102030", "accent": "#C0392B"}


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[k:k + 2], 16) for k in (1, 3, 5))


def ink_bounds(path: Path, background: str = STYLE.background) -> tuple[int, int, int, int]:
    """(left, top, right, bottom), exclusive, of every pixel not in the background colour."""
    drawn = np.any(pixels(path) != rgb(background), axis=2)
    rows, cols = np.nonzero(drawn.any(axis=1))[0], np.nonzero(drawn.any(axis=0))[0]
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def safe_area(aspect: str) -> tuple[int, int, int, int]:
    width, height = CARD_SIZES[aspect]
    margin = round(STYLE.margin * width)
    return margin, margin, width - margin, height - margin


def card(tmp_path: Path, quote: str, aspect: str = "4:5", name: str = "card.png", **options):
    return render_card(quote, tmp_path / name, speaker=options.pop("speaker", "Dinda"),
                       show=options.pop("show", "Acme Podcast"), aspect=aspect, **options)


# --- drawing ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("aspect", ["4:5", "1:1"])
def test_cards_have_the_exact_size(tmp_path, aspect):
    made = card(tmp_path, SHORT, aspect)
    with Image.open(made.path) as image:
        assert (image.format, image.size) == ("PNG", CARD_SIZES[aspect])
    assert made.size == CARD_SIZES[aspect] == {"4:5": (1080, 1350), "1:1": (1080, 1080)}[aspect]


@pytest.mark.parametrize("aspect", ["4:5", "1:1"])
def test_short_and_long_quotes_fit_inside_the_safe_area_at_the_largest_size_that_fits(tmp_path, aspect):
    short = card(tmp_path, SHORT, aspect, "short.png")
    long = card(tmp_path, LONG, aspect, "long.png")
    assert short.font_size == round(STYLE.max_size * 1080) and not short.shortened
    assert round(STYLE.min_size * 1080) <= long.font_size < short.font_size and not long.shortened
    left, top, right, bottom = safe_area(aspect)
    for made in (short, long):
        ink = ink_bounds(made.path)
        assert ink[0] >= left and ink[1] >= top and ink[2] <= right and ink[3] <= bottom, (made.font_size, ink)
        assert ink[3] > bottom - 20  # the show name rests on the safe area's bottom edge


@pytest.mark.parametrize("aspect", ["4:5", "1:1"])
def test_a_very_long_quote_is_shortened_at_a_word_and_still_stays_inside(tmp_path, aspect):
    made = card(tmp_path, VERY_LONG, aspect)
    assert made.shortened and made.font_size == round(STYLE.min_size * 1080)
    left, top, right, bottom = safe_area(aspect)
    ink = ink_bounds(made.path)
    assert ink[0] >= left and ink[1] >= top and ink[2] <= right and ink[3] <= bottom, ink
    assert made.alt_text == f"Quote card: “{VERY_LONG}” — Dinda, Acme Podcast"


def test_shortening_cuts_between_words_and_ends_with_an_ellipsis():
    from pipeline.clips.captions import font_file
    from pipeline.clips.card_layout import Box, fit_quote, load_font

    font = font_file(STYLE.font)
    fitted = fit_quote(VERY_LONG, font, Box(0, 0, 900, 500), 92, 45, 2, 1.25)
    text = " ".join(fitted.block.lines)
    assert fitted.shortened and text.startswith("“Kami") and text.endswith("…”")
    words, kept = VERY_LONG.split(), text[1:-2].split()
    assert kept[:-1] == words[:len(kept) - 1] and kept[-1] == words[len(kept) - 1].rstrip(",;:")
    assert all(load_font(font, 45).getbbox(line, anchor="la")[2] <= 900 for line in fitted.block.lines)


def test_the_clients_background_is_the_dominant_colour(tmp_path):
    style = CardStyle(**CARD_COLOURS)
    made = card(tmp_path, LONG, style=style)
    counts = Counter(map(tuple, pixels(made.path).reshape(-1, 3).tolist()))
    colour, count = counts.most_common(1)[0]
    assert colour == rgb(CARD_COLOURS["background"]) and count > 0.6 * sum(counts.values())
    assert counts[rgb(CARD_COLOURS["text"])] > 1000  # the quote is drawn in the text colour
    assert counts[rgb(CARD_COLOURS["accent"])] > 500  # the rule and the speaker line in the accent


def test_indonesian_and_french_accents_are_drawn_not_dropped(tmp_path):
    accented = card(tmp_path, INDONESIAN, name="accented.png")
    plain = card(tmp_path, INDONESIAN.replace("é", "e").replace("ç", "c").replace("û", "u"), name="plain.png")
    assert not accented.shortened and "Sénah" in accented.alt_text and "ça coûte" in accented.alt_text
    assert np.any(pixels(accented.path) != pixels(plain.path))  # the accents are on the card


def test_emoji_and_characters_the_font_lacks_are_left_out_without_error(tmp_path):
    with_emoji = card(tmp_path, "Kopi pagi 🔥 bikin 👍🏽 semangat ☕", name="emoji.png")
    with_cjk = card(tmp_path, "Kopi pagi 漢 bikin semangat", name="cjk.png")
    plain = card(tmp_path, "Kopi pagi bikin semangat", name="plain.png")
    assert with_emoji.path.read_bytes() == plain.path.read_bytes()
    assert with_cjk.path.read_bytes() == plain.path.read_bytes()
    assert with_emoji.alt_text == "Quote card: “Kopi pagi bikin semangat” — Dinda, Acme Podcast"
    with pytest.raises(MediaError, match="nothing a card can show"):
        card(tmp_path, "🔥🔥", name="only-emoji.png")


def test_the_same_inputs_give_byte_identical_pngs_without_metadata(tmp_path):
    first = card(tmp_path, LONG, name="first.png").path.read_bytes()
    second = card(tmp_path, LONG, name="second.png").path.read_bytes()
    assert first == second
    assert png_chunks(first) == {"IHDR", "IDAT", "IEND"}  # no tIME, tEXt or other metadata


def png_chunks(data: bytes) -> set[str]:
    chunks, offset = set(), 8
    while offset < len(data):
        length = int.from_bytes(data[offset:offset + 4], "big")
        chunks.add(data[offset + 4:offset + 8].decode("ascii"))
        offset += 12 + length
    return chunks


def test_without_a_speaker_the_card_names_only_the_show(tmp_path):
    named = card(tmp_path, SHORT, name="named.png")
    anonymous = card(tmp_path, SHORT, name="anonymous.png", speaker="")
    assert anonymous.alt_text == f"Quote card: “{SHORT}” — Acme Podcast"
    accent = rgb(STYLE.accent)
    assert np.sum(np.all(pixels(named.path) == accent, axis=2)) > np.sum(np.all(pixels(anonymous.path) == accent,
                                                                                axis=2))


def test_the_alt_text_is_capped_at_a_word(tmp_path):
    made = card(tmp_path, "word " * 400)
    assert len(made.alt_text) <= 1000 and made.alt_text.endswith("word…” — Dinda, Acme Podcast")


def test_bad_colours_and_missing_fonts_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="card accent .orange. is not #RRGGBB"):
        CardStyle(accent="orange")
    with pytest.raises(MediaError) as missing:
        card(tmp_path, SHORT, style=CardStyle(font="No Such Font Family 123"))
    assert "No Such Font Family 123" in str(missing.value) and "\n" not in str(missing.value)


def test_card_sizes_match_the_profile_choices():
    assert set(get_args(get_args(CardSettings.model_fields["sizes"].annotation)[0])) == set(CARD_SIZES)


def test_a_bad_colour_in_a_profile_card_table_names_the_field(tmp_path):
    profile = tmp_path / "bad.toml"
    profile.write_text('slug = "c"\nname = "C"\n[clips.card]\nbackground = "navy"\n')
    with pytest.raises(ConfigError) as error:
        load_client_profile(profile)
    message = str(error.value)
    assert "clips.card.background" in message and "'navy'" in message and "\n" not in message
    good = tmp_path / "good.toml"
    good.write_text('slug = "g"\nname = "G"\n[clips.card]\naccent = "#00aa88"\nsizes = ["1:1"]\n')
    assert load_client_profile(good).clips.card == CardSettings(accent="#00aa88", sizes=["1:1"])
    assert ClipSettings().card == CardSettings()


# --- a highlight's cards ---------------------------------------------------------------------------

@pytest.fixture
def highlights(fresh_db):
    """acme's highlight quoted by a named speaker (S1 = Dinda) and one by an unnamed one; a highlight of other."""
    ids = {}
    with fresh_db.session() as session:
        acme = Client(slug="acme", name="Acme Podcast",
                      clip_settings=ClipSettings(card=CardSettings(**CARD_COLOURS)).model_dump())
        other = Client(slug="other", name="Other Show", clip_settings={})
        for client, names in ((acme, {"S1": "Dinda"}), (other, {})):
            episode = Episode(client=client, source_uri="ep.mp3", media_path="/nonexistent/ep.mp3", sha256="a" * 64,
                              title="Episode", duration=120.0, speaker_names=names)
            session.add(episode)
            session.flush()
            for rank, quote_by in enumerate(("S1", "S2"), start=1):
                highlight = Highlight(episode_id=episode.id, rank=rank, start=10.0 * rank, end=10.0 * rank + 8,
                                      score=0.5, features={}, reasons=[], text=LONG, quote=LONG, title="",
                                      quote_by=quote_by, input_key="")
                session.add(highlight)
                session.flush()
                ids[(client.slug, quote_by)] = highlight.id
    return ids


STAFF = system_identity("test")


def test_a_highlights_cards_are_written_recorded_and_reused(fresh_db, settings, highlights):
    with fresh_db.session() as session:
        first = render_quote_cards(session, settings, STAFF, highlights[("acme", "S1")])
    assert [(c.aspect, c.rendered) for c in first] == [("4:5", True), ("1:1", True)]
    folder = settings.home / "clips" / "acme"
    assert sorted(p.name for p in folder.glob("episode-*/*.png")) == ["10.00-18.00-card-1x1.png",
                                                                      "10.00-18.00-card-4x5.png"]
    assert first[0].alt_text == f"Quote card: “{LONG}” — Dinda, Acme Podcast"
    stamps = {c.path: (c.path.stat().st_mtime_ns, sha256(c.path)) for c in first}
    with fresh_db.session() as session:
        rows = session.query(Clip).order_by(Clip.id).all()
        assert [(r.kind, r.format, r.aspect, r.status) for r in rows] == [("card", "png", "4:5", "ready"),
                                                                         ("card", "png", "1:1", "ready")]
        assert all(r.sha256 == sha256(Path(r.path)) and r.probe["alt_text"] == first[0].alt_text for r in rows)
        assert rows[0].probe["font_size"] == first[0].font_size and rows[0].probe["shortened"] is False
        again = render_quote_cards(session, settings, STAFF, highlights[("acme", "S1")])
    assert [c.rendered for c in again] == [False, False]
    assert {c.path: (c.path.stat().st_mtime_ns, sha256(c.path)) for c in again} == stamps
    assert [c.to_dict() | {"rendered": True} for c in again] == [c.to_dict() for c in first]


def test_cards_use_the_clients_colours_and_change_when_they_do(fresh_db, settings, highlights):
    with fresh_db.session() as session:
        portrait = render_quote_cards(session, settings, STAFF, highlights[("acme", "S1")])[0]
    colours = Counter(map(tuple, pixels(portrait.path).reshape(-1, 3).tolist()))
    assert colours.most_common(1)[0][0] == rgb(CARD_COLOURS["background"])
    before = sha256(portrait.path)
    with fresh_db.session() as session:
        client = session.query(Client).filter_by(slug="acme").one()
        client.clip_settings = {**client.clip_settings, "card": {"background": "#000000", "sizes": ["4:5"]}}
    with fresh_db.session() as session:
        redone = render_quote_cards(session, settings, STAFF, highlights[("acme", "S1")])
    assert [(c.aspect, c.rendered) for c in redone] == [("4:5", True)] and sha256(redone[0].path) != before
    assert ink_bounds(redone[0].path, "#000000")[0] >= safe_area("4:5")[0]


def test_an_unnamed_speaker_gets_no_speaker_line(fresh_db, settings, highlights):
    with fresh_db.session() as session:
        cards = render_quote_cards(session, settings, STAFF, highlights[("acme", "S2")])
    assert cards[0].alt_text == f"Quote card: “{LONG}” — Acme Podcast"  # never "— S2"


def test_another_clients_highlight_is_not_found(fresh_db, settings, highlights):
    with fresh_db.session() as session:
        other_owner = client_identity(session, "other")
        with pytest.raises(NotFoundError, match=f"no highlight {highlights[('acme', 'S1')]}"):
            render_quote_cards(session, settings, other_owner, highlights[("acme", "S1")])
        own = render_quote_cards(session, settings, other_owner, highlights[("other", "S1")])
        assert [c.alt_text for c in own][0] == f"Quote card: “{LONG}” — Other Show"
        with pytest.raises(NotFoundError, match="for client other"):
            render_quote_cards(session, settings, STAFF, highlights[("acme", "S1")], client_slug="other")
        assert session.query(Clip).join(Episode).join(Client).filter(Client.slug == "acme").count() == 0


def test_the_cli_prints_each_cards_path_size_and_alt_text(fresh_db, settings, highlights):
    highlight_id = str(highlights[("acme", "S1")])
    result = castmill("clips", "card", highlight_id, "--client", "acme")
    assert result.exit_code == 0, result.output
    assert "rendered card 4:5 1080×1350" in result.stdout and "rendered card 1:1 1080×1080" in result.stdout
    assert result.stdout.count(f"alt: Quote card: “{LONG}” — Dinda, Acme Podcast") == 2
    again = castmill("clips", "card", highlight_id, "--json")
    data = json.loads(again.stdout)
    assert [(d["aspect"], d["size"], d["rendered"]) for d in data] == [("4:5", [1080, 1350], False),
                                                                        ("1:1", [1080, 1080], False)]
    refused = castmill("clips", "card", highlight_id, "--client", "other")
    assert refused.exit_code != 0 and f"no highlight {highlight_id} for client other" in refused.stderr


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_clips_stage_draws_cards_when_the_profile_lists_them_and_reuses_them_after(fresh_db, settings, highlights):
    from pipeline.clips.stage import render_episode

    with fresh_db.session() as session:
        acme = session.query(Client).filter_by(slug="acme").one()
        acme.clip_settings = {**acme.clip_settings, "kinds": ["card"], "card": {**acme.clip_settings["card"],
                                                                                 "sizes": ["1:1"]}}
        episode_id = session.get(Highlight, highlights[("acme", "S1")]).episode_id
    with fresh_db.session() as session:
        first = render_episode(session, settings, episode_id)
    with fresh_db.session() as session:
        again = render_episode(session, settings, episode_id)
        rows = session.query(Clip).filter_by(episode_id=episode_id).all()
    assert (first.rendered, first.reused) == (2, 0) and (again.rendered, again.reused) == (0, 2)
    assert sorted((r.kind, r.aspect, r.status) for r in rows) == [("card", "1:1", "ready")] * 2
