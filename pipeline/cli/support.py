"""Helpers shared by the CLI modules: settings and database from the click context, error mapping."""

from __future__ import annotations

import logging
import sys
from functools import wraps

import click
from rich.console import Console

from pipeline.core.settings import Settings
from pipeline.core.errors import CastmillError
from pipeline.core.vocab import ENGINES

ENGINE_CHOICE = click.Choice(ENGINES)
err_console = Console(stderr=True)


def friendly_errors(func):
    """Print a CastmillError as one line on stderr and exit non-zero."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CastmillError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def settings_of(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def database_of(ctx: click.Context):
    from pipeline.store.db import Database

    if "db" not in ctx.obj:
        ctx.obj["db"] = Database(settings_of(ctx).database_url)
    return ctx.obj["db"]


def transcribe_options(settings: Settings, engine, model, beam_size, vad, language):
    """The transcription options of a command without a client: its flags over the settings (``engine`` is
    chosen apart). The "auto" model is English-only unless ``--language`` names another language; a
    multilingual model without ``--language`` hears the language of every stretch."""
    import dataclasses

    from pipeline.core.vocab import AUTO_LANGUAGE
    from pipeline.transcribe import TranscribeOptions
    from pipeline.transcribe.languages import for_speakers, model_for

    options = TranscribeOptions.from_settings(settings.transcribe, model=model, language=language,
                                              beam_size=beam_size, vad=vad)
    options = dataclasses.replace(options, model=model_for(options.model, [language or "en"]))
    return for_speakers(options, [language] if language else [AUTO_LANGUAGE])


def cli_identity():
    """Who the command line acts as: staff, like an admin, named "cli" in the audit trail."""
    from pipeline.access.identity import system_identity

    return system_identity("cli")


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


_handlers: dict[str, logging.Handler] = {}


def configure_logging(verbose: bool) -> None:
    """Our loggers (and APScheduler's and procrastinate's warnings) to stderr; the root logger is left alone."""
    levels = {"castmill": logging.DEBUG if verbose else logging.INFO,
              "apscheduler": logging.DEBUG if verbose else logging.WARNING,
              "procrastinate": logging.DEBUG if verbose else logging.WARNING}
    for name, level in levels.items():
        logger = logging.getLogger(name)
        if name in _handlers:
            logger.removeHandler(_handlers[name])
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
        logger.setLevel(level)
        _handlers[name] = handler
