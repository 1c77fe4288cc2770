"""Setting a quote in a box: real glyph widths, the size stepped down, a cut at a word as a last resort.

``fit_quote`` wraps the quote word by word against the box's width as the font really draws it, and
steps the size down until the block fits the box; only when even the smallest size does not fit is the
quote cut at a word boundary and ended with "…". Emoji and characters the font has no glyph for are
left out (they would show as boxes). Used by ``quote_card``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from PIL import ImageFont

from pipeline.clips.captions import EMOJI

ELLIPSIS = "…"
# Straight or curly quotes around the stored quote; the card adds its own.
QUOTE_MARKS = "\"'“”‘’«»„"
# Not drawn before an ellipsis: "word,…" reads worse than "word…".
TRAILING_PUNCTUATION = ",;:-–—"


# --- text ------------------------------------------------------------------------------------------

def clean_text(text: str) -> str:
    """NFC (an accent and its letter as one character), no emoji, single spaces."""
    return " ".join(EMOJI.sub(" ", unicodedata.normalize("NFC", text)).split())


def clean_quote(quote: str) -> str:
    """``clean_text`` without the quote marks around it: the card sets its own."""
    return clean_text(quote).strip(QUOTE_MARKS + " ")


def drawable(text: str, font_path: str) -> str:
    """``text`` without the characters the font has no glyph for (they would show as boxes)."""
    kept = "".join(c for c in text if c.isspace() or _has_glyph(font_path, c))
    return " ".join(kept.split())


@lru_cache(maxsize=4096)
def _has_glyph(font_path: str, char: str) -> bool:
    font = load_font(font_path, 32)
    return _glyph_signature(font, char) != _glyph_signature(font, "\uffff")  # U+FFFF is in no font: .notdef


def _glyph_signature(font: ImageFont.FreeTypeFont, char: str) -> tuple:
    mask = font.getmask(char)
    return mask.size, bytes(mask), font.getlength(char)


def cut_at_word(text: str, limit: int) -> str:
    cut = text[:limit + 1]
    cut = cut[:cut.rfind(" ")] if " " in cut and len(text) > limit else cut[:limit]
    return cut.rstrip(TRAILING_PUNCTUATION + " ")


# --- fitting ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Box:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


@dataclass(frozen=True)
class Block:
    """Lines of one font placed at ``line_height`` apart; ``ink`` is their drawn extent from the first line's
    ascender at x = 0: (left, top, right, bottom)."""

    lines: tuple[str, ...]
    font: ImageFont.FreeTypeFont
    line_height: int
    ink: tuple[int, int, int, int]

    def fits(self, box: Box) -> bool:
        left, top, right, bottom = self.ink
        return right - min(left, 0) <= box.width and bottom - top <= box.height


@dataclass(frozen=True)
class FittedQuote:
    block: Block
    size: int
    shortened: bool


def fit_quote(quote: str, font_path: str, box: Box, max_size: int, min_size: int, step: int,
              spacing: float) -> FittedQuote:
    """The largest size from ``max_size`` down to ``min_size`` at which the quote fits ``box``; at
    ``min_size``, the longest word-boundary prefix that fits, ended with "…"."""
    words = quote.split()
    for size in range(max_size, min_size - 1, -step):
        block = wrap(_quoted(words), load_font(font_path, size), box, spacing)
        if block and block.fits(box):
            return FittedQuote(block, size, False)
    font = load_font(font_path, min_size)
    return FittedQuote(_shortened(words, font, box, spacing), min_size, True)


def _shortened(words: list[str], font: ImageFont.FreeTypeFont, box: Box, spacing: float) -> Block:
    """Binary search for the most words that fit with "…"; when none do, "“…”"."""
    def fitting(count: int) -> Block | None:
        block = wrap(_quoted(words[:count], cut=True), font, box, spacing)
        return block if block and block.fits(box) else None

    low, high = 0, len(words) - 1  # all the words are known not to fit
    while low < high:
        middle = (low + high + 1) // 2
        if fitting(middle):
            low = middle
        else:
            high = middle - 1
    return fitting(low) or block_of([_quoted([], cut=True)], font, spacing)


def _quoted(words: list[str], cut: bool = False) -> str:
    body = " ".join(words)
    if cut:
        body = body.rstrip(TRAILING_PUNCTUATION + " ") + ELLIPSIS
    return f"“{body}”"


def wrap(text: str, font: ImageFont.FreeTypeFont, box: Box, spacing: float) -> Block | None:
    """Greedy lines no wider than the box, or None as soon as there are more lines than its height can hold.

    Lines are filled by the words' own advances plus the space's (measuring each word once keeps this
    fast); ``Block.fits`` then checks the real ink of the whole lines. A word wider than the box gets a
    line of its own, and the block does not fit.
    """
    line_height = round(font.size * spacing)
    max_lines = box.height // line_height + 1
    space = _advance(font, " ")
    lines: list[list[str]] = []
    used = 0.0
    for word in text.split():
        width = _advance(font, word)
        if lines and used + space + width <= box.width:
            lines[-1].append(word)
            used += space + width
            continue
        if len(lines) == max_lines:
            return None
        lines.append([word])
        used = width
    return block_of([" ".join(line) for line in lines], font, spacing)


@lru_cache(maxsize=65536)
def _advance(font: ImageFont.FreeTypeFont, text: str) -> float:
    return font.getlength(text)


def block_of(lines: list[str], font: ImageFont.FreeTypeFont, spacing: float) -> Block:
    line_height = round(font.size * spacing)
    boxes = [font.getbbox(line, anchor="la") for line in lines] or [(0, 0, 0, 0)]
    ink = (min(b[0] for b in boxes), min(k * line_height + b[1] for k, b in enumerate(boxes)),
           max(b[2] for b in boxes), max(k * line_height + b[3] for k, b in enumerate(boxes)))
    return Block(tuple(lines), font, line_height, ink)


def fit_line(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """One line no wider than ``width``, cut at a word boundary with "…" when it is too long."""
    if _ink_width(text, font) <= width:
        return text
    words = text.split()
    while words:
        words.pop()
        candidate = " ".join(words).rstrip(TRAILING_PUNCTUATION + " ") + ELLIPSIS
        if _ink_width(candidate, font) <= width:
            return candidate
    return ""


def _ink_width(text: str, font: ImageFont.FreeTypeFont) -> int:
    left, _, right, _ = font.getbbox(text, anchor="la")
    return right - min(left, 0)


@lru_cache(maxsize=256)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    # The basic layout draws the same pixels whether or not Pillow was built with libraqm.
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)
