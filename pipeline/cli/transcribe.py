"""castmill transcribe FILE: one file to text, JSON, SRT or VTT, without the database."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.support import ENGINE_CHOICE, friendly_errors, settings_of, transcribe_options


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--engine", type=ENGINE_CHOICE, help="Transcription engine (default faster-whisper).")
@click.option("--model", help="tiny.en (English, bundled), base (99 languages, packaged), another name or a path; default: base when --language is not English, else tiny.en.")
@click.option("--format", "fmt", type=click.Choice(["json", "srt", "vtt", "txt"]), default="txt", show_default=True)
@click.option("--language", help="Spoken language code; detected when omitted.")
@click.option("--beam-size", type=click.IntRange(1, 20), help="Beam width (default 5).")
@click.option("--vad/--no-vad", default=None, help="Skip silences with voice activity detection (default on).")
@click.pass_context
@friendly_errors
def transcribe(ctx, file: Path, engine, model, fmt, language, beam_size, vad) -> None:
    """Transcribe one media file to stdout; needs no database.

    Example:

        castmill transcribe episode.mp3 --format srt > episode.srt
    """
    from pipeline.transcribe import ModelStore, transcribe_file
    from pipeline.transcribe.export import render

    settings = settings_of(ctx)
    options = transcribe_options(settings, engine, model, beam_size, vad, language)
    store = ModelStore(settings.models_dir, settings.models)
    result, _audio = transcribe_file(file, engine or settings.transcribe.engine, options, store)
    click.echo(render(result, fmt))
