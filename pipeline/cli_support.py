"""Helpers shared by the CLI modules: settings and database from the click context, error mapping."""

from __future__ import annotations

import sys
from functools import wraps

import click
from rich.console import Console

from pipeline.config import Settings
from pipeline.errors import CastmillError

ENGINE_CHOICE = click.Choice(["faster-whisper", "openai-whisper"])
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
    from pipeline.db import Database

    if "db" not in ctx.obj:
        ctx.obj["db"] = Database(settings_of(ctx).database_url)
    return ctx.obj["db"]
