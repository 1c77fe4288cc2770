"""castmill client add | import | list | export | erase."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from pipeline.cli.support import cli_identity, database_of, friendly_errors, settings_of
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


@client.command("export")
@click.argument("slug")
@click.option("--to", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write the zip into (made if missing).")
@click.pass_context
@friendly_errors
def client_export(ctx, slug: str, folder: Path) -> None:
    """Write everything Castmill holds about a client into one zip (admin only).

    The zip holds the profile (no tokens or passwords), episodes, transcripts, highlights, drafts with every
    version, comments and approvals, the calendar, the audit trail, the rendered clips, a README.txt and a
    manifest.json of checksums. The export is recorded in the audit trail.

    Example:

        castmill client export acme --to ~/exports
    """
    from pipeline.clientdata.export import export_client

    result = export_client(cli_identity(), database_of(ctx), settings_of(ctx), slug, folder)
    click.echo(f"exported client {slug} to {result.path} ({len(result.files)} files, {result.clip_files} clip files, "
               f"{_size(result.bytes)}; sha256 {result.sha256})")
    for missing in result.missing:
        click.echo(f"warning: not exported, {missing}", err=True)


@client.command("erase")
@click.argument("slug")
@click.option("--confirm", required=True, metavar="SLUG", help="The client's slug again: erasure cannot be undone.")
@click.pass_context
@friendly_errors
def client_erase(ctx, slug: str, confirm: str) -> None:
    """Erase a client for good: its rows, files, users, sessions and review links (admin only).

    One record stays in the audit trail: who erased which slug, when, and how much; no content.
    Refused while one of its posts is being published or one of its jobs is queued. Export first
    if the client wants a copy.

    Example:

        castmill client erase acme --confirm acme
    """
    from pipeline.clientdata.erase import erase_client

    result = erase_client(cli_identity(), database_of(ctx), settings_of(ctx), slug, confirm)
    rows = sum(result.rows.values())
    click.echo(f"erased client {slug}: {rows} rows, {result.files} files, {result.stored} stored copies"
               + (f", {result.queue_jobs} queue jobs" if result.queue_jobs else "")
               + f" (audit event {result.audit_event_id})")
    if result.left_alone:
        many = len(result.left_alone) != 1
        click.echo(f"note: {len(result.left_alone)} file{'s' if many else ''} outside Castmill's folders "
                   f"{'were' if many else 'was'} left where {'they are' if many else 'it is'} "
                   "(the client's own originals):", err=True)
        for path in result.left_alone:
            click.echo(f"  {path}", err=True)


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} bytes"
