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
@click.option("--translate", is_flag=True,
              help="Write an English translation (Whisper's translate task, multilingual models), labelled as such.")
@click.option("--speakers", is_flag=True, help="Label who speaks (S1, S2 …) on every segment and word.")
@click.option("--num-speakers", type=click.IntRange(1, 20),
              help="How many people speak, with --speakers (default: estimated from the voices).")
@click.pass_context
@friendly_errors
def transcribe(ctx, file: Path, engine, model, fmt, language, beam_size, vad, translate, speakers,
               num_speakers) -> None:
    """Transcribe one media file to stdout; needs no database.

    Examples:

        castmill transcribe episode.mp3 --format srt > episode.srt

        castmill transcribe episode-id.mp3 --model base --translate --format vtt > captions-en.vtt

        castmill transcribe interview.mp3 --speakers --format json > interview.json
    """
    import dataclasses

    from pipeline.core.vocab import AUTO_MODEL, MULTILINGUAL_MODEL
    from pipeline.transcribe import ModelStore, transcribe_file
    from pipeline.transcribe.base import TRANSLATE
    from pipeline.transcribe.export import render

    settings = settings_of(ctx)
    if translate and (model or settings.transcribe.model) == AUTO_MODEL:
        model = MULTILINGUAL_MODEL  # the "auto" model would be the English-only one, which cannot translate
    options = transcribe_options(settings, engine, model, beam_size, vad, language)
    if translate:
        options = dataclasses.replace(options, task=TRANSLATE)
    store = ModelStore(settings.models_dir, settings.models)
    if num_speakers and not speakers:
        raise click.UsageError("--num-speakers goes with --speakers")
    result, audio = transcribe_file(file, engine or settings.transcribe.engine, options, store)
    if speakers:
        from pipeline.transcribe.stage import diarize_options, with_speakers

        result = with_speakers(result, audio, diarize_options(num_speakers or "auto"))
    click.echo(render(result, fmt))
