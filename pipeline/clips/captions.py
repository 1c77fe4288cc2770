"""Word-synced captions: pages of at most two lines, an ASS file for burning in, SRT/VTT sidecars.

The burned-in captions are karaoke style: the page stays on screen while it is
spoken and the current word is drawn in the highlight colour (other words in their
speaker's colour when the style gives speaker colours). Pages sit inside the safe
zone of vertical video (``spec.SAFE_ZONE``), away from platform buttons.

A page never holds two speakers. The sidecars name them: "Dinda: " before a page
where the speaker changes in SRT, a ``<v Dinda>`` voice span on every cue in VTT.
The pages are also kept as ``stem.captions.json``, so a rename of the speakers
rewrites the SRT and VTT (``rename_in_sidecars``) without rendering the clip again.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import regex

from pipeline.clips.spec import SAFE_ZONE, CaptionStyle, CaptionWord
from pipeline.core.errors import MediaError
from pipeline.transcribe.base import Word
from pipeline.transcribe.export import speaker_name, vtt_voice

# Average glyph width of a sans-serif font relative to its size; sizes the lines.
GLYPH_WIDTH = 0.55
# A pause this long starts a new page even when the current one has room.
PAGE_PAUSE_SECONDS = 0.6
# A page stays up this long after its last word when nothing follows.
PAGE_TAIL_SECONDS = 0.4
EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Emoji_Modifier}|\u200d|\ufe0f")


@dataclass(frozen=True)
class CaptionPage:
    lines: tuple[tuple[CaptionWord, ...], ...]
    start: float
    end: float

    @property
    def words(self) -> list[CaptionWord]:
        return [w for line in self.lines for w in line]

    @property
    def text(self) -> str:
        return "\n".join(" ".join(w.text for w in line) for line in self.lines)

    @property
    def speaker(self) -> str:
        """Who says the page ("" when the transcript was not diarized); ``paginate`` never mixes two."""
        return next((w.speaker for w in self.words if w.speaker), "")


def clip_words(words: list[Word], start: float, end: float) -> tuple[CaptionWord, ...]:
    """Transcript words inside the cut, timed from the start of the clip."""
    return tuple(
        CaptionWord(w.word.strip(), max(0.0, w.start - start), min(end, w.end) - start, w.speaker)
        for w in words if w.start >= start - 1e-3 and w.end <= end + 1e-3 and w.word.strip()
    )


def max_line_chars(style: CaptionStyle, size: tuple[int, int]) -> int:
    width, height = size
    usable = width * (1 - 2 * SAFE_ZONE["side"])
    return max(8, int(usable / (GLYPH_WIDTH * style.size * height)))


def paginate(words: tuple[CaptionWord, ...], style: CaptionStyle, size: tuple[int, int]) -> list[CaptionPage]:
    """Greedy pages: fill a line up to the width, at most ``max_lines`` lines; a new page at sentence ends, pauses
    and where another speaker starts."""
    limit = max_line_chars(style, size)
    pages: list[list[list[CaptionWord]]] = []
    lines: list[list[CaptionWord]] = [[]]
    for k, word in enumerate(words):
        line = lines[-1]
        if line and len(" ".join(w.text for w in line + [word])) > limit:
            if len(lines) == style.max_lines:
                pages.append(lines)
                lines = [[]]
            else:
                lines.append([])
        lines[-1].append(word)
        following = words[k + 1] if k + 1 < len(words) else None
        if following and (word.text.endswith((".", "?", "!")) or following.start - word.end >= PAGE_PAUSE_SECONDS
                          or _new_speaker(word, following)):
            pages.append(lines)
            lines = [[]]
    if lines[0]:
        pages.append(lines)
    return _timed(pages)


def _new_speaker(word: CaptionWord, following: CaptionWord) -> bool:
    return bool(word.speaker and following.speaker and word.speaker != following.speaker)


def _timed(pages: list[list[list[CaptionWord]]]) -> list[CaptionPage]:
    out = []
    for k, lines in enumerate(pages):
        first, last = lines[0][0], lines[-1][-1]
        next_start = pages[k + 1][0][0].start if k + 1 < len(pages) else None
        end = last.end + PAGE_TAIL_SECONDS if next_start is None else min(next_start, last.end + PAGE_TAIL_SECONDS)
        out.append(CaptionPage(tuple(tuple(line) for line in lines if line), first.start, max(end, last.end)))
    return out


# --- ASS (burned in) ------------------------------------------------------------------------------

def ass_document(pages: list[CaptionPage], style: CaptionStyle, size: tuple[int, int]) -> str:
    """An ASS script: one event per spoken word, showing its page with that word highlighted."""
    width, height = size
    require_font(style.font)
    for colour in style.speaker_colours:
        _ass_colour(colour)  # a bad one is an error even before any word uses it
    header = "\n".join([
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {width}", f"PlayResY: {height}",
        "WrapStyle: 2", "ScaledBorderAndShadow: yes", "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
        "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
        "MarginL, MarginR, MarginV, Encoding",
        f"Style: Caption,{style.font},{round(style.size * height)},{_ass_colour(style.colour)},"
        f"{_ass_colour(style.highlight)},{_ass_colour(style.outline)},&H80000000,-1,0,0,0,100,100,0,0,1,"
        f"{max(1, round(style.outline_width * height))},0,5,0,0,0,1",
        "", "[Events]", "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ])
    anchor = f"{{\\an5\\pos({width // 2},{round(caption_centre(style) * height)})}}"
    events = [f"Dialogue: 0,{_ass_time(s)},{_ass_time(e)},Caption,,0,0,0,,{anchor}{text}"
              for s, e, text in _word_events(pages, style)]
    return header + "\n" + "\n".join(events) + "\n"


def caption_centre(style: CaptionStyle) -> float:
    """The caption block's vertical centre, clamped into the safe zone."""
    return min(max(style.position, SAFE_ZONE["top"] + 0.08), 1 - SAFE_ZONE["bottom"] - 0.08)


def _word_events(pages: list[CaptionPage], style: CaptionStyle):
    for page in pages:
        words = page.words
        for k, current in enumerate(words):
            start = page.start if k == 0 else current.start
            end = words[k + 1].start if k + 1 < len(words) else page.end
            if end <= start:
                continue
            lines = [" ".join(_ass_word(w, w is current, style) for w in line) for line in page.lines]
            yield start, end, "\\N".join(lines)


def _ass_word(word: CaptionWord, spoken: bool, style: CaptionStyle) -> str:
    """The word in the highlight colour while it is spoken, else in its speaker's colour (the style's by default)."""
    text = _burnable(word.text, style)
    colour = style.highlight if spoken else style.word_colour(word.speaker)
    if colour == style.colour and not spoken:
        return text
    return f"{{\\c{_ass_colour(colour)}}}{text}{{\\r}}"


def _burnable(text: str, style: CaptionStyle) -> str:
    """Text the caption font can draw: no emoji (DejaVu has none), no ASS override braces."""
    text = EMOJI.sub("", text).replace("{", "(").replace("}", ")").replace("\\", "/")
    return text.upper() if style.uppercase else text


def _ass_colour(hex_rgb: str) -> str:
    value = hex_rgb.lstrip("#")
    if len(value) != 6 or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise MediaError(f"caption colour {hex_rgb!r} is not #RRGGBB")
    return f"&H00{value[4:6]}{value[2:4]}{value[0:2]}&".upper()


def _ass_time(seconds: float) -> str:
    centis = int(round(seconds * 100))
    hours, rest = divmod(centis, 360000)
    minutes, rest = divmod(rest, 6000)
    return f"{hours}:{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}"


@lru_cache(maxsize=32)
def font_file(family: str) -> str:
    """The font file fontconfig uses for ``family``; a clear error when the family is not installed."""
    fc_match = shutil.which("fc-match")
    if not fc_match:
        raise MediaError("fontconfig (fc-match) is not installed: run `make setup`")
    result = subprocess.run([fc_match, "--format=%{family}\n%{file}", family], capture_output=True, text=True)
    found_family, _, path = result.stdout.partition("\n")
    if result.returncode != 0 or family.lower() not in found_family.lower():
        raise MediaError(f"font {family!r} is not installed (fontconfig would use {found_family.split(',')[0]!r}); "
                         "install it or pick another caption font")
    return path.strip()


def require_font(family: str) -> None:
    font_file(family)


# --- sidecars -------------------------------------------------------------------------------------

def srt_document(pages: list[CaptionPage], names: dict[str, str] | None = None) -> str:
    """SRT with "Name: " before the first page of each speaker's turn."""
    blocks, previous = [], ""
    for k, page in enumerate(pages, 1):
        text = page.text
        if page.speaker and page.speaker != previous:
            text = f"{speaker_name(page.speaker, names)}: {text}"
        previous = page.speaker or previous
        blocks.append(f"{k}\n{_srt_time(page.start)} --> {_srt_time(page.end)}\n{text}\n")
    return "\n".join(blocks)


def vtt_document(pages: list[CaptionPage], names: dict[str, str] | None = None) -> str:
    """WebVTT with each cue in a voice span naming its speaker."""
    blocks = [f"{_srt_time(p.start).replace(',', '.')} --> {_srt_time(p.end).replace(',', '.')}\n"
              f"{vtt_voice(p.text, p.speaker, names)}\n" for p in pages]
    return "WEBVTT\n\n" + "\n".join(blocks)


def _srt_time(seconds: float) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d},{rest % 1000:03d}"


def pages_json(pages: list[CaptionPage]) -> str:
    return json.dumps({"pages": [{"start": p.start, "end": p.end,
                                  "lines": [[[w.text, w.start, w.end, w.speaker] for w in line] for line in p.lines]}
                                 for p in pages]}, ensure_ascii=False)


def pages_from_json(text: str) -> list[CaptionPage]:
    return [CaptionPage(tuple(tuple(CaptionWord(*word) for word in line) for line in page["lines"]),
                        page["start"], page["end"]) for page in json.loads(text)["pages"]]


def sidecar_paths(stem: Path) -> dict[str, Path]:
    paths = {ext: stem.parent / f"{stem.name}.{ext}" for ext in ("ass", "srt", "vtt")}  # stems hold dots
    return {**paths, "json": stem.parent / f"{stem.name}.captions.json"}


def write_captions(pages: list[CaptionPage], style: CaptionStyle, size: tuple[int, int], stem: Path,
                   names: dict[str, str] | None = None) -> dict[str, Path]:
    """``stem.ass``, ``stem.srt``, ``stem.vtt`` and the pages as ``stem.captions.json`` next to the clip."""
    paths = sidecar_paths(stem)
    paths["ass"].write_text(ass_document(pages, style, size), encoding="utf-8")
    paths["json"].write_text(pages_json(pages), encoding="utf-8")
    _write_named(pages, paths, names)
    return paths


def rename_in_sidecars(paths: dict[str, str], names: dict[str, str]) -> bool:
    """Rewrite a clip's SRT and VTT with new speaker names from its pages file; False for a clip rendered
    before pages were kept (its sidecars keep the labels until it is rendered again)."""
    pages_file = Path(paths.get("json", ""))
    if not paths.get("json") or not pages_file.is_file():
        return False
    _write_named(pages_from_json(pages_file.read_text(encoding="utf-8")),
                 {ext: Path(paths[ext]) for ext in ("srt", "vtt")}, names)
    return True


def _write_named(pages: list[CaptionPage], paths: dict[str, Path], names: dict[str, str] | None) -> None:
    paths["srt"].write_text(srt_document(pages, names), encoding="utf-8")
    paths["vtt"].write_text(vtt_document(pages, names), encoding="utf-8")
