"""Backups of a home: ``create_backup`` (a consistent snapshot while the scheduler runs), ``restore_backup``
(into a new, empty home, every byte and row count checked, posts settled so none goes out twice) and
``prune_backups`` (keep the newest N).

An archive is one tar file, ``castmill-backup-<UTC time>.tar``: ``database/castmill.db`` (SQLite) or
``database/castmill.pgdump`` (PostgreSQL, pg_dump's custom format), ``home/…`` for the home's files, and
``manifest.json`` last (``manifest``). Model weights and caches are never in it, nor is CASTMILL_SECRET_KEY.
"""

from pipeline.store.backup.create import archive_name, create_backup, default_folder, prune_backups
from pipeline.store.backup.manifest import (FORMAT_VERSION, ArchiveError, BackupError, BackupResult,
                                            RestoreResult)
from pipeline.store.backup.restore import restore_backup, verify_archive

__all__ = ["FORMAT_VERSION", "ArchiveError", "BackupError", "BackupResult", "RestoreResult", "archive_name",
           "create_backup", "default_folder", "prune_backups", "restore_backup", "verify_archive"]
