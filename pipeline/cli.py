"""The ``castmill`` command: parse, call the library, print. Errors become exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from pipeline.cli_support import ENGINE_CHOICE, database_of, err_console, friendly_errors, settings_of
from pipeline.config import Settings, load_client_profile, load_settings
from pipeline.errors import CastmillError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar="CASTMILL_HOME",
              help="Data folder (default ~/.castmill).")
@click.version_option(package_name="castmill")
@click.pass_context
def cli(ctx: click.Context, home: Path | None) -> None:
    """Castmill: podcast episodes in, social posts out."""
    try:
        ctx.obj = {"settings": load_settings(home)}
    except CastmillError as exc:
        raise click.ClickException(str(exc))


@cli.command()
@click.pass_context
@friendly_errors
def init(ctx: click.Context) -> None:
    """Create or migrate the database.

    Example:

        castmill init
    """
    from pipeline.db import current_revision, safe_url

    db = database_of(ctx)
    click.echo(f"database ready at revision {current_revision(db.engine)}: {safe_url(db.url)}")


# --- clients ------------------------------------------------------------------------------------

@cli.group()
def client() -> None:
    """Manage clients."""


@client.command("add")
@click.argument("slug")
@click.option("--name", required=True, help="Display name, e.g. \"Acme Podcast\".")
@click.option("--timezone", default="UTC", show_default=True, help="IANA zone, e.g. America/New_York.")
@click.option("--language", default="en", show_default=True, help="Language of the client's posts.")
@click.pass_context
@friendly_errors
def client_add(ctx, slug, name, timezone, language) -> None:
    """Add (or update) a client.

    Example:

        castmill client add acme --name "Acme Podcast" --timezone America/New_York --language en
    """
    from pipeline.clients import build_profile, upsert_client

    profile = build_profile(slug=slug, name=name, timezone=timezone, language=language)
    with database_of(ctx).session() as session:
        _client, created = upsert_client(session, profile)
    click.echo(f"{'added' if created else 'updated'} client {slug}")


@client.command("import")
@click.argument("profile", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
@friendly_errors
def client_import(ctx, profile: Path) -> None:
    """Add or update a client from a TOML profile.

    Example:

        castmill client import config/clients/example.toml
    """
    from pipeline.clients import upsert_client

    loaded = load_client_profile(profile)
    with database_of(ctx).session() as session:
        _client, created = upsert_client(session, loaded)
    click.echo(f"{'added' if created else 'updated'} client {loaded.slug}")


@client.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def client_list(ctx, as_json: bool) -> None:
    """List clients."""
    from pipeline.clients import list_clients

    with database_of(ctx).session() as session:
        rows = [{"slug": c.slug, "name": c.name, "timezone": c.timezone, "language": c.language}
                for c in list_clients(session)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table("slug", "name", "timezone", "language")
    for row in rows:
        table.add_row(*row.values())
    Console().print(table)


# --- processing ---------------------------------------------------------------------------------

def transcribe_options(settings: Settings, engine, model, beam_size, vad, language):
    from pipeline.transcribe import TranscribeOptions

    t = settings.transcribe
    return TranscribeOptions(
        model=model or t.model,
        language=language,
        beam_size=beam_size or t.beam_size,
        vad=t.vad if vad is None else vad,
        compute_type=t.compute_type,
        batch_size=t.batch_size,
    )


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--client", "client_slug", required=True, help="Client slug the episodes belong to.")
@click.option("--latest", type=click.IntRange(min=1), help="Newest N episodes of each feed.")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Episodes transcribed in parallel (capped by cores and free memory).")
@click.option("--engine", type=ENGINE_CHOICE, help="Transcription engine (default from settings).")
@click.option("--model", help="Model name or path (default tiny.en, bundled).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report instead of progress bars.")
@click.pass_context
@friendly_errors
def process(ctx, inputs, client_slug, latest, jobs, engine, model, as_json) -> None:
    """Ingest and transcribe files, folders and RSS/Atom feeds for a client.

    Finished stages are skipped on a re-run; a bad episode is reported and the
    batch goes on. Exit status is 1 when any input failed.

    Example:

        castmill process --client acme episodes/*.mp3 https://example.com/feed.xml --latest 3
    """
    from pipeline.ingest import get_client
    from pipeline.progress import RichReporter
    from pipeline.runner import TranscribeJob, process_batch

    settings = settings_of(ctx)
    job = TranscribeJob(engine or settings.transcribe.engine, transcribe_options(settings, engine, model, None, None, None))
    db = database_of(ctx)
    with db.session() as session:
        get_client(session, client_slug)  # before any progress bar is drawn
    if as_json:
        report = process_batch(db, settings, client_slug, list(inputs), job=job, latest=latest, jobs=jobs)
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        with RichReporter(err_console) as reporter:
            report = process_batch(db, settings, client_slug, list(inputs), job=job, latest=latest, jobs=jobs,
                                   reporter=reporter)
        done = len(report.outcomes) - len(report.failed)
        click.echo(f"{done} episode(s) ready, {len(report.failed)} failed")
    if not report.ok:
        sys.exit(1)


@cli.group()
def episodes() -> None:
    """Inspect episodes."""


@episodes.command("list")
@click.option("--client", "client_slug", help="Only this client's episodes.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def episodes_list(ctx, client_slug, as_json) -> None:
    """Status of every stage per episode.

    Example:

        castmill episodes list --client acme --json
    """
    from pipeline.episodes import list_episodes

    with database_of(ctx).session() as session:
        rows = list_episodes(session, client_slug)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    from pipeline.stages import STAGES

    table = Table("id", "client", "title", "duration", *STAGES, "error")
    for r in rows:
        stages = [r.stages[s] + (f" ({r.highlights})" if s == "highlights" and r.stages[s] == "done" else "")
                  for s in STAGES]
        table.add_row(str(r.id), r.client, r.title, f"{r.duration:.0f} s", *stages, r.error or "")
    Console().print(table)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--engine", type=ENGINE_CHOICE, help="Transcription engine (default faster-whisper).")
@click.option("--model", help="Model name or path (default tiny.en, bundled).")
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

from pipeline.cli_clips import clips  # noqa: E402  (commands live in their own modules)
from pipeline.cli_drafts import drafts, templates  # noqa: E402
from pipeline.cli_highlights import feedback, highlights, refit  # noqa: E402
from pipeline.cli_accounts import accounts_group  # noqa: E402
from pipeline.cli_calendar import calendar_group, schedule_group  # noqa: E402
from pipeline.cli_users import review_link, user  # noqa: E402
from pipeline.cli_scheduler import metrics, report, scheduler  # noqa: E402

for command in (highlights, feedback, refit, drafts, templates, clips, schedule_group, calendar_group, accounts_group,
                user, review_link, scheduler, metrics, report):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="castmill")


if __name__ == "__main__":
    main()
