"""Quote cards: a highlight's pull quote as a PNG image post (4:5 portrait and 1:1 square).

A card holds the quote in typographic quotes, the speaker's name when the VA named them
("— Dinda") and the show's name, in the client's colours and font, inside a safe area.
The quote is set in its box by ``card_layout`` (real glyph widths, the size stepped down from
``CardStyle.max_size`` to ``min_size``, a cut at a word with "…" only as a last resort). The
alt text always carries the whole quote.

The same inputs give a byte-identical PNG (no timestamps or text chunks are written), and
each card is recorded as a ``Clip`` (kind "card") keyed by everything it is drawn from, so
an unchanged card is reused rather than drawn again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import PIL
from PIL import Image, ImageDraw
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.access.identity import Identity, check_session
from pipeline.access.permissions import client_scope
from pipeline.clips.captions import font_file
from pipeline.clips.card_layout import (ELLIPSIS, Block, Box, FittedQuote, block_of, clean_quote, clean_text, cut_at_word,
                                        drawable, fit_line, fit_quote, load_font)
from pipeline.core.errors import ConfigError, MediaError, NotFoundError
from pipeline.core.settings import CardSettings, Settings, first_error
from pipeline.core.vocab import CARD, CARD_ASPECTS
from pipeline.media.download import sha256_file
from pipeline.media.storage import MediaStorage, clip_key, ensure_local, open_storage, store_copy
from pipeline.store.models import Clip, Episode, Highlight

# Bumped when drawing changes its output for the same inputs.
CARD_REVISION = 1
KIND, FORMAT, ENGINE = CARD, "png", "pillow"
# Aspect -> card size in pixels; the keys are CardSettings.sizes' choices.
CARD_SIZES = CARD_ASPECTS
# X cuts alt text at 1000 characters, the shortest limit of the platforms that take it.
ALT_TEXT_MAX = 1000


@dataclass(frozen=True)
class CardStyle:
    """How a quote card looks. Sizes and distances are shares of the card's width."""

    background: str = "#14213D"  # #RRGGBB
    text: str = "#F5F3EE"  # the quote and the show name
    accent: str = "#FCA311"  # the rule above the quote and the speaker line
    font: str = "DejaVu Serif"  # a family fontconfig knows
    margin: float = 0.08  # empty border on every side: the safe area is what is left
    max_size: float = 0.085  # the quote's largest font size (92 px on a 1080-wide card)
    min_size: float = 0.042  # its smallest; below this it is shortened instead (45 px)
    size_step: int = 2  # pixels the quote's size steps down by while it does not fit
    line_spacing: float = 1.25  # baseline to baseline, times the font size
    speaker_size: float = 0.042  # the "— Dinda" line
    show_size: float = 0.034  # the show's name, the last line
    rule: tuple[float, float] = (0.12, 0.008)  # the accent rule's width and thickness
    gap: float = 0.04  # between the rule, the quote and the attribution

    def __post_init__(self):
        for name in ("background", "text", "accent"):
            hex_rgb(getattr(self, name), name)
        if not self.font.strip():
            raise ConfigError("the card font is empty; name a font family, e.g. \"DejaVu Serif\"")
        if not 0 <= self.margin < 0.3:
            raise ConfigError(f"card margin {self.margin} must be between 0 and 0.3 of the width")
        if not 0 < self.min_size <= self.max_size:
            raise ConfigError(f"card font sizes: min_size {self.min_size} must be above 0 and at most "
                              f"max_size {self.max_size}")
        if self.size_step < 1:
            raise ConfigError("card size_step must be at least 1 pixel")

    @classmethod
    def from_settings(cls, card: CardSettings) -> "CardStyle":
        return cls(background=card.background, text=card.text, accent=card.accent, font=card.font)


@dataclass(frozen=True)
class QuoteCard:
    path: Path
    size: tuple[int, int]  # (width, height) in pixels
    alt_text: str
    shortened: bool  # the quote was cut at a word boundary to fit
    font_size: int  # the quote's font size in pixels
    aspect: str = ""  # "4:5" or "1:1"
    rendered: bool = True  # False: an unchanged card was reused

    def to_dict(self) -> dict:
        return {**asdict(self), "path": str(self.path), "size": list(self.size)}


def hex_rgb(value: str, field: str = "colour") -> tuple[int, int, int]:
    digits = value[1:] if value.startswith("#") else ""
    if len(digits) != 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ConfigError(f"card {field} {value!r} is not #RRGGBB")
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def alt_text(quote: str, speaker: str, show: str) -> str:
    """"Quote card: “<quote>” — <speaker>, <show>", the quote cut at a word only beyond ``ALT_TEXT_MAX``."""
    by = ", ".join(part for part in (speaker, show) if part)
    tail = f"” — {by}" if by else "”"
    head = "Quote card: “"
    room = ALT_TEXT_MAX - len(head) - len(tail)
    if len(quote) > room:
        quote = cut_at_word(quote, room - len(ELLIPSIS)) + ELLIPSIS
    return head + quote + tail


def card_font_file(family: str) -> str:
    try:
        return font_file(family)
    except MediaError as exc:
        raise MediaError(f"the [clips.card] font cannot be used: {exc.reason.split(';')[0]}") from None


# --- drawing ---------------------------------------------------------------------------------------

def render_card(quote: str, path: Path, *, speaker: str = "", show: str = "", style: CardStyle = CardStyle(),
                aspect: str = "4:5") -> QuoteCard:
    """Draw the card and write it to ``path`` as PNG (atomically). ``quote`` is shown and described whole when
    it fits; emoji and characters the font cannot draw are left out."""
    if aspect not in CARD_SIZES:
        raise MediaError(f"unknown card size {aspect!r}; choose one of {', '.join(CARD_SIZES)}")
    font_path = card_font_file(style.font)
    text = drawable(clean_quote(quote), font_path)
    if not text:
        raise MediaError("the quote has nothing a card can show (empty, or only emoji)")
    speaker, show = clean_text(speaker), clean_text(show)
    size = CARD_SIZES[aspect]
    image, fitted = _draw(text, drawable(speaker, font_path), drawable(show, font_path), style, font_path, size)
    _write_png(image, path)
    # A screen reader can read what the font cannot draw, so the alt text keeps it.
    return QuoteCard(path, size, alt_text(clean_quote(quote), speaker, show), fitted.shortened, fitted.size, aspect)


def _draw(quote: str, speaker: str, show: str, style: CardStyle, font_path: str,
          size: tuple[int, int]) -> tuple[Image.Image, FittedQuote]:
    """From the top of the safe area: the accent rule, the quote centred in the room left, then the speaker
    and show lines resting on the safe area's bottom."""
    width, height = size
    px = lambda share: max(1, round(share * width))  # noqa: E731
    margin = px(style.margin)
    safe = Box(margin, margin, width - margin, height - margin)
    image = Image.new("RGB", size, hex_rgb(style.background))
    draw = ImageDraw.Draw(image)
    rule_width, rule_height = px(style.rule[0]), px(style.rule[1])
    draw.rectangle((safe.left, safe.top, safe.left + rule_width - 1, safe.top + rule_height - 1),
                   fill=hex_rgb(style.accent))
    footer = [(show, px(style.show_size), style.text)]
    if speaker:
        footer.append((f"— {speaker}", px(style.speaker_size), style.accent))
    footer_top = _draw_footer(draw, footer, font_path, safe)
    box = Box(safe.left, safe.top + rule_height + px(style.gap), safe.right, footer_top - px(style.gap))
    fitted = fit_quote(quote, font_path, box, px(style.max_size), px(style.min_size), style.size_step,
                       style.line_spacing)
    _draw_block(draw, fitted.block, box, hex_rgb(style.text), centred=True)
    return image, fitted


def _draw_footer(draw: ImageDraw.ImageDraw, lines: list[tuple[str, int, str]], font_path: str, safe: Box) -> int:
    """``(text, font size, colour)`` lines stacked upwards from the safe area's bottom, each cut to the width when
    too long; returns the top of the highest."""
    bottom = safe.bottom
    for text, font_size, colour in lines:
        font = load_font(font_path, font_size)
        line = fit_line(text, font, safe.width)
        if not line:
            continue
        block = block_of([line], font, 1.0)
        top = bottom - (block.ink[3] - block.ink[1])
        _draw_block(draw, block, Box(safe.left, top, safe.right, bottom), hex_rgb(colour))
        bottom = top - round(font_size * 0.4)
    return bottom


def _draw_block(draw: ImageDraw.ImageDraw, block: Block, box: Box, fill: tuple[int, int, int],
                centred: bool = False) -> None:
    """Left-aligned lines whose ink starts at the box's left and top (vertically centred when asked)."""
    left, top, _, bottom = block.ink
    free = box.height - (bottom - top)
    y0 = box.top - top + (free // 2 if centred else 0)
    x0 = box.left - min(left, 0)
    for k, line in enumerate(block.lines):
        draw.text((x0, y0 + k * block.line_height), line, font=block.font, fill=fill, anchor="la")


def _write_png(image: Image.Image, path: Path) -> None:
    buffer = io.BytesIO()
    # No pnginfo: Pillow then writes no text or time chunks, so the bytes depend on the pixels alone.
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(buffer.getvalue())
    os.replace(partial, path)


# --- a highlight's cards ---------------------------------------------------------------------------

def render_quote_cards(session: Session, settings: Settings, identity: Identity, highlight_id: int, *,
                       client_slug: str | None = None) -> list[QuoteCard]:
    """The quote cards of a highlight in the sizes its client's [clips.card] asks for, each recorded as a
    ``Clip``; a card whose inputs are unchanged and whose file is there is reused.

    Anyone who may see the highlight may have its cards made; another client's highlight is "not found",
    like a missing one. ``client_slug`` narrows further (the CLI's --client).
    """
    return cards_for_highlight(session, settings, visible_highlight(session, identity, highlight_id, client_slug))


def cards_for_highlight(session: Session, settings: Settings, highlight: Highlight) -> list[QuoteCard]:
    """The highlight's cards in its client's sizes (no permission check: the clips stage and the function above)."""
    episode = highlight.episode
    card = card_settings(episode.client.clip_settings)
    style = CardStyle.from_settings(card)
    speaker = (episode.speaker_names or {}).get(highlight.quote_by, "") if highlight.quote_by else ""
    out_dir = settings.home / "clips" / episode.client.slug / f"episode-{episode.id}"
    if not clean_quote(highlight.quote or ""):
        raise MediaError(f"highlight {highlight.id} has no quote to put on a card")
    storage = open_storage(settings)
    return [_card(session, highlight, aspect, style, speaker, out_dir, storage) for aspect in dict.fromkeys(card.sizes)]


def card_settings(clip_settings: dict | None) -> CardSettings:
    """The client's stored [clips.card] table (defaults for clients stored before cards existed)."""
    try:
        return CardSettings(**((clip_settings or {}).get("card") or {}))
    except ValidationError as exc:
        raise ConfigError(f"clips.card.{first_error(exc)}") from None


def visible_highlight(session: Session, identity: Identity, highlight_id: int,
                      client_slug: str | None = None) -> Highlight:
    check_session(identity)
    query = client_scope(select(Highlight).join(Episode).where(Highlight.id == highlight_id), identity,
                         Episode.client_id)
    highlight = session.scalar(query)
    if highlight is None or (client_slug and highlight.episode.client.slug != client_slug):
        raise NotFoundError(f"no highlight {highlight_id}" + (f" for client {client_slug}" if client_slug else ""))
    return highlight


def _card(session: Session, highlight: Highlight, aspect: str, style: CardStyle, speaker: str,
          out_dir: Path, storage: MediaStorage) -> QuoteCard:
    episode = highlight.episode
    show = episode.client.name
    key = card_key(highlight.quote, speaker, show, style, aspect)
    row = session.scalar(select(Clip).where(Clip.episode_id == episode.id, Clip.highlight_key == highlight.key,
                                            Clip.kind == KIND, Clip.aspect == aspect, Clip.format == FORMAT))
    if row and row.status == "ready" and row.input_key == key and \
            ensure_local(storage, row.path, (row.probe or {}).get("stored")):
        probe = row.probe or {}
        return QuoteCard(Path(row.path), CARD_SIZES[aspect], probe.get("alt_text", ""),
                         bool(probe.get("shortened")), int(probe.get("font_size", 0)), aspect, rendered=False)
    path = out_dir / f"{highlight.key}-card-{aspect.replace(':', 'x')}.png"
    made = render_card(highlight.quote, path, speaker=speaker, show=show, style=style, aspect=aspect)
    row = row or Clip(episode_id=episode.id, highlight_key=highlight.key, kind=KIND, aspect=aspect, format=FORMAT)
    row.highlight_id, row.engine, row.path, row.input_key = highlight.id, ENGINE, str(path), key
    row.status, row.error, row.sha256 = "ready", "", sha256_file(path)
    row.probe = {"alt_text": made.alt_text, "shortened": made.shortened, "font_size": made.font_size,
                 "width": made.size[0], "height": made.size[1]}
    if storage.keeps_copies:  # a machine without the file still knows its size (drafts carry it)
        row.probe = {**row.probe, "bytes": path.stat().st_size,
                     **store_copy(storage, path, clip_key(episode.client.slug, episode.id, path.name))}
    session.add(row)
    session.flush()
    return made


def card_key(quote: str, speaker: str, show: str, style: CardStyle, aspect: str) -> str:
    """A hash of everything a card is drawn from, the font file's contents and the Pillow version included."""
    font_path = card_font_file(style.font)
    blob = json.dumps({"quote": quote, "speaker": speaker, "show": show, "style": asdict(style), "aspect": aspect,
                       "size": CARD_SIZES[aspect], "font": _file_hash(font_path), "pillow": PIL.__version__,
                       "revision": CARD_REVISION}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


@lru_cache(maxsize=16)
def _file_hash(path: str) -> str:
    return sha256_file(Path(path))

