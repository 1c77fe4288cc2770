"""castmill process (the batch runner), castmill episodes list and castmill episodes speakers."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.table import Table

from pipeline.cli.support import ENGINE_CHOICE, cli_identity, database_of, err_console, friendly_errors, settings_of


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--client", "client_slug", required=True, help="Client slug the episodes belong to.")
@click.option("--latest", type=click.IntRange(min=1), help="Newest N episodes of each feed.")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Episodes transcribed in parallel (capped by cores and free memory).")
@click.option("--engine", type=ENGINE_CHOICE, help="Transcription engine (default from settings).")
@click.option("--model", help="tiny.en, base, another name or a path; default: tiny.en for clients who speak only English, base otherwise.")
@click.option("--queue", "queued", is_flag=True,
              help="Put the episodes on the PostgreSQL job queue for `castmill worker`s, instead of processing here.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report instead of progress bars.")
@click.pass_context
@friendly_errors
def process(ctx, inputs, client_slug, latest, jobs, engine, model, queued, as_json) -> None:
    """Ingest and transcribe files, folders and RSS/Atom feeds for a client.

    Finished stages are skipped on a re-run; a bad episode is reported and the
    batch goes on. Exit status is 1 when any input failed.

    With --queue, local files are copied into the media store and each episode becomes jobs that
    workers on any machine run (`castmill worker`; see `castmill jobs list`).

    Examples:

        castmill process --client acme episodes/*.mp3 https://example.com/feed.xml --latest 3

        castmill process --client acme --queue episodes/
    """
    from pipeline.store.clients import get_client
    from pipeline.core.progress import RichReporter
    from pipeline.batch import TranscribeJob, process_batch

    settings = settings_of(ctx)
    job = TranscribeJob.from_settings(settings.transcribe, engine=engine, model=model)
    db = database_of(ctx)
    with db.session() as session:
        get_client(session, client_slug)  # before any progress bar is drawn
    if queued:
        _enqueue(db, settings, client_slug, list(inputs), job, latest, as_json)
        return
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


def _enqueue(db, settings, client_slug, inputs, job, latest, as_json) -> None:
    from pipeline.jobs.enqueue import enqueue_batch

    report = enqueue_batch(db, settings, client_slug, inputs, job=job, latest=latest)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        for item in report.sources:
            if item.error:
                err_console.print(f"[red]failed[/] {item.source}: {item.error}", highlight=False)
            else:
                state = f"queued as job {item.job_id}" if item.job_id else "already waiting in the queue"
                click.echo(f"{item.source}: {state}")
        click.echo(f"{len(report.sources) - len(report.failed)} episode(s) queued, {len(report.failed)} failed; "
                   "follow them with `castmill jobs list`")
    if not report.ok:
        sys.exit(1)


@click.group("episodes")
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
    from pipeline.store.episodes import list_episodes

    with database_of(ctx).session() as session:
        rows = list_episodes(session, client_slug)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    from pipeline.core.vocab import STAGES

    table = Table("id", "client", "title", "duration", *STAGES, "error / warning")
    for r in rows:
        stages = [r.stages[s] + (f" ({r.highlights})" if s == "highlights" and r.stages[s] == "done" else "")
                  for s in STAGES]
        notes = "\n".join(filter(None, [r.error, *(f"[yellow]warning:[/] {w}" for w in r.warnings)]))
        table.add_row(str(r.id), r.client, r.title, f"{r.duration:.0f} s", *stages, notes)
    Console().print(table)


@episodes.command("speakers")
@click.argument("episode_id", type=int)
@click.option("--name", "names", multiple=True, metavar="LABEL=NAME",
              help="Name a speaker, e.g. --name S1=Dinda (repeatable); LABEL= gives it its label back.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def episodes_speakers(ctx, episode_id, names, as_json) -> None:
    """Who speaks in an episode, and the names they go by in captions, quotes and drafts.

    Examples:

        castmill episodes speakers 3

        castmill episodes speakers 3 --name S1=Dinda --name S2="Budi Santoso"
    """
    from pipeline.clips.stage import name_speakers
    from pipeline.transcribe.speakers import episode_speakers

    pairs = dict(_label_and_name(item) for item in names)
    with database_of(ctx).session() as session:
        if pairs:
            name_speakers(session, settings_of(ctx), cli_identity(), episode_id, pairs)
        speakers = episode_speakers(session, cli_identity(), episode_id)
    if as_json:
        click.echo(json.dumps([s.__dict__ for s in speakers], indent=2, ensure_ascii=False))
        return
    if pairs:
        click.echo(f"clip captions now use these names; drafts already written get them with "
                   f"`castmill drafts generate {episode_id}` (a new version where the text changes)")
    if not speakers:
        click.echo(f"episode {episode_id} has no speaker labels (diarization off, or not transcribed yet)")
        return
    table = Table("label", "name", "speaks", "share")
    for s in speakers:
        table.add_row(s.label, s.name, f"{s.seconds:.0f} s", f"{s.share:.0%}")
    Console().print(table)


def _label_and_name(item: str) -> tuple[str, str]:
    label, sep, name = item.partition("=")
    if not sep or not label.strip():
        raise click.BadParameter(f"{item!r}: write LABEL=NAME, e.g. S1=Dinda", param_hint="--name")
    return label.strip(), name
