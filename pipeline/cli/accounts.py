"""``castmill accounts …``: clients' platform accounts and their credentials."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.table import Table

from pipeline.cli.calendar import parse_time
from pipeline.cli.support import database_of, friendly_errors, settings_of
from pipeline.core.errors import ConfigError


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
    from pipeline.publish.credentials import add_account, fernet
    from pipeline.store.clients import get_client

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
    from pipeline.publish.credentials import list_accounts

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
    from pipeline.core.clock import as_utc

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
    from pipeline.media.safe_fetch import safe_session
    from pipeline.publish.credentials import check_accounts

    with database_of(ctx).session() as session, safe_session(settings_of(ctx).network) as http:
        checks = check_accounts(session, client_slug=client_slug, http=http)
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
