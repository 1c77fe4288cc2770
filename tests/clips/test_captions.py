"""Caption pages, karaoke ASS, sidecars, fonts and safe zones."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.clips.captions import (ass_document, caption_centre, font_file, max_line_chars, paginate,
                                     srt_document, vtt_document)
from pipeline.clips.spec import SAFE_ZONE, CaptionStyle, CaptionWord
from pipeline.core.errors import MediaError

SIZE = (1080, 1920)


def words(text: str, step: float = 0.4) -> tuple[CaptionWord, ...]:
    return tuple(CaptionWord(t, k * step, k * step + step * 0.9) for k, t in enumerate(text.split()))


def test_pages_have_at_most_two_lines_that_fit_the_width_and_follow_speech():
    style = CaptionStyle()
    text = ("Here is the thing. Most podcasters never think about captions at all, and it costs them "
            "thousands of listeners every single month without them ever noticing it.")
    pages = paginate(words(text), style, SIZE)
    limit = max_line_chars(style, SIZE)
    assert [w.text for p in pages for w in p.words] == text.split()
    for page in pages:
        assert 1 <= len(page.lines) <= 2
        assert all(len(" ".join(w.text for w in line)) <= limit or len(line) == 1 for line in page.lines)
    assert pages[0].text == "Here is the thing."  # a sentence end closes the page
    assert all(a.end <= b.start + 1e-9 for a, b in zip(pages, pages[1:]))


def test_karaoke_events_highlight_each_word_once_in_order():
    style = CaptionStyle(highlight="#FFD400")
    pages = paginate(words("one two three four"), style, SIZE)
    events = [line for line in ass_document(pages, style, SIZE).splitlines() if line.startswith("Dialogue:")]
    assert len(events) == 4
    highlighted = [e.split("{\\c&H0000D4FF&}")[1].split("{\\r}")[0] for e in events]
    assert highlighted == ["one", "two", "three", "four"]
    assert all(f"\\pos(540,{round(caption_centre(style) * 1920)})" in e for e in events)


def test_captions_stay_inside_the_safe_zone_whatever_the_style_says():
    assert caption_centre(CaptionStyle(position=0.98)) <= 1 - SAFE_ZONE["bottom"]
    assert caption_centre(CaptionStyle(position=0.01)) >= SAFE_ZONE["top"]


def test_emoji_are_dropped_from_burned_captions_and_indonesian_diacritics_kept():
    style = CaptionStyle(uppercase=True)
    pages = paginate(words("Keren banget 🔥👨‍👩‍👧 café naïve {bad}"), style, SIZE)
    document = ass_document(pages, style, SIZE)
    assert "🔥" not in document and "\u200d" not in document and "CAFÉ" in document and "NAÏVE" in document
    assert "{BAD}" not in document and "(BAD)" in document
    assert "🔥" in srt_document(pages)  # the sidecar keeps the text as spoken


def test_sidecar_formats():
    pages = paginate(words("Hello there. General Kenobi."), CaptionStyle(), SIZE)
    srt = srt_document(pages)
    assert srt.startswith("1\n00:00:00,000 --> 00:00:00,") and "\n\n2\n" in srt
    assert vtt_document(pages).startswith("WEBVTT\n\n00:00:00.000 --> ")


def test_a_missing_font_or_bad_colour_is_a_clear_error():
    assert font_file("DejaVu Sans").endswith(".ttf")
    with pytest.raises(MediaError, match="font 'No Such Font' is not installed"):
        ass_document([], CaptionStyle(font="No Such Font"), SIZE)
    with pytest.raises(MediaError, match="caption colour 'yellow' is not #RRGGBB"):
        ass_document([], CaptionStyle(highlight="yellow"), SIZE)


def test_each_speaker_has_a_colour_and_a_page_of_their_own():
    from pipeline.clips.captions import clip_words
    from pipeline.transcribe.base import Word

    stored = [Word(" Hi", 1.0, 1.3, 0.9, "S1"), Word(" there", 1.4, 1.7, 0.9, "S1"), Word(" Hello", 1.8, 2.1, 0.9, "S2"),
              Word(" back", 2.2, 2.5, 0.9, "S2")]
    spoken = clip_words(stored, 1.0, 3.0)
    assert [(w.text, w.speaker) for w in spoken] == [("Hi", "S1"), ("there", "S1"), ("Hello", "S2"), ("back", "S2")]
    style = CaptionStyle(colour="#FFFFFF", highlight="#FFD400", speaker_colours=("#FF8800", "#00AAFF"))
    pages = paginate(spoken, style, SIZE)
    assert [p.text for p in pages] == ["Hi there", "Hello back"], "a new speaker starts a new page"
    events = [line for line in ass_document(pages, style, SIZE).splitlines() if line.startswith("Dialogue:")]
    assert "{\\c&H0000D4FF&}Hi{\\r} {\\c&H000088FF&}there{\\r}" in events[0]  # spoken word yellow, S1 orange
    assert "{\\c&H00FFAA00&}back{\\r}" in events[2]  # S2 blue
    assert style.word_colour("S3") == "#FF8800" and style.word_colour("") == "#FFFFFF"  # cycling; unknown plain


def test_without_speaker_colours_captions_look_as_before():
    style = CaptionStyle()
    mixed = (CaptionWord("one", 0.0, 0.3, "S1"), CaptionWord("two", 0.4, 0.7, "S1"))
    plain = (CaptionWord("one", 0.0, 0.3), CaptionWord("two", 0.4, 0.7))
    assert ass_document(paginate(mixed, style, SIZE), style, SIZE) == ass_document(paginate(plain, style, SIZE), style,
                                                                                   SIZE)
    with pytest.raises(MediaError, match="caption colour 'teal' is not #RRGGBB"):
        ass_document([], CaptionStyle(speaker_colours=("teal",)), SIZE)


def test_the_moviepy_captions_draw_speaker_colours_too():
    from pipeline.clips.render_moviepy import caption_images

    style = CaptionStyle(speaker_colours=("#FF8800", "#00AAFF"))
    words = (CaptionWord("AAAA", 0.0, 0.3, "S2"), CaptionWord("BBBB", 0.4, 0.7, "S2"))
    _start, _end, image = next(caption_images(paginate(words, style, SIZE), style, SIZE))
    pixels = image[image[..., 3] == 255][:, :3].astype(int)
    blue = (np.abs(pixels - [0x00, 0xAA, 0xFF]).max(axis=1) < 10).sum()
    assert blue > 200, "the word not being spoken is in S2's colour"


def test_client_speaker_colours_are_checked_and_reach_the_style():
    from pydantic import ValidationError

    from pipeline.clips.stage import caption_style
    from pipeline.core.settings import CaptionStyleOverrides

    overrides = CaptionStyleOverrides(speaker_colours=["#FF8800", "#00aaff"])
    style = caption_style("default", overrides.model_dump())
    assert style.speaker_colours == ("#FF8800", "#00aaff")
    with pytest.raises(ValidationError, match="speaker colour 'orange' is not #RRGGBB"):
        CaptionStyleOverrides(speaker_colours=["orange"])


def _two_speakers() -> tuple[CaptionWord, ...]:
    said = [("Hi", "S1"), ("there.", "S1"), ("Hello", "S2"), ("back.", "S2"), ("Bye", "S1")]
    return tuple(CaptionWord(t, k * 0.4, k * 0.4 + 0.3, s) for k, (t, s) in enumerate(said))


def test_sidecars_name_the_speaker_of_each_page():
    pages = paginate(_two_speakers(), CaptionStyle(), SIZE)
    assert [p.speaker for p in pages] == ["S1", "S2", "S1"]
    srt = srt_document(pages, {"S1": "Dinda"})
    assert "\nDinda: Hi there.\n" in srt and "\nS2: Hello back.\n" in srt and "\nDinda: Bye\n" in srt
    vtt = vtt_document(pages, {"S1": "Dinda", "S2": "<b>Budi & co</b>"})
    assert "<v Dinda>Hi there.</v>" in vtt
    assert "<v bBudi &amp; co/b>Hello back.</v>" in vtt  # a name cannot open a tag of its own
    undiarized = paginate(words("Hi there."), CaptionStyle(), SIZE)
    assert "<v" not in vtt_document(undiarized) and ": Hi" not in srt_document(undiarized)


def test_a_rename_rewrites_srt_and_vtt_from_the_kept_pages(tmp_path):
    from pipeline.clips.captions import rename_in_sidecars, write_captions

    pages = paginate(_two_speakers(), CaptionStyle(), SIZE)
    paths = write_captions(pages, CaptionStyle(), SIZE, tmp_path / "clip-1.5-9.0")
    assert paths["json"].name == "clip-1.5-9.0.captions.json"
    ass = paths["ass"].read_text()
    assert "<v S1>Hi there.</v>" in paths["vtt"].read_text()
    assert rename_in_sidecars({k: str(v) for k, v in paths.items()}, {"S1": "Dinda", "S2": "Budi"})
    assert "<v Dinda>Hi there.</v>" in paths["vtt"].read_text() and "<v Budi>Hello back.</v>" in paths["vtt"].read_text()
    assert "Budi: Hello back." in paths["srt"].read_text()
    assert paths["ass"].read_text() == ass  # the burned-in captions are not touched
    assert not rename_in_sidecars({k: str(v) for k, v in paths.items() if k != "json"}, {"S1": "X"})
