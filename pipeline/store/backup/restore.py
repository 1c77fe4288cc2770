"""``restore_backup``: an archive into a new, empty home, every byte checked before and while it is written.

1. The whole archive is read once and every member's size and SHA-256 compared with the manifest; its
   format and schema revision must be ones this castmill knows. Nothing is written before this passes.
2. The home must be a new or empty folder. The archived castmill.toml is put in first, so the database the
   restored home will use is the one restored into (CASTMILL_DATABASE_URL still wins, as always); that
   database must have no tables, and be of the archived kind (SQLite or PostgreSQL).
3. The files and the database are written (SQLite: the copy moved into place; PostgreSQL: pg_restore in one
   transaction), each file's checksum checked again as written, then every table's row count.
4. The schema is migrated when the backup is older, paths under the old home are moved to the new one, and
   the posts are settled for exactly once (``posts``).

On any failure the home is emptied again; a PostgreSQL database already loaded is named in the message.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from pipeline.core.clock import as_utc, utcnow
from pipeline.core.errors import CastmillError
from pipeline.core.settings import load_settings
from pipeline.store.backup.archive import copy_member, fsync_folder, reading
from pipeline.store.backup.database import is_empty, kind_of, known_revision, restore_postgres, row_counts, sqlite_path
from pipeline.store.backup.home import move_paths
from pipeline.store.backup.manifest import (HOME_PREFIX, MANIFEST, SECRET_KEY_ENV, ArchiveError, BackupError,
                                            RestoreResult, key_fingerprint, load_manifest)
from pipeline.store.backup.posts import record_restore, settle_posts
from pipeline.store.db import create_db_engine, migrate, safe_url

SETTINGS_MEMBER = HOME_PREFIX + "castmill.toml"
WORK_FILE = ".castmill-restore.pgdump"  # the dump while pg_restore reads it, in the new home


def restore_backup(archive: Path, home: Path, *, now: datetime | None = None) -> RestoreResult:
    """Restore ``archive`` into ``home``, which must be new or empty, as must its database."""
    began = time.perf_counter()
    archive, home = Path(archive).expanduser().absolute(), Path(home).expanduser().resolve()
    manifest, settings_file = verify_archive(archive)
    _check_revision(manifest, archive)
    _check_home(home)
    job = _Restore(archive, home, manifest, as_utc(now or utcnow()), created=not home.exists())
    try:
        result = job.run(settings_file)
    except BaseException as exc:
        job.undo()
        if isinstance(exc, CastmillError) and job.loaded_postgres:
            raise BackupError(f"{exc}; the database {job.safe_url} holds the restored tables now: empty it "
                              "before trying again") from exc
        raise
    return replace(result, seconds=round(time.perf_counter() - began, 3))


# --- 1. the archive, read once before anything is written -------------------------------------------------

def verify_archive(archive: Path) -> tuple[dict, bytes | None]:
    """The manifest, and castmill.toml's bytes, of an archive whose every member matches the manifest."""
    seen: dict[str, tuple[int, str]] = {}
    manifest_bytes = settings_file = None
    with reading(archive) as members:
        for name, tar, member in members:
            if name in seen or (name == MANIFEST and manifest_bytes is not None):
                raise ArchiveError(f"member {name!r} appears twice (not a castmill backup)", source=archive)
            keep = name in (MANIFEST, SETTINGS_MEMBER)
            chunks: list[bytes] = []
            size, sha256 = copy_member(tar, member, chunks.append if keep else None)
            if name == MANIFEST:
                manifest_bytes = b"".join(chunks)
                continue
            settings_file = b"".join(chunks) if name == SETTINGS_MEMBER else settings_file
            seen[name] = (size, sha256)
    if manifest_bytes is None:
        raise ArchiveError("no manifest.json: a truncated archive, or not a castmill backup", source=archive)
    manifest = load_manifest(manifest_bytes, archive)
    _compare(seen, manifest, archive)
    return manifest, settings_file


def _compare(seen: dict[str, tuple[int, str]], manifest: dict, archive: Path) -> None:
    expected = {entry["path"]: (entry["size"], entry["sha256"]) for entry in manifest["files"]}
    if manifest["database"].get("member") not in expected:
        raise ArchiveError("its manifest lists no database (corrupt archive)", source=archive)
    for name, (size, sha256) in expected.items():
        if name not in seen:
            raise ArchiveError(f"{name} is missing (a truncated archive)", source=archive)
        if seen[name] != (size, sha256):
            raise ArchiveError(f"checksum mismatch in {name} (a corrupt archive)", source=archive)
    if extra := sorted(set(seen) - set(expected)):
        raise ArchiveError(f"{extra[0]} is not in its manifest (corrupt or tampered archive)", source=archive)


def _check_revision(manifest: dict, archive: Path) -> None:
    revision = manifest["database"].get("alembic_revision")
    if revision and not known_revision(revision):
        raise ArchiveError(f"its database is at schema revision {revision}, which this castmill does not know "
                           "(a newer castmill made it): restore it with that version or a newer one", source=archive)


def _check_home(home: Path) -> None:
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise BackupError("not an empty folder: restore into a new home, e.g. "
                          "castmill --home /srv/castmill-restored restore ARCHIVE (or move this one aside first)",
                          source=home)


# --- 2.-4. writing ---------------------------------------------------------------------------------------------

@dataclass
class _Restore:
    archive: Path
    home: Path
    manifest: dict
    now: datetime
    created: bool
    url: str = ""
    written: list[Path] = field(default_factory=list)  # outside the home (a SQLite file elsewhere)
    loaded_postgres: bool = False

    @property
    def safe_url(self) -> str:
        return safe_url(self.url)

    @property
    def kind(self) -> str:
        return self.manifest["database"]["kind"]

    def run(self, settings_file: bytes | None) -> RestoreResult:
        self.home.mkdir(parents=True, exist_ok=True)
        if settings_file is not None:
            self._write_settings(settings_file)
        self.url = load_settings(self.home).database_url
        self._check_database()
        dump = self._extract()
        self._load(dump)
        counts = self._check_counts()
        migrated, in_flight, due = self._finish()
        return RestoreResult(self.archive, self.home, self.kind, self.safe_url,
                             self.manifest["database"].get("alembic_revision"), migrated,
                             sum(1 for e in self.manifest["files"] if e["path"].startswith(HOME_PREFIX)), counts,
                             tuple(in_flight), tuple(due), warnings=tuple(self._warnings()))

    def _write_settings(self, data: bytes) -> None:
        path = self.home / "castmill.toml"
        path.write_bytes(data)
        os.chmod(path, self._entry(SETTINGS_MEMBER).get("mode", 0o644))

    def _entry(self, name: str) -> dict:
        return next(e for e in self.manifest["files"] if e["path"] == name)

    def _check_database(self) -> None:
        target = kind_of(self.url)
        if target != self.kind:
            raise BackupError(f"the backup holds a {self.kind} database but this home is set up for {target} "
                              f"({self.safe_url}); set [storage] database_url or CASTMILL_DATABASE_URL to a "
                              f"{self.kind} database", source=self.archive)
        if not is_empty(self.url):
            raise BackupError(f"the database {self.safe_url} already has tables: restore needs an empty one "
                              "(create a new database, or a new home for SQLite)", source=self.archive)

    def _database_file(self) -> Path:
        if self.kind == "postgresql":
            return self.home / WORK_FILE
        final = sqlite_path(self.url)
        return final.with_name(final.name + ".restoring")

    def _extract(self) -> Path:
        """Every member written where it belongs, its checksum checked as written; returns the database file."""
        expected = {entry["path"]: entry for entry in self.manifest["files"]}
        database = self._database_file()
        with reading(self.archive) as members:
            for name, tar, member in members:
                if name in (MANIFEST, SETTINGS_MEMBER):
                    continue
                if name not in expected:
                    raise ArchiveError(f"{name} appeared after the archive was checked (it is being changed)",
                                       source=self.archive)
                dest = database if name == self.manifest["database"]["member"] else self._home_path(name)
                self._write_member(tar, member, dest, expected[name])
        return database

    def _home_path(self, name: str) -> Path:
        dest = self.home / name.removeprefix(HOME_PREFIX)
        if not dest.resolve().is_relative_to(self.home):
            raise ArchiveError(f"member {name!r} points outside the home (tampered archive)", source=self.archive)
        return dest

    def _write_member(self, tar, member, dest: Path, entry: dict) -> None:
        if not dest.is_relative_to(self.home):
            self.written.append(dest)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(dest, "xb") as out:
                size, sha256 = copy_member(tar, member, out.write)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(dest, entry.get("mode", 0o644) & 0o777)
            os.utime(dest, (entry.get("mtime", member.mtime),) * 2)
        except OSError as exc:
            raise BackupError(f"cannot write {dest}: {exc.strerror or exc}", source=self.archive) from None
        if (size, sha256) != (entry["size"], entry["sha256"]):
            raise ArchiveError(f"{member.name} changed while it was restored (checksum mismatch)", source=self.archive)

    def _load(self, dump: Path) -> None:
        if self.kind == "sqlite":
            final = sqlite_path(self.url)
            if not final.is_relative_to(self.home):
                self.written.append(final)
            os.replace(dump, final)
            fsync_folder(final.parent)
            return
        self.loaded_postgres = True  # from here on the database may hold tables
        try:
            restore_postgres(self.url, dump)
        finally:
            dump.unlink(missing_ok=True)

    def _check_counts(self) -> dict[str, int]:
        expected = self.manifest["database"]["row_counts"]
        engine = create_db_engine(self.url)
        try:
            with engine.connect() as connection:
                counts = row_counts(connection)
        finally:
            engine.dispose()
        for table in sorted(set(expected) | set(counts)):
            if counts.get(table) != expected.get(table):
                raise ArchiveError(f"after the restore, table {table} has {counts.get(table, 'no')} rows where the "
                                   f"backup had {expected.get(table, 'none')}", source=self.archive)
        return counts

    def _finish(self) -> tuple[str | None, list[int], list[int]]:
        engine = create_db_engine(self.url)
        try:
            migrated = migrate(engine)
            with engine.begin() as connection:
                moved = move_paths(connection, self.manifest.get("home", ""), str(self.home))
                in_flight, due = settle_posts(connection, self.now)
                record_restore(connection, self.now, {
                    "archive": self.archive.name, "backup_created_at": self.manifest.get("created_at"),
                    "from_home": self.manifest.get("home"), "rows_with_paths_moved": moved,
                    "in_flight_now_unknown": in_flight, "due_now_unknown": due})
        finally:
            engine.dispose()
        return migrated, in_flight, due

    def _warnings(self) -> list[str]:
        secret = self.manifest.get("secret_key") or {}
        tokens, current = secret.get("encrypted_tokens", 0), os.environ.get(SECRET_KEY_ENV, "")
        lines = []
        if secret.get("environment") and not current:
            lines.append(f"set {SECRET_KEY_ENV} to the key the backed-up home used before publishing: it decrypts "
                         f"the {tokens} stored account token(s) and signs review links")
        elif secret.get("fingerprint") and current and key_fingerprint(current) != secret["fingerprint"]:
            lines.append(f"{SECRET_KEY_ENV} is not the key the backup was made with: {tokens} stored account token(s) "
                         "will not decrypt and review links sent before will not open (set the old key, or add those "
                         "accounts again)")
        return lines + [f"not in the backup: {line}" for line in self.manifest.get("not_included", [])
                        if not line.startswith(SECRET_KEY_ENV)]

    def undo(self) -> None:
        """Empty the home again (it was empty before) and remove what was written outside it."""
        for path in self.written:
            path.unlink(missing_ok=True)
        if not self.home.is_dir():
            return
        for entry in self.home.iterdir():
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink(missing_ok=True)
        if self.created:
            self.home.rmdir()
