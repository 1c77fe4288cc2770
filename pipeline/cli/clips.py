"""``castmill clips render``, ``castmill clips check`` and ``castmill clips card``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pipeline.core.vocab import ASPECTS, CLIP_KINDS
from pipeline.cli.support import cli_identity, database_of, friendly_errors, settings_of


@click.group()
def clips() -> None:
    """Render clips for highlights and pre-flight media files."""


@clips.command("render")
@click.argument("highlight_id", type=int)
@click.option("--kind", type=click.Choice(CLIP_KINDS), default="audiogram", show_default=True,
              help="audiogram (waveform + captions), video (the episode's own picture) or audio (mp3 + m4a).")
@click.option("--aspect", type=click.Choice(list(ASPECTS)), default="9:16", show_default=True)
@click.option("--style", default="default", show_default=True, help="Caption style: default, upper or minimal.")
@click.option("--fit", type=click.Choice(["crop", "blur"]), default="crop", show_default=True,
              help="Older switch: blur = the whole picture on a blurred copy (as --reframe fit); crop = as "
                   "--reframe or the client's [clips] reframe say.")
@click.option("--reframe", type=click.Choice(["auto", "centre", "fit", "split"]),
              help="How a 16:9 video becomes vertical: auto (follow the speaking face; split, blurred fit or centre "
                   "crop when it cannot), centre, fit (blurred background) or split (two faces stacked). "
                   "Default: the client's [clips] reframe.")
@click.option("--engine", type=click.Choice(["ffmpeg", "moviepy"]), default="ffmpeg", show_default=True,
              help="Renderer: one ffmpeg filter graph, or moviepy compositing (slower, same output).")
@click.option("--client", "client_slug", help="Refuse unless the highlight belongs to this client.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def clips_render(ctx, highlight_id, kind, aspect, style, fit, reframe, engine, client_slug, as_json) -> None:
    """Render one highlight as a clip with burned-in, word-synced captions (plus SRT/VTT and a thumbnail).

    Example:

        castmill clips render 42 --kind audiogram --aspect 9:16

        castmill clips render 42 --kind video --reframe split
    """
    from pipeline.clips.stage import render_highlight

    with database_of(ctx).session() as session:
        files = render_highlight(session, settings_of(ctx), highlight_id, kind=kind, aspect=aspect, style=style,
                                 fit=fit, client_slug=client_slug, engine=engine, reframe=reframe)
    if as_json:
        click.echo(json.dumps([f.to_dict() for f in files], indent=2))
        return
    for f in files:
        framing = f" ({f.framing})" if f.framing else ""
        click.echo(f"{'rendered' if f.rendered else 'unchanged'} {f.kind} {f.format}: {f.path}{framing}")


@clips.command("check")
@click.argument("clip_file", type=click.Path(path_type=Path))
@click.option("--platform", required=True, help="Platform whose media rules apply (x, instagram, tiktok …).")
@friendly_errors
def clips_check(clip_file, platform) -> None:
    """Pre-flight a media file against a platform's rules (codecs, faststart, size, length, aspect); exit 1 on any.

    Example:

        castmill clips check clip.mp4 --platform instagram
    """
    from pipeline.clips.preflight import preflight

    problems = preflight(clip_file, platform)
    for problem in problems:
        click.echo(f"{clip_file}: {problem.message}")
    if problems:
        sys.exit(1)
    click.echo(f"{clip_file}: ready for {platform}")


@clips.command("card")
@click.argument("highlight_id", type=int)
@click.option("--client", "client_slug", help="Refuse unless the highlight belongs to this client.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def clips_card(ctx, highlight_id, client_slug, as_json) -> None:
    """Render a highlight's pull quote as PNG quote cards (4:5 and 1:1, or the sizes in the client's [clips.card]).

    The card uses the client's [clips.card] colours and font, the speaker's name when the episode's speakers are
    named, and the client's name as the show. Each card comes with alt text carrying the whole quote.

    Example:

        castmill clips card 42
    """
    from pipeline.clips.quote_card import render_quote_cards

    with database_of(ctx).session() as session:
        cards = render_quote_cards(session, settings_of(ctx), cli_identity(), highlight_id, client_slug=client_slug)
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in cards], indent=2, ensure_ascii=False))
        return
    for card in cards:
        width, height = card.size
        shortened = ", quote shortened to fit" if card.shortened else ""
        click.echo(f"{'rendered' if card.rendered else 'unchanged'} card {card.aspect} {width}×{height}"
                   f"{shortened}: {card.path}")
        click.echo(f"  alt: {card.alt_text}")
