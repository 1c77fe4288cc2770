"""``castmill schedule …`` and ``castmill calendar …`` (accounts: ``pipeline.cli.accounts``).

The CLI acts as the system: one staff identity (``cli_identity``) for every command.
Times are printed in UTC and in the client's own zone.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import click
from rich.console import Console
from rich.table import Table

from pipeline.calendar.options import DEFAULTS as CALENDAR
from pipeline.core.vocab import POST_STATUSES
from pipeline.cli.support import cli_identity, database_of, friendly_errors
from pipeline.core.errors import ConfigError

STATUSES = POST_STATUSES
PREVIEW_CHARS = 40
LIST_DAYS = CALENDAR.list_days


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
    from pipeline.core.clock import as_utc, to_local

    due = as_utc(post.due_at)
    return {"post_id": post.id, "draft_id": post.draft_id, "status": post.status, "publisher": post.platform,
            "account_id": post.account_id, "due_at_utc": due.isoformat(),
            "due_local_client": to_local(due, client_tz).isoformat(), "client_timezone": client_tz,
            "idempotency_key": post.idempotency_key, "late_minutes": post.late_minutes}


def _client_zone(session, post) -> str:
    from pipeline.store.models import Client

    return session.get(Client, post.client_id).timezone or "UTC"


def _say_post(verb: str, post, client_tz: str) -> None:
    from pipeline.core.clock import as_utc

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
@click.option("--late-minutes", type=click.IntRange(min=0), default=CALENDAR.late_minutes, show_default=True,
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
@click.option("--days", type=click.IntRange(1, CALENDAR.slot_search_days), default=CALENDAR.horizon_days, show_default=True, help="How far ahead to fill.")
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
    from pipeline.store.clients import get_client

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


@calendar_group.command("resolve")
@click.argument("post_id", type=int)
@click.option("--published/--not-published", required=True,
              help="What you found on the platform: the post is there, or it is not.")
@click.option("--url", default="", help="Where the post is (with --published).")
@click.option("--note", required=True, help="How you checked; kept in the audit trail.")
@click.pass_context
@friendly_errors
def calendar_resolve(ctx, post_id, published, url, note) -> None:
    """Settle a post left `unknown` because the platform could not say whether it went out.

    --not-published makes it failed, so it can be rescheduled or cancelled.

    Example:

        castmill calendar resolve 7 --published --url https://www.tiktok.com/@acme/video/1 --note "seen in the app"
    """
    from pipeline.calendar import resolve

    with database_of(ctx).session() as session:
        post = resolve(session, cli_identity(), post_id, published=published, note=note, url=url)
    click.echo(f"post {post.id} (draft {post.draft_id}) is {post.status}")
