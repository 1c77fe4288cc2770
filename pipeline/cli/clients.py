"""castmill client add | import | list."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from pipeline.cli.support import cli_identity, database_of, friendly_errors
from pipeline.core.settings import load_client_profile


@click.group("client")
def client() -> None:
    """Manage clients."""


@client.command("add")
@click.argument("slug")
@click.option("--name", required=True, help="Display name, e.g. \"Acme Podcast\".")
@click.option("--timezone", default="UTC", show_default=True, help="IANA zone, e.g. America/New_York.")
@click.option("--language", default="en", show_default=True, help="Language of the client's posts.")
@click.pass_context
@friendly_errors
def client_add(ctx, slug, name, timezone, language) -> None:
    """Add (or update) a client.

    Example:

        castmill client add acme --name "Acme Podcast" --timezone America/New_York --language en
    """
    from pipeline.profiles.edit import import_profile
    from pipeline.store.clients import build_profile

    profile = build_profile(slug=slug, name=name, timezone=timezone, language=language)
    with database_of(ctx).session() as session:
        _client, created = import_profile(session, cli_identity(), profile)
    click.echo(f"{'added' if created else 'updated'} client {slug}")


@client.command("import")
@click.argument("profile", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
@friendly_errors
def client_import(ctx, profile: Path) -> None:
    """Add or update a client from a TOML profile.

    Example:

        castmill client import config/clients/example.toml
    """
    from pipeline.profiles.edit import import_profile

    loaded = load_client_profile(profile)
    with database_of(ctx).session() as session:
        _client, created = import_profile(session, cli_identity(), loaded)
    click.echo(f"{'added' if created else 'updated'} client {loaded.slug}")


@client.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def client_list(ctx, as_json: bool) -> None:
    """List clients."""
    from pipeline.store.clients import list_clients

    with database_of(ctx).session() as session:
        rows = [{"slug": c.slug, "name": c.name, "timezone": c.timezone, "language": c.language}
                for c in list_clients(session)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table("slug", "name", "timezone", "language")
    for row in rows:
        table.add_row(*row.values())
    Console().print(table)
