"""``castmill user add|list|notify`` and ``castmill review-link``: dashboard accounts, how each is told about
reminders and notices, and client review links."""

from __future__ import annotations

import json
import sys
from datetime import timedelta

import click
from rich.console import Console
from rich.table import Table

from pipeline.access.options import DEFAULTS as ACCESS
from pipeline.core.vocab import ROLES
from pipeline.cli.support import database_of, err_console, friendly_errors, settings_of

ROLE_CHOICE = click.Choice(ROLES)


@click.group()
def user() -> None:
    """Manage the people who sign in to the dashboard."""


@user.command("add")
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, required=True, help="admin and va see every client; client only theirs.")
@click.option("--client", "client_slug", help="The client a client user belongs to.")
@click.option("--name", "display_name", default="", help="Name shown in the dashboard.")
@click.option("--timezone", default="UTC", show_default=True, help="The user's IANA zone, e.g. Europe/Berlin.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.pass_context
@friendly_errors
def user_add(ctx, email, role, client_slug, display_name, timezone, password_stdin) -> None:
    """Add a dashboard user; the password is asked for (hidden, twice) unless --password-stdin.

    Example:

        castmill user add anna@example.com --role va --name Anna

        printf '%s\\n' "$PASSWORD" | castmill user add budi@acme.test --role client --client acme --password-stdin
    """
    from pipeline.access.auth import add_user

    password = _read_password(password_stdin)
    with database_of(ctx).session() as session:
        created = add_user(session, email, password, role, client_slug=client_slug, display_name=display_name,
                           timezone=timezone, actor="cli")
        summary = f"added {created.role} {created.email}" + (f" for client {client_slug}" if client_slug else "")
    click.echo(summary)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@user.command("password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.pass_context
@friendly_errors
def user_password(ctx, email, password_stdin) -> None:
    """Set a new password for a user (asked for, hidden, twice, unless --password-stdin)."""
    from pipeline.access.auth import set_password

    password = _read_password(password_stdin)
    with database_of(ctx).session() as session:
        changed = set_password(session, email, password, actor="cli")
        click.echo(f"new password set for {changed.email}")


@user.command("disable")
@click.argument("email")
@click.option("--enable", is_flag=True, help="Re-enable the user instead.")
@click.pass_context
@friendly_errors
def user_disable(ctx, email, enable) -> None:
    """Stop a user from signing in (their open session ends at their next action); --enable undoes it."""
    from pipeline.access.auth import set_disabled

    with database_of(ctx).session() as session:
        changed = set_disabled(session, email, not enable, actor="cli")
        click.echo(f"{changed.email} is {'disabled' if changed.disabled else 'enabled'}")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def user_list(ctx, as_json: bool) -> None:
    """List dashboard users (never their passwords).

    Example:

        castmill user list --json
    """
    from pipeline.access.auth import list_users

    with database_of(ctx).session() as session:
        rows = [{"email": u.email, "role": u.role, "client": u.client_slug, "name": u.display_name,
                 "timezone": u.timezone, "disabled": u.disabled, "created_at": u.created_at.isoformat()}
                for u in list_users(session)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table("email", "role", "client", "name", "timezone", "disabled")
    for row in rows:
        table.add_row(row["email"], row["role"], row["client"] or "", row["name"], row["timezone"],
                      "yes" if row["disabled"] else "")
    Console().print(table)


@user.command("notify")
@click.argument("email")
@click.option("--email/--no-email", "by_email", default=None,
              help="Tell this user by email (the [notify] SMTP server); --no-email turns notifications off.")
@click.option("--webhook", "webhook_url", metavar="URL", help="Tell this user by a JSON POST to URL instead of email.")
@click.option("--off", "turn_off", is_flag=True, help="No reminders or notices for this user.")
@click.option("--digest", type=click.Choice(["daily", "off"]),
              help="daily: one mail a day at [notices] digest_hour in the user's zone; off: each pass at once.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def user_notify(ctx, email, by_email, webhook_url, turn_off, digest, as_json) -> None:
    """Show or change how EMAIL is told: reminders (client users) and notices (VA and admins).

    Without options it shows the current choice (default: email, at once).

    Example:

        castmill user notify budi@acme.test --email --digest daily

        castmill user notify va@example.com --webhook https://hooks.example.com/castmill
    """
    from pipeline.access.identity import system_identity
    from pipeline.core.errors import ConfigError
    from pipeline.core.vocab import NOTIFY_DAILY, NOTIFY_EMAIL, NOTIFY_IMMEDIATE, NOTIFY_OFF, NOTIFY_WEBHOOK
    from pipeline.publish.preferences import get_preferences, set_preferences

    chosen = [c for c, given in ((NOTIFY_EMAIL, by_email is True), (NOTIFY_WEBHOOK, bool(webhook_url)),
                                 (NOTIFY_OFF, turn_off or by_email is False)) if given]
    if len(chosen) > 1:
        raise ConfigError("choose one of --email, --webhook URL and --off (or --no-email)")
    cadence = {None: None, "daily": NOTIFY_DAILY, "off": NOTIFY_IMMEDIATE}[digest]
    with database_of(ctx).session() as session:
        if chosen or cadence:
            found = set_preferences(session, system_identity("cli"), email, channel=chosen[0] if chosen else None,
                                    cadence=cadence, webhook_url=webhook_url)
        else:
            found = get_preferences(session, system_identity("cli"), email)
    if as_json:
        click.echo(json.dumps(found.to_dict(), indent=2))
        return
    how = {NOTIFY_EMAIL: f"by email to {found.email}", NOTIFY_OFF: "not told (off)",
           NOTIFY_WEBHOOK: f"by webhook to {found.to_dict()['webhook']}"}[found.channel]
    when = " in a daily digest" if found.cadence == NOTIFY_DAILY and found.channel != NOTIFY_OFF else ""
    click.echo(f"{found.email}: {how}{when}")


@click.command("review-link")
@click.argument("client_slug", metavar="CLIENT")
@click.option("--hours", type=click.IntRange(1, 24 * 90), default=ACCESS.review_link_hours, show_default=True,
              help="How long the link works.")
@click.option("--base-url", help="The dashboard's address for clients (default: [server] public_url).")
@click.pass_context
@friendly_errors
def review_link(ctx, client_slug, hours, base_url) -> None:
    """Print a signed link that opens CLIENT's review queue (and nothing else) without a password.

    Example:

        castmill review-link acme --hours 48 --base-url https://review.example.com
    """
    from pipeline.access.auth import make_review_link_token, review_link_url
    from pipeline.core.clock import utcnow

    settings = settings_of(ctx)
    with database_of(ctx).session() as session:
        token = make_review_link_token(session, client_slug, hours, home=settings.home, actor="cli")
    click.echo(review_link_url(base_url or settings.server.public_url, token))
    until = utcnow() + timedelta(hours=hours)
    err_console.print(f"valid for {hours} hours, until {until:%Y-%m-%d %H:%M} UTC; anyone with it can review "
                      f"{client_slug}'s drafts", highlight=False)
