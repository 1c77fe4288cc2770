"""``castmill schedule …``, ``castmill calendar …`` and ``castmill accounts …``.

The CLI acts as the system: one staff identity (``cli_identity``) for every command.
Times are printed in UTC and in the client's own zone.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta, timezone

import click
from rich.console import Console
from rich.table import Table

from pipeline.cli_support import database_of, friendly_errors
from pipeline.errors import ConfigError

STATUSES = ("scheduled", "publishing", "published", "unknown", "failed", "missed", "cancelled")
PREVIEW_CHARS = 40
LIST_DAYS = 28  # `calendar list` without --to shows four weeks


def cli_identity():
    """Who the command line acts as: staff, like an admin, named "cli" in the audit trail."""
    from pipeline.auth import system_identity

    return system_identity("cli")


def parse_time(text: str) -> datetime:
    """"2026-12-01 09:00" (naive, local to a zone) or with an offset ("2026-12-01T09:00+01:00")."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f'cannot read time {text!r}: write "YYYY-MM-DD HH:MM" (local) '
                          'or add an offset like "2026-12-01T09:00+01:00"') from None


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"{option}: cannot read date {text!r}: write YYYY-MM-DD") from None


def both_times(utc: datetime, tz: str) -> str:
    from pipeline.calendar import to_local

    local = to_local(utc, tz)
    return f"{utc:%Y-%m-%d %H:%M} UTC = {local:%Y-%m-%d %H:%M %Z} ({tz})"


def post_dict(post, client_tz: str) -> dict:
    from pipeline.calendar import as_utc, to_local

    due = as_utc(post.due_at)
    return {"post_id": post.id, "draft_id": post.draft_id, "status": post.status, "publisher": post.platform,
            "account_id": post.account_id, "due_at_utc": due.isoformat(),
            "due_local_client": to_local(due, client_tz).isoformat(), "client_timezone": client_tz,
            "idempotency_key": post.idempotency_key, "late_minutes": post.late_minutes}


def _client_zone(session, post) -> str:
    from pipeline.models import Client

    return session.get(Client, post.client_id).timezone or "UTC"


def _say_post(verb: str, post, client_tz: str) -> None:
    from pipeline.calendar import as_utc

    click.echo(f"{verb} post {post.id} (draft {post.draft_id}, via {post.platform}) "
               f"at {both_times(as_utc(post.due_at), client_tz)}")


# --- schedule -----------------------------------------------------------------------------------

class DefaultCommandGroup(click.Group):
    """A group whose first argument may be a subcommand or, when it is not one, the default command's
    arguments: `castmill schedule 12` runs `castmill schedule draft 12`."""

    def __init__(self, *args, default_command: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_command = default_command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


@click.group("schedule", cls=DefaultCommandGroup, default_command="draft")
def schedule_group() -> None:
    """Put approved drafts on the calendar.

    Examples:

    \b
        castmill schedule 12 --at "2026-12-01 09:00" --tz America/New_York
        castmill schedule 12          # the client's next free posting slot
        castmill schedule auto --client acme --days 28
    """


@schedule_group.command("draft")
@click.argument("draft_id", type=int)
@click.option("--at", "at_text", help='"YYYY-MM-DD HH:MM" local to --tz; default: the next free posting slot.')
@click.option("--tz", help="IANA zone of --at (default: the client's zone).")
@click.option("--account", "account_name", help="The client's account name for the platform (default: \"default\").")
@click.option("--late-minutes", type=click.IntRange(min=0), default=60, show_default=True,
              help="Still publish when the scheduler is late by at most this; otherwise the post is missed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def schedule_draft(ctx, draft_id, at_text, tz, account_name, late_minutes, as_json) -> None:
    """Schedule the approved version of one draft (the default command: `castmill schedule 12`).

    Example:

        castmill schedule 12 --at "2026-12-01 09:00" --tz America/New_York --account main
    """
    from pipeline.calendar import schedule

    at = parse_time(at_text) if at_text else None
    with database_of(ctx).session() as session:
        post = schedule(session, cli_identity(), draft_id, at=at, tz=tz, account_name=account_name,
                        late_minutes=late_minutes)
        client_tz = _client_zone(session, post)
    if as_json:
        click.echo(json.dumps(post_dict(post, client_tz), indent=2))
    else:
        _say_post("scheduled", post, client_tz)


@schedule_group.command("auto")
@click.option("--client", "client_slug", required=True, help="Client slug.")
@click.option("--days", type=click.IntRange(1, 366), default=28, show_default=True, help="How far ahead to fill.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def schedule_auto(ctx, client_slug, days, as_json) -> None:
    """Fill the client's free posting slots with approved, unscheduled drafts (oldest approval first).

    Example:

        castmill schedule auto --client acme --days 14
    """
    from pipeline.calendar import auto_schedule

    with database_of(ctx).session() as session:
        posts = auto_schedule(session, cli_identity(), client_slug, horizon_days=days)
        client_tz = _client_zone(session, posts[0]) if posts else "UTC"
    if as_json:
        click.echo(json.dumps([post_dict(p, client_tz) for p in posts], indent=2))
        return
    for post in posts:
        _say_post("scheduled", post, client_tz)
    click.echo(f"{len(posts)} post(s) scheduled for {client_slug}")


# --- calendar -----------------------------------------------------------------------------------

@click.group("calendar")
def calendar_group() -> None:
    """List, export, move and cancel scheduled posts."""


@calendar_group.command("list")
@click.option("--client", "client_slug", help="Only this client's posts.")
@click.option("--from", "from_text", help="First day, YYYY-MM-DD in --tz (default: today).")
@click.option("--to", "to_text", help=f"Last day, inclusive (default: {LIST_DAYS} days from --from).")
@click.option("--tz", help="Zone of --from/--to and an extra time column (default: the client's, else UTC).")
@click.option("--platform", help="Only this platform.")
@click.option("--status", "statuses", type=click.Choice(STATUSES), multiple=True, help="Only these (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def calendar_list(ctx, client_slug, from_text, to_text, tz, platform, statuses, as_json) -> None:
    """Posts due in a range of days, with due times in UTC and the client's zone.

    Example:

        castmill calendar list --client acme --from 2026-12-01 --to 2026-12-31
    """
    from pipeline.calendar import entries, local_day_range, to_local, zone
    from pipeline.ingest import get_client

    with database_of(ctx).session() as session:
        zone_name = tz or (get_client(session, client_slug).timezone if client_slug else "UTC")
        zone(zone_name)
        first = parse_day(from_text, "--from") if from_text else to_local(datetime.now(timezone.utc), zone_name).date()
        last = parse_day(to_text, "--to") if to_text else first + timedelta(days=LIST_DAYS - 1)
        if last < first:
            raise ConfigError("--to is before --from")
        start, end = local_day_range(first, last, zone_name)
        rows = entries(session, cli_identity(), start_utc=start, end_utc=end, client_slug=client_slug,
                       platform=platform, statuses=list(statuses) or None)
    if as_json:
        click.echo(json.dumps([r.to_dict() | {"due_local_view": r.due_in(zone_name).isoformat()} for r in rows],
                              indent=2, ensure_ascii=False))
        return
    _entries_table(rows, zone_name if tz else None)


def _entries_table(rows, view_tz: str | None) -> None:
    table = Table("post", "client", "platform", "account", "due UTC", "due client-local",
                  *([f"due {view_tz}"] if view_tz else []), "status", "text", "error")
    for r in rows:
        view = [f"{r.due_in(view_tz):%Y-%m-%d %H:%M %Z}"] if view_tz else []
        table.add_row(str(r.post_id), r.client_slug, r.platform, r.account, f"{r.due_at_utc:%Y-%m-%d %H:%M}",
                      f"{r.due_local_client:%Y-%m-%d %H:%M %Z} ({r.client_timezone})", *view,
                      f"[{r.colour}]{r.status}[/]", r.text_preview[:PREVIEW_CHARS].replace("\n", " "), r.error)
    Console().print(table)
    click.echo(f"{len(rows)} post(s)")


@calendar_group.command("export")
@click.option("--client", "client_slug", required=True, help="Client slug.")
@click.pass_context
@friendly_errors
def calendar_export(ctx, client_slug) -> None:
    """Write the client's posts as an iCalendar feed to stdout.

    Example:

        castmill calendar export --client acme > acme.ics
    """
    from pipeline.calendar import export_ics

    with database_of(ctx).session() as session:
        feed = export_ics(session, client_slug)
    click.echo(feed, nl=False)  # bytes go to the binary stream as they are


@calendar_group.command("reschedule")
@click.argument("post_id", type=int)
@click.option("--at", "at_text", required=True, help='"YYYY-MM-DD HH:MM" local to --tz.')
@click.option("--tz", help="IANA zone of --at (default: the client's zone).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def calendar_reschedule(ctx, post_id, at_text, tz, as_json) -> None:
    """Move a scheduled, missed or failed post to a new time (it becomes scheduled again).

    Example:

        castmill calendar reschedule 7 --at "2026-12-02 10:30"
    """
    from pipeline.calendar import reschedule

    with database_of(ctx).session() as session:
        post = reschedule(session, cli_identity(), post_id, at=parse_time(at_text), tz=tz)
        client_tz = _client_zone(session, post)
    if as_json:
        click.echo(json.dumps(post_dict(post, client_tz), indent=2))
    else:
        _say_post("rescheduled", post, client_tz)


@calendar_group.command("cancel")
@click.argument("post_id", type=int)
@click.option("--reason", required=True, help="Why; kept in the audit trail.")
@click.pass_context
@friendly_errors
def calendar_cancel(ctx, post_id, reason) -> None:
    """Take a scheduled, missed or failed post off the calendar.

    Example:

        castmill calendar cancel 7 --reason "guest asked to hold it"
    """
    from pipeline.calendar import cancel

    with database_of(ctx).session() as session:
        post = cancel(session, cli_identity(), post_id, reason)
    click.echo(f"cancelled post {post.id} (draft {post.draft_id})")


# --- accounts -----------------------------------------------------------------------------------

@click.group("accounts")
def accounts_group() -> None:
    """Platform accounts of clients and their credentials."""


@accounts_group.command("add")
@click.argument("client_slug")
@click.argument("platform")
@click.option("--instance", "--base-url", "base_url", default="",
              help="Instance or API root (default: the platform's).")
@click.option("--token-env", help="Name of the environment variable holding the token (read at publish time).")
@click.option("--token-prompt", is_flag=True,
              help="Type the token (hidden); it is stored encrypted with CASTMILL_SECRET_KEY.")
@click.option("--name", default="default", show_default=True, help="Account name, for clients with several.")
@click.option("--handle", default="", help="Username / DID / page id, as the platform needs.")
@click.option("--expires", "expires_text", help='When the token expires, "YYYY-MM-DD[ HH:MM]" in the client\'s zone.')
@click.option("--extra", "extras", multiple=True, metavar="KEY=VALUE", help="Platform specifics (repeatable).")
@click.pass_context
@friendly_errors
def accounts_add(ctx, client_slug, platform, base_url, token_env, token_prompt, name, handle, expires_text,
                 extras) -> None:
    """Add (or replace) a client's account on a platform.

    Example:

        castmill accounts add acme mastodon --instance https://mastodon.social --token-env ACME_MASTODON_TOKEN
    """
    from pipeline.calendar import to_utc
    from pipeline.credentials import add_account, fernet
    from pipeline.ingest import get_client

    token = None
    if token_prompt:
        fernet()  # a missing CASTMILL_SECRET_KEY fails before the token is typed
        token = click.prompt("token", hide_input=True)
    with database_of(ctx).session() as session:
        client = get_client(session, client_slug)
        expires = None
        if expires_text:
            parsed = parse_time(expires_text)
            expires = to_utc(parsed, client.timezone or "UTC") if parsed.tzinfo is None else parsed
        account = add_account(session, client_slug, platform, name=name, base_url=base_url, handle=handle,
                              token_env=token_env, token=token, expires_at=expires, extra=_key_values(extras))
        source = _token_source(account)
    click.echo(f"saved account {client_slug}/{platform}/{name} (token: {source})")


def _key_values(pairs: tuple[str, ...]) -> dict:
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--extra {pair!r}: write KEY=VALUE")
        values[key] = _typed(value)
    return values


def _typed(value: str):
    """"true"/"false" as booleans (publishers test them as flags), everything else as written."""
    return {"true": True, "false": False}.get(value.strip().lower(), value)


def _token_source(account) -> str:
    if account.token_env:
        return f"env {account.token_env}"
    return "encrypted" if account.token_encrypted else "none"


@accounts_group.command("list")
@click.option("--client", "client_slug", help="Only this client's accounts.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def accounts_list(ctx, client_slug, as_json) -> None:
    """List accounts and where their tokens come from (never the tokens).

    Example:

        castmill accounts list --client acme
    """
    from pipeline.credentials import list_accounts

    with database_of(ctx).session() as session:
        rows = [_account_row(account, slug) for account, slug in list_accounts(session, client_slug)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table("id", "client", "platform", "name", "handle", "base url", "token", "expires", "last check", "error")
    for row in rows:
        table.add_row(*(str(v) if v is not None else "" for v in row.values()))
    Console().print(table)


def _account_row(account, slug: str) -> dict:
    from pipeline.calendar import as_utc

    def stamp(value):
        return as_utc(value).isoformat() if value else None

    return {"id": account.id, "client": slug, "platform": account.platform, "name": account.name,
            "handle": account.handle, "base_url": account.base_url, "token": _token_source(account),
            "expires_at": stamp(account.expires_at), "last_check_at": stamp(account.last_check_at),
            "last_check_error": account.last_check_error}


@accounts_group.command("check")
@click.option("--client", "client_slug", help="Only this client's accounts.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def accounts_check(ctx, client_slug, as_json) -> None:
    """Check every account's credentials with its platform, and warn about tokens that expire
    before their next due post. Exit status 1 when any account fails.

    Example:

        castmill accounts check
    """
    from pipeline.credentials import check_accounts

    with database_of(ctx).session() as session:
        checks = check_accounts(session, client_slug=client_slug)
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in checks], indent=2))
    else:
        for c in checks:
            click.echo(f"{'ok  ' if c.ok else 'FAIL'} {c.client_slug}/{c.platform}/{c.name}: {c.message}")
            if c.warning:
                click.echo(f"warning: {c.client_slug}/{c.platform}/{c.name}: {c.warning}")
        click.echo(f"{sum(c.ok for c in checks)} of {len(checks)} account(s) ok")
    if not all(c.ok for c in checks):
        sys.exit(1)
