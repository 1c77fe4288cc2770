"""``castmill feeds add|list|remove|poll``: the feeds whose new episodes are picked up by themselves."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import click
from rich.console import Console
from rich.table import Table

from pipeline.cli.support import cli_identity, configure_logging, database_of, friendly_errors, settings_of


@click.group("feeds")
def feeds() -> None:
    """Watch clients' podcast feeds: new episodes are processed once, and you are told."""


@feeds.command("add")
@click.argument("url")
@click.option("--client", "client_slug", required=True, help="Client slug the episodes belong to.")
@click.option("--backfill", type=click.IntRange(min=0, max=50), default=0, show_default=True,
              help="Also process the newest N episodes the feed lists now (at its first poll).")
@click.pass_context
@friendly_errors
def feeds_add(ctx, url, client_slug, backfill) -> None:
    """Watch URL for the client's new episodes.

    Only episodes published from now on are new; the feed's older ones are left alone unless
    --backfill asks for the newest few. `castmill scheduler run` polls it every [feeds]
    poll_minutes; `castmill feeds poll` polls now.

    Examples:

        castmill feeds add https://example.com/feed.xml --client acme

        castmill feeds add https://example.com/feed.xml --client acme --backfill 2
    """
    from pipeline.watch import add_feed

    settings = settings_of(ctx)
    view = add_feed(cli_identity(), database_of(ctx), settings, client_slug, url, backfill=backfill)
    click.echo(f"{client_slug} now watches feed {view.id}: {view.title or view.url}")
    later = f"; the newest {backfill} already listed are processed at its first poll" if backfill else ""
    click.echo(f"new episodes are picked up every {settings.feeds.poll_minutes:g} min by `castmill scheduler run`"
               f"{later} (now: `castmill feeds poll --client {client_slug}`)")


@feeds.command("list")
@click.option("--client", "client_slug", help="Only this client's feeds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def feeds_list(ctx, client_slug, as_json) -> None:
    """Watched feeds: state, last and next poll, failures in a row and the last error.

    Example:

        castmill feeds list --client acme
    """
    from pipeline.watch import list_feeds

    with database_of(ctx).session() as session:
        views = list_feeds(cli_identity(), session, client_slug)
    if as_json:
        click.echo(json.dumps([v.to_dict() for v in views], indent=2, ensure_ascii=False))
        return
    if not views:
        click.echo("no feeds watched" + (f" for {client_slug}" if client_slug else "")
                   + "; add one with `castmill feeds add URL --client SLUG`")
        return
    table = Table("id", "client", "feed", "state", "last poll", "result", "next poll", "failures", "last error")
    for v in views:
        table.add_row(str(v.id), v.client, f"{v.title}\n{v.url}" if v.title else v.url, v.state, _when(v.last_poll_at),
                      v.last_result, _when(v.next_poll_at), str(v.failures), v.last_error)
    Console().print(table)


@feeds.command("remove")
@click.argument("feed")
@click.option("--client", "client_slug", required=True, help="Client slug.")
@click.pass_context
@friendly_errors
def feeds_remove(ctx, feed, client_slug) -> None:
    """Stop watching FEED (its id or URL); the episodes it brought stay.

    Example:

        castmill feeds remove 3 --client acme
    """
    from pipeline.watch import remove_feed

    with database_of(ctx).session() as session:
        view = remove_feed(cli_identity(), session, client_slug, feed)
    click.echo(f"{client_slug} no longer watches feed {view.id}: {view.url}")


@feeds.command("poll")
@click.option("--client", "client_slug", help="Only this client's feeds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.pass_context
@friendly_errors
def feeds_poll(ctx, client_slug, as_json, verbose) -> None:
    """Poll every watched feed now (due or not) and process what is new.

    Exit status is 1 when a feed could not be read.

    Example:

        castmill feeds poll --client acme
    """
    from pipeline.watch import poll_due

    if verbose:
        configure_logging(verbose)
    reports = poll_due(database_of(ctx), settings_of(ctx), client_slug=client_slug, force=True)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False, default=str))
    else:
        print_polls(reports)
    if any(not r.ok for r in reports):
        sys.exit(1)


def print_polls(reports) -> None:
    """One line per feed polled, one more per episode it brought (shared with `castmill scheduler run --once`)."""
    if not reports:
        click.echo("feeds: none to poll")
    for report in reports:
        said = f"failed: {report.error} (failure {report.failures})" if report.error else report.result
        click.echo(f"feed {report.feed_id} ({report.client}): {said}; next poll {_when(report.next_poll_at)}")
        for item in report.picked_up:
            episode = f" as episode {item.episode_id}" if item.episode_id else ""
            error = f": {item.error}" if item.error else ""
            click.echo(f"  {item.status}{episode}: {item.title}{error}")


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "-"
