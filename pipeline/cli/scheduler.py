"""``castmill scheduler run``, ``castmill metrics fetch``, ``castmill report weekly``."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import click

from pipeline.cli.support import configure_logging, database_of, err_console, friendly_errors, settings_of
from pipeline.publish.options import SchedulerOptions

SCHEDULER = SchedulerOptions()  # the defaults of the scheduler flags

def _now() -> datetime:
    return datetime.now(timezone.utc)


# --- scheduler -----------------------------------------------------------------------------------------

@click.group("scheduler")
def scheduler() -> None:
    """Publish scheduled posts when they are due."""


@scheduler.command("run")
@click.option("--once", is_flag=True, help="One pass (reconcile, publish what is due, send reminders and notices, "
                                         "poll the feeds that are due, recycle evergreen posts), then exit.")
@click.option("--worker-id", default=None, help="Name of this worker in claims and attempts (default host:pid).")
@click.option("--interval", type=click.FloatRange(min=0.05), default=5.0, show_default=True,
              help="Seconds between passes of the claim loop.")
@click.option("--batch-size", type=click.IntRange(min=1, max=1000), default=SCHEDULER.batch_size, show_default=True,
              help="Posts claimed per atomic claim.")
@click.option("--lease-seconds", type=click.IntRange(min=1), default=SCHEDULER.lease_seconds, show_default=True,
              help="How long a claim holds; a worker gone longer than this has its posts reconciled.")
@click.option("--max-attempts", type=click.IntRange(min=1, max=50), default=SCHEDULER.publish.max_attempts, show_default=True,
              help="Attempts per post before a temporary error becomes a failure.")
@click.option("--json", "as_json", is_flag=True, help="With --once: print the pass's report as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.pass_context
@friendly_errors
def scheduler_run(ctx, once, worker_id, interval, batch_size, lease_seconds, max_attempts, as_json, verbose) -> None:
    """Run the publisher: every INTERVAL seconds claim due posts and publish them; poll watched feeds.

    On start it reports (and logs) the posts it missed while it was not running. Stop it with
    SIGTERM or Ctrl-C: the post being sent is finished, claimed posts not yet started are handed back.
    Several schedulers may run against one database; a post is claimed by one of them only.
    Every minute it polls the watched feeds that are due (`castmill feeds`) and processes new episodes;
    every hour it queues copies of evergreen posts into free future slots (`castmill evergreen`).

    Example:

        castmill scheduler run --interval 5
        castmill scheduler run --once --json
    """
    from pipeline.publish.notices import NoticeService
    from pipeline.publish.attempts import PublishOptions, default_publisher_factory
    from pipeline.publish.scheduler import Scheduler, SchedulerOptions, default_worker_id, run_forever

    from pipeline.watch import WatchOptions

    configure_logging(verbose)
    settings = settings_of(ctx)
    WatchOptions.from_settings(settings)  # a wrong [feeds] table stops the start, not a log line every minute
    db = database_of(ctx)
    options = SchedulerOptions(worker=worker_id or default_worker_id(), batch_size=batch_size,
                               lease_seconds=lease_seconds, publish=PublishOptions(max_attempts=max_attempts))
    notices = NoticeService.from_settings(settings, db.session, worker=options.worker)
    runner = Scheduler(db.session, default_publisher_factory(settings.home, settings.network), options,
                       notices=notices)
    startup = runner.startup()  # also logged
    if not as_json:
        click.echo("\n".join(startup.lines()))
    if once:
        _print_tick(runner.tick(), startup, as_json, _feeds_job(ctx), _evergreen_job(ctx))
        return
    err_console.print(f"scheduler {options.worker}: claiming every {interval:g} s (Ctrl-C to stop)",
                      markup=False, highlight=False)
    run_forever(runner, interval=interval, metrics_job=lambda: _metrics_job(ctx),
                credentials_job=lambda: _credentials_job(ctx),
                feeds_job=lambda: _feeds_job(ctx, runner.stopping.is_set), evergreen_job=lambda: _evergreen_job(ctx))
    err_console.print(f"scheduler {options.worker} stopped", markup=False, highlight=False)


def _print_tick(report, startup, as_json: bool, feed_polls: list, recycled: list) -> None:
    from pipeline.cli.evergreen import jsonable_outcome

    if as_json:
        click.echo(json.dumps({
            "feeds": [poll.to_dict() for poll in feed_polls],
            "evergreen": [jsonable_outcome(outcome) for outcome in recycled],
            "startup": {"missed": [_jsonable(m) for m in startup.missed], "expired": list(startup.expired)},
            "expired": list(report.expired), "reconciled": [asdict(o) for o in report.reconciled],
            "outcomes": [asdict(o) for o in report.outcomes], "missed": [_jsonable(m) for m in report.missed],
            "released": list(report.released), "notified": report.notified, "published": report.published,
        }, indent=2))
        return
    by_status: dict[str, int] = {}
    for outcome in report.outcomes + report.reconciled:
        by_status[outcome.status] = by_status.get(outcome.status, 0) + 1
    parts = [f"{n} {status}" for status, n in sorted(by_status.items())]
    if report.missed:
        parts.append(f"{len(report.missed)} missed")
    click.echo("pass done: " + (", ".join(parts) if parts else "nothing due"))
    for outcome in report.outcomes + report.reconciled:
        if outcome.status != "published":
            click.echo(f"  post {outcome.post_id}: {outcome.status}: {outcome.message}")
    if feed_polls:
        from pipeline.cli.feeds import print_polls

        print_polls(feed_polls)
    for outcome in recycled:
        if outcome.action in ("scheduled", "awaiting approval", "stopped"):
            click.echo(f"  {outcome.line()}")


def _jsonable(missed) -> dict:
    data = asdict(missed)
    data["due_at"] = missed.due_at.isoformat()
    return data


def _metrics_job(ctx) -> None:
    from pipeline.publish.metrics import fetch_metrics
    from pipeline.publish.attempts import default_publisher_factory

    settings = settings_of(ctx)
    report = fetch_metrics(database_of(ctx).session, default_publisher_factory(settings.home, settings.network),
                           now=_now())
    logging.getLogger("castmill.metrics").info("metrics: %d fetched, %d platforms without numbers, %d problems",
                                               report.fetched, report.unsupported, len(report.problems))


def _feeds_job(ctx, stopping=lambda: False) -> list:
    """The watched feeds that are due, polled; new episodes processed (or queued) and announced."""
    from pipeline.watch import poll_due

    return poll_due(database_of(ctx), settings_of(ctx), stopping=stopping)


def _evergreen_job(ctx) -> list:
    from pipeline.cli.evergreen import evergreen_job

    return evergreen_job(ctx)


def _credentials_job(ctx) -> None:
    from pipeline.media.safe_fetch import safe_session
    from pipeline.publish.credentials import check_accounts

    log = logging.getLogger("castmill.credentials")
    with database_of(ctx).session() as session, safe_session(settings_of(ctx).network) as http:
        checks = check_accounts(session, now=_now(), http=http)
    for check in checks:
        name = f"{check.client_slug}/{check.platform}/{check.name}"
        if not check.ok:
            log.warning("account %s: %s", name, check.message)
        elif check.warning:
            log.warning("account %s: %s", name, check.warning)


# --- metrics -------------------------------------------------------------------------------------------

@click.group("metrics")
def metrics() -> None:
    """Engagement numbers of published posts."""


@metrics.command("fetch")
@click.option("--client", "client_slug", help="Only this client's posts.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def metrics_fetch(ctx, client_slug, as_json) -> None:
    """Fetch likes, reposts, replies and views for posts published in the last 30 days.

    Posts fetched less than an hour ago are skipped. Platforms without an engagement API are counted,
    not errors.

    Example:

        castmill metrics fetch --client acme
    """
    from pipeline.publish.metrics import fetch_metrics
    from pipeline.publish.attempts import default_publisher_factory

    if client_slug:
        from pipeline.store.clients import get_client

        with database_of(ctx).session() as session:
            get_client(session, client_slug)  # an unknown slug is an error, not "0 fetched"
    settings = settings_of(ctx)
    report = fetch_metrics(database_of(ctx).session, default_publisher_factory(settings.home, settings.network),
                           now=_now(), client_slug=client_slug)
    if as_json:
        click.echo(json.dumps({"fetched": report.fetched, "unsupported": report.unsupported,
                               "problems": [asdict(p) for p in report.problems]}, indent=2))
    else:
        click.echo(f"fetched {report.fetched}, no numbers from the platform for {report.unsupported}, "
                   f"problems {len(report.problems)}")
        for problem in report.problems:
            click.echo(f"  post {problem.post_id}: {problem.message}")
    if report.problems:
        sys.exit(1)


# --- reports -------------------------------------------------------------------------------------------

@click.group("report")
def report() -> None:
    """Reports for the client's review."""


@report.command("weekly")
@click.option("--client", "client_slug", required=True, help="Client slug.")
@click.option("--week", help="ISO week like 2026-W48 (default: the current week in the client's time zone).")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout.")
@click.pass_context
@friendly_errors
def report_weekly(ctx, client_slug, week, fmt, out) -> None:
    """The week's posts (published, failed, missed), approvals and engagement, with a chart, and the best
    time to post per platform (a heatmap in the HTML).

    Example:

        castmill report weekly --client acme --week 2026-W48 --format html --out acme-w48.html
    """
    from pipeline.publish.options import BestTimeOptions
    from pipeline.publish.reports import build_weekly, render_weekly

    best_time = BestTimeOptions.from_settings(settings_of(ctx).best_time)
    with database_of(ctx).session() as session:
        data = build_weekly(session, client_slug, week=week, now=_now(), best_time=best_time)
    text = render_weekly(data, fmt)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)
