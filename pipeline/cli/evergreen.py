"""``castmill evergreen mark|unmark|list|run``: published posts recycled into free posting slots."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import click

from pipeline.cli.support import cli_identity, database_of, friendly_errors, settings_of


@click.group("evergreen")
def evergreen() -> None:
    """Recycle good published posts into free posting slots.

    Examples:

    \b
        castmill evergreen mark 42
        castmill evergreen run --client acme
        castmill evergreen list --client acme
        castmill evergreen unmark 42
    """


@evergreen.command("mark")
@click.argument("post_id", type=int)
@click.pass_context
@friendly_errors
def evergreen_mark(ctx, post_id) -> None:
    """Mark the published post POST_ID evergreen: copies of it go out again after [evergreen] min_interval_days."""
    from pipeline.publish.evergreen import mark

    with database_of(ctx).session() as session:
        row = mark(session, cli_identity(), post_id)
        click.echo(f"post {post_id} is evergreen ({row.platform}); `castmill evergreen run` queues its next copy")


@evergreen.command("unmark")
@click.argument("post_id", type=int)
@click.pass_context
@friendly_errors
def evergreen_unmark(ctx, post_id) -> None:
    """Stop recycling POST_ID (copies already on the calendar stay: cancel them there)."""
    from pipeline.publish.evergreen import unmark

    with database_of(ctx).session() as session:
        unmark(session, cli_identity(), post_id)
    click.echo(f"post {post_id} is no longer evergreen")


@evergreen.command("list")
@click.option("--client", "client_slug", help="Only this client's evergreen posts.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def evergreen_list(ctx, client_slug, as_json) -> None:
    """The evergreen posts, whether they are still recycled, and how many copies were made."""
    from dataclasses import asdict

    from pipeline.publish.evergreen import list_evergreen

    with database_of(ctx).session() as session:
        rows = list_evergreen(session, cli_identity(), client_slug)
    if as_json:
        click.echo(json.dumps([asdict(row) for row in rows], indent=2))
        return
    for row in rows:
        state = "active" if row.active else f"stopped: {row.stop_reason}" if row.stop_reason else "unmarked"
        click.echo(f"{row.client_slug} post {row.post_id} ({row.platform}): {state}, {row.copies} copies")
    if not rows:
        click.echo("no evergreen posts")


@evergreen.command("run")
@click.option("--client", "client_slug", help="Only this client's evergreen posts.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def evergreen_run(ctx, client_slug, as_json) -> None:
    """One recycling pass now (the scheduler runs one every hour): queue the next copy of each evergreen post.

    Example:

        castmill evergreen run --client acme
    """
    from pipeline.publish.evergreen import recycle_pass

    if client_slug:
        from pipeline.store.clients import get_client

        with database_of(ctx).session() as session:
            get_client(session, client_slug)  # an unknown slug is an error, not "nothing to do"
    outcomes = recycle_pass(database_of(ctx).session, settings_of(ctx).evergreen,
                            clock=lambda: datetime.now(timezone.utc), client_slug=client_slug)
    if as_json:
        click.echo(json.dumps([jsonable_outcome(o) for o in outcomes], indent=2))
        return
    for outcome in outcomes:
        click.echo(outcome.line())
    if not outcomes:
        click.echo("no evergreen posts to recycle")


def jsonable_outcome(outcome) -> dict:
    from dataclasses import asdict

    data = asdict(outcome)
    data["due_at"] = outcome.due_at.isoformat() if outcome.due_at else None
    return data


def evergreen_job(ctx) -> list:
    """The scheduler's pass (every hour, and in `scheduler run --once`), its changes logged."""
    import logging

    from pipeline.publish.evergreen import recycle_pass

    log = logging.getLogger("castmill.evergreen")
    outcomes = recycle_pass(database_of(ctx).session, settings_of(ctx).evergreen)
    for outcome in outcomes:
        if outcome.action in ("scheduled", "awaiting approval", "stopped"):
            log.info("%s", outcome.line())
    return outcomes
