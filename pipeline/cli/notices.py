"""``castmill notices list``: the notification outbox (reminders to clients, notices to the VA)."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from pipeline.cli.support import database_of, friendly_errors
from pipeline.core.vocab import NOTICE_STATUSES


@click.group("notices")
def notices() -> None:
    """Reminders and notices: what was sent, what waits, what failed and why."""


@notices.command("list")
@click.option("--status", type=click.Choice(NOTICE_STATUSES), help="Only notifications in this state.")
@click.option("--client", "client_slug", help="Only this client's.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def notices_list(ctx, status, client_slug, limit, as_json) -> None:
    """The newest notifications first: kind, recipient, item, state, tries and the last error.

    `castmill scheduler run` queues and sends them. A "failed" one is tried again with back-off; an
    "unknown" one left for the server but its answer was lost, so it is never sent again.

    Example:

        castmill notices list --status failed

        castmill notices list --client acme --json
    """
    from pipeline.access.identity import system_identity
    from pipeline.publish.notices import outbox

    with database_of(ctx).session() as session:
        entries = outbox(session, system_identity("cli"), status=status, client_slug=client_slug, limit=limit)
    if as_json:
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2))
        return
    if not entries:
        click.echo("no notifications" + (f" {status}" if status else ""))
        return
    table = Table("id", "kind", "to", "client", "item", "status", "tries", "when (UTC)", "last error")
    for e in entries:
        when = e.sent_at or e.next_attempt_at or e.send_after
        table.add_row(str(e.id), e.kind, e.recipient, e.client_slug, e.item, e.status, str(e.attempts),
                      f"{when:%Y-%m-%d %H:%M}", e.last_error)
    Console().print(table)
