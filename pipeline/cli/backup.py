"""``castmill backup`` and ``castmill restore``: the home and its database in one archive, and back."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pipeline.cli.support import friendly_errors, settings_of


def _megabytes(size: int) -> str:
    return f"{size / 1024**2:,.1f} MB"


@click.command("backup")
@click.option("--to", "dest", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the archive (default: <home>/backups, left out of the archive).")
@click.option("--keep", type=click.IntRange(min=1), help="Then delete all but the newest N archives in that folder.")
@click.option("--gzip", "compress", is_flag=True, help="Write .tar.gz (smaller only when the database is large).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
@friendly_errors
def backup(ctx, dest, keep, compress, as_json) -> None:
    """Write the database and the home's files to castmill-backup-<UTC time>.tar.

    Safe while the scheduler runs: the database is one consistent snapshot. The archive holds
    castmill.toml, secret.key, media, uploads, clips, templates and the outbox; not model weights,
    caches, nor CASTMILL_SECRET_KEY (keep that apart). It appears only once complete and on disk.

    Examples:

        castmill backup --to /mnt/backups --keep 7

        castmill backup --json
    """
    from pipeline.store.backup import create_backup, default_folder, prune_backups

    settings = settings_of(ctx)
    folder = dest or default_folder(settings)
    result = create_backup(settings, folder, compress=compress)
    pruned = prune_backups(folder, keep) if keep else []
    if as_json:
        click.echo(json.dumps({**result.to_dict(), "pruned": [str(p) for p in pruned]}, indent=2))
        return
    click.echo(f"backup written: {result.path} ({_megabytes(result.bytes)}; {result.database} database at revision "
               f"{result.alembic_revision}, {sum(result.row_counts.values()):,} rows; {result.files:,} files, "
               f"{_megabytes(result.file_bytes)}) in {result.seconds:.1f} s")
    for line in result.warnings:
        click.echo(f"note: {line}")
    for path in pruned:
        click.echo(f"deleted old backup: {path.name}")


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
@friendly_errors
def restore(ctx, archive, as_json) -> None:
    """Restore ARCHIVE into the home given by --home (or CASTMILL_HOME), which must be new or empty.

    Every file and table is checked against the archive's manifest. Posts that were being published
    when the backup was taken, and posts already due, are checked with their platform before any
    resend. Stop the old home's scheduler before starting this one.

    Example:

        castmill --home /srv/castmill-new restore /mnt/backups/castmill-backup-20261206T030000Z.tar
    """
    from pipeline.store.backup import restore_backup

    result = restore_backup(archive, settings_of(ctx).home)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    click.echo(f"restored {result.archive.name} into {result.home} in {result.seconds:.1f} s: {result.files:,} files "
               f"and {sum(result.row_counts.values()):,} rows checked; {result.database_url} at revision "
               f"{result.migrated_to}")
    for ids, what in ((result.in_flight, "being published when the backup was taken"),
                      (result.due, "due before now and not published in the backup")):
        if ids:
            click.echo(f"posts {what}, now unknown (the scheduler checks the platform before any resend): "
                       f"{', '.join(map(str, ids))}")
    for line in result.warnings:
        click.echo(f"warning: {line}")
    click.echo("start the scheduler here only once the old home's scheduler is stopped: castmill scheduler run")
