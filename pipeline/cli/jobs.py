"""``castmill worker`` and ``castmill jobs list|retry|cancel``: the PostgreSQL job queue."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from pipeline.cli.support import cli_identity, configure_logging, database_of, friendly_errors, settings_of
from pipeline.core.vocab import STAGES


@click.command("worker")
@click.option("--queues", default="", metavar="STAGE,…",
              help=f"Only these stages' jobs, comma-separated ({', '.join(STAGES)}); default: all.")
@click.option("--concurrency", type=click.IntRange(min=1, max=64), help="Jobs run at once (default from settings: 1).")
@click.option("--name", default="", help="Name shown for this worker (default host:pid).")
@click.option("--until-idle", is_flag=True, help="Stop once no job is waiting, instead of waiting for more.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.pass_context
@friendly_errors
def worker(ctx, queues, concurrency, name, until_idle, verbose) -> None:
    """Take episodes' jobs from the queue and run them, until stopped.

    Run one per machine that can reach the database and the media store. SIGTERM or Ctrl-C
    lets the running jobs finish first; a worker killed outright has its jobs taken over by
    another worker once its heartbeat is older than [queue] stalled_after.

    Examples:

        castmill worker

        castmill worker --queues transcribe --concurrency 1
    """
    from pipeline.jobs.options import QueueOptions
    from pipeline.jobs.worker import WorkerSpec, run_worker

    settings = settings_of(ctx)
    options = QueueOptions.from_settings(settings.queue, concurrency=concurrency)
    spec = WorkerSpec(_queues(queues), name, until_idle)
    configure_logging(verbose)
    run_worker(database_of(ctx), settings, options, spec)


def _queues(text: str) -> tuple[str, ...]:
    names = tuple(q.strip() for q in text.split(",") if q.strip())
    unknown = [q for q in names if q not in STAGES]
    if unknown:
        raise click.BadParameter(f"unknown stage {unknown[0]!r}; stages: {', '.join(STAGES)}", param_hint="--queues")
    return names


@click.group("jobs")
def jobs() -> None:
    """See and manage the job queue (PostgreSQL only)."""


@jobs.command("list")
@click.option("--client", "client_slug", help="Only this client's jobs.")
@click.option("--status", help="todo, doing, succeeded, failed, cancelled, aborting or aborted.")
@click.option("--episode", "episode_id", type=int, help="Only this episode's jobs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def jobs_list(ctx, client_slug, status, episode_id, as_json) -> None:
    """Jobs, newest first, with their worker and last error.

    Example:

        castmill jobs list --status failed
    """
    from pipeline.jobs.manage import list_jobs

    rows = list_jobs(cli_identity(), database_of(ctx), client=client_slug, status=status, episode_id=episode_id)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2, ensure_ascii=False))
        return
    table = Table("job", "stage", "status", "runs", "client", "episode", "worker", "error")
    for r in rows:
        episode = f"{r.episode_id} {r.title}" if r.episode_id else r.title
        table.add_row(str(r.id), r.stage, r.status, str(r.attempts), r.client, episode, r.worker, r.error)
    Console().print(table)


@jobs.command("retry")
@click.argument("job_ids", type=int, nargs=-1, required=True)
@click.pass_context
@friendly_errors
def jobs_retry(ctx, job_ids) -> None:
    """Run failed, parked or cancelled jobs again.

    Example:

        castmill jobs retry 41 42
    """
    from pipeline.jobs.manage import retry_job

    for job_id in job_ids:
        retry_job(cli_identity(), database_of(ctx), settings_of(ctx), job_id)
        click.echo(f"job {job_id} queued again")


@jobs.command("cancel")
@click.argument("job_ids", type=int, nargs=-1, required=True)
@click.pass_context
@friendly_errors
def jobs_cancel(ctx, job_ids) -> None:
    """Cancel waiting jobs; a running one finishes its stage and queues nothing after it.

    Example:

        castmill jobs cancel 43
    """
    from pipeline.jobs.manage import cancel_job

    for job_id in job_ids:
        outcome = cancel_job(cli_identity(), database_of(ctx), settings_of(ctx), job_id)
        click.echo(f"job {job_id} {outcome}" + (" (it stops after its current stage)" if outcome == "aborting" else ""))
