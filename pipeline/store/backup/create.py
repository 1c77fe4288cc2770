"""``create_backup``: the database snapshot and the home's files in one archive; ``prune_backups``: keep N.

The database is copied first, then the files: a file the database names (a clip, an outbox post) was
already there when it was named, so it is in the archive too, unless something deleted it meanwhile.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import time
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path

from pipeline.core.clock import as_utc, utcnow
from pipeline.core.errors import CastmillError
from pipeline.core.settings import S3_SCHEME, Settings
from pipeline.store.backup.archive import TEMP_PREFIX, ArchiveWriter, no_space
from pipeline.store.backup.database import Snapshot, kind_of, snapshot, sqlite_path
from pipeline.store.backup.home import home_files, sqlite_files, stored_facts
from pipeline.store.backup.manifest import (DATABASE_MEMBERS, FORMAT_VERSION, HOME_PREFIX, MANIFEST, SECRET_KEY_ENV,
                                            BackupError, BackupResult, dump_manifest, key_fingerprint)

DEFAULT_FOLDER = "backups"  # under the home when no --to is given (left out of the archives)
ARCHIVE = re.compile(r"^castmill-backup-(\d{8}T\d{6}Z)\.tar(\.gz)?$")
STALE_AFTER = timedelta(days=1)  # a temporary file this old was left by a killed backup


def default_folder(settings: Settings) -> Path:
    return settings.home / DEFAULT_FOLDER


def archive_name(when: datetime, compress: bool = False) -> str:
    return f"castmill-backup-{as_utc(when):%Y%m%dT%H%M%SZ}.tar{'.gz' if compress else ''}"


def create_backup(settings: Settings, dest_dir: Path, *, compress: bool = False,
                  now: datetime | None = None) -> BackupResult:
    """Write ``castmill-backup-<UTC time>.tar`` (``.tar.gz`` with ``compress``) into ``dest_dir``.

    Safe while the scheduler and workers run. The archive appears under its final name only when complete
    and on disk; on any error nothing is left in ``dest_dir``."""
    began, now = time.perf_counter(), as_utc(now or utcnow())
    dest = _folder(dest_dir)
    work = dest / f"{TEMP_PREFIX}{now:%Y%m%dT%H%M%SZ}-{os.getpid()}.work"
    writer = None
    try:
        work.mkdir()
        writer = ArchiveWriter(dest / archive_name(now, compress), compress=compress)
        snap, warnings = _fill(writer, settings, dest, work, now)
        path = writer.commit()
    except BaseException as exc:
        if writer is not None:
            writer.abort()
        explained = _explained(exc, dest)
        if explained is exc:
            raise
        raise explained from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    files = [e for e in writer.entries if e["path"].startswith(HOME_PREFIX)]
    return BackupResult(path, path.stat().st_size, now.isoformat(timespec="seconds"), snap.kind, snap.revision,
                        len(files), sum(e["size"] for e in files), snap.row_counts,
                        round(time.perf_counter() - began, 3), tuple(warnings))


def _fill(writer: ArchiveWriter, settings: Settings, dest: Path, work: Path,
          now: datetime) -> tuple[Snapshot, list[str]]:
    """The database first, then the home's files, then the manifest."""
    snap = snapshot(settings.database_url, work, lambda connection: stored_facts(connection, settings.home))
    writer.add_file(DATABASE_MEMBERS[snap.kind], snap.path)
    snap.path.unlink()
    links = _add_home(writer, settings, dest)
    warnings = _warnings(settings, snap.facts, links)
    writer.add_bytes(MANIFEST, dump_manifest(_manifest(settings, snap, writer.entries, now, warnings)))
    return snap, warnings


def _folder(dest_dir: Path) -> Path:
    dest = Path(dest_dir).expanduser().resolve()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create the backup folder: {exc.strerror or exc}", source=dest) from None
    return dest


def _add_home(writer: ArchiveWriter, settings: Settings, dest: Path) -> list[str]:
    skip = {dest}
    if kind_of(settings.database_url) == "sqlite":
        skip |= sqlite_files(sqlite_path(settings.database_url))
    found = home_files(settings.home, skip)
    for relative, path in found.files:
        try:
            writer.add_file(HOME_PREFIX + relative, path)
        except FileNotFoundError:
            continue  # deleted since the folder was listed (a temporary file): nothing to keep
    return found.links


def _manifest(settings: Settings, snap: Snapshot, entries: list[dict], now: datetime, warnings: list[str]) -> dict:
    secret = os.environ.get(SECRET_KEY_ENV, "")
    database = {"kind": snap.kind, "member": DATABASE_MEMBERS[snap.kind], "alembic_revision": snap.revision,
                "row_counts": snap.row_counts}
    if snap.server_version is not None:
        database["server_version"] = snap.server_version
    return {"format": FORMAT_VERSION, "created_at": now.isoformat(timespec="seconds"),
            "castmill_version": _version(), "home": str(settings.home), "database": database,
            "files": list(entries), "not_included": list(warnings),
            "secret_key": {"environment": bool(secret), "fingerprint": key_fingerprint(secret) if secret else "",
                           "encrypted_tokens": snap.facts.get("encrypted_tokens", 0)}}


def _version() -> str:
    try:
        return metadata.version("castmill")
    except metadata.PackageNotFoundError:
        return "unknown"


def _warnings(settings: Settings, facts: dict, links: list[str]) -> list[str]:
    """What the home uses that the archive does not hold, one line each."""
    lines = []
    media_url = settings.storage.media_url
    if media_url.startswith(S3_SCHEME):
        lines.append(f"episode media and clips stored in {media_url} are not in the backup (the bucket keeps them)")
    elif media_url and not media_url.startswith(str(settings.home) + "/"):
        lines.append(f"episode media and clips in the shared folder {media_url} are not in the backup")
    for key, what in (("outside_media", "episode media file"), ("outside_clips", "clip file"),
                      ("outside_templates", "client templates folder")):
        if paths := facts.get(key):
            lines.append(f"{len(paths)} {what}(s) outside the home are not in the backup (they stay where they "
                         f"are), e.g. {paths[0]}")
    if links:
        lines.append(f"{len(links)} symbolic link(s) in the home are not in the backup, e.g. {links[0]}")
    tokens = facts.get("encrypted_tokens", 0)
    if os.environ.get(SECRET_KEY_ENV) or tokens:
        lines.append(f"{SECRET_KEY_ENV} is not in the backup: keep it apart and set the same value where you restore "
                     f"(it decrypts the {tokens} stored account token(s) and signs review links)")
    return lines


def _explained(exc: BaseException, dest: Path) -> BaseException:
    """A CastmillError to show for what stopped the backup (anything unexpected passes through as it is)."""
    if isinstance(exc, CastmillError):
        return exc
    if no_space(exc) or (isinstance(exc, sqlite3.Error) and "full" in str(exc)):
        return BackupError("no space left: the backup was not written and nothing of it is left there; free "
                           "some space or choose another folder with --to", source=dest)
    if isinstance(exc, OSError):
        return BackupError(f"the backup was not written: {exc.strerror or exc} "
                           f"({exc.filename or 'the archive'})", source=dest)
    if isinstance(exc, sqlite3.Error):
        return BackupError(f"the database could not be copied: {exc}", source=dest)
    return exc


def prune_backups(dest_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` archives in ``dest_dir`` (by the time in their names), and temporary
    files that killed backups left more than a day ago. Returns what was deleted."""
    if keep < 1:
        raise BackupError(f"keep at least one backup (asked to keep {keep})")
    dest = Path(dest_dir)
    if not dest.is_dir():
        return []
    archives = sorted((match.group(1), path) for path in dest.iterdir()
                      if (match := ARCHIVE.match(path.name)) and path.is_file() and not path.is_symlink())
    doomed = [path for _stamp, path in archives[:-keep]] + _stale(dest)
    for path in doomed:
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    return doomed


def _stale(dest: Path) -> list[Path]:
    cutoff = time.time() - STALE_AFTER.total_seconds()
    return [path for path in dest.glob(f"{TEMP_PREFIX}*") if path.lstat().st_mtime < cutoff]
