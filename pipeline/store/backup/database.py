"""The database in a backup: one consistent snapshot taken while the scheduler keeps writing, and its restore.

SQLite: the online backup API (``sqlite3.Connection.backup`` in one step, so the copy is one read
transaction's view; in WAL mode writers go on meanwhile). The row counts and the schema revision are read
from the copy, so they describe exactly what is archived.

PostgreSQL: a REPEATABLE READ transaction exports its snapshot (``pg_export_snapshot``); ``pg_dump
--format=custom --snapshot=…`` dumps that very snapshot while the same transaction counts the rows. pg_dump
and pg_restore must be of the server's major version: ``/usr/lib/postgresql/<major>/bin`` (Debian), else the
one on PATH when its version matches. The password goes to them in PGPASSWORD, never on the command line.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from pipeline.store.backup.manifest import BackupError
from pipeline.store.db import MIGRATIONS_DIR, create_db_engine, safe_url

PG_BIN = "/usr/lib/postgresql/{major}/bin/{tool}"
PG_TIMEOUT_S = 6 * 3600  # a dump or restore that takes longer is stuck


@dataclass(frozen=True)
class Snapshot:
    kind: str  # sqlite | postgresql
    path: Path  # the copy or dump file
    revision: str | None
    row_counts: dict[str, int]
    server_version: int | None = None  # PostgreSQL's major version
    facts: dict = field(default_factory=dict)  # what ``extra`` read from the same snapshot


def kind_of(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"backups handle SQLite and PostgreSQL, not {backend} ({safe_url(url)})")
    return backend


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"an in-memory database cannot be backed up ({safe_url(url)})")
    return Path(database).expanduser().absolute()


def snapshot(url: str, work: Path, extra: Callable[[Connection], dict]) -> Snapshot:
    """A consistent copy of the database at ``url`` in the folder ``work``, with its row counts."""
    if kind_of(url) == "sqlite":
        return _sqlite_snapshot(url, work, extra)
    return _postgres_snapshot(url, work, extra)


def _sqlite_snapshot(url: str, work: Path, extra: Callable[[Connection], dict]) -> Snapshot:
    source, copy = sqlite_path(url), work / "castmill.db"
    if not source.is_file():
        raise BackupError("no database file to back up", source=source)
    live = sqlite3.connect(source, timeout=30)
    try:
        target = sqlite3.connect(copy)
        try:
            live.backup(target)  # all pages in one step: one consistent view
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            target.close()
    finally:
        live.close()
    engine = create_engine(f"sqlite:///{copy}")
    try:
        with engine.connect() as connection:
            return Snapshot("sqlite", copy, *read_state(connection), facts=extra(connection))
    finally:
        engine.dispose()


def _postgres_snapshot(url: str, work: Path, extra: Callable[[Connection], dict]) -> Snapshot:
    dump = work / "castmill.pgdump"
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                exported = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                major = server_major(connection)
                run_pg_tool("pg_dump", major, url, "--format=custom", f"--snapshot={exported}", f"--file={dump}")
                return Snapshot("postgresql", dump, *read_state(connection), server_version=major,
                                facts=extra(connection))
    finally:
        engine.dispose()


def read_state(connection: Connection) -> tuple[str | None, dict[str, int]]:
    """(alembic revision, rows per table) as ``connection`` sees them."""
    return MigrationContext.configure(connection).get_current_revision(), row_counts(connection)


def row_counts(connection: Connection) -> dict[str, int]:
    quote = connection.dialect.identifier_preparer.quote
    return {table: connection.execute(text(f"SELECT count(*) FROM {quote(table)}")).scalar_one()
            for table in sorted(inspect(connection).get_table_names())}


def known_revision(revision: str) -> bool:
    """Whether this castmill's migrations know ``revision`` (an unknown one was made by a newer castmill)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except (CommandError, RevisionError):
        return False


def is_empty(url: str) -> bool:
    """True when the database has no tables (a SQLite file that does not exist yet counts as empty)."""
    if kind_of(url) == "sqlite" and not sqlite_path(url).exists():
        return True
    engine = create_engine(url) if kind_of(url) == "sqlite" else create_db_engine(url)
    try:
        with engine.connect() as connection:
            return not inspect(connection).get_table_names()
    finally:
        engine.dispose()


def restore_postgres(url: str, dump: Path) -> None:
    """Load a custom-format dump into the (empty) database at ``url``, all or nothing."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            major = server_major(connection)
    finally:
        engine.dispose()
    run_pg_tool("pg_restore", major, url, "--no-owner", "--no-acl", "--single-transaction", "--exit-on-error",
                str(dump))


# --- the PostgreSQL client programs --------------------------------------------------------------------

def server_major(connection: Connection) -> int:
    return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def pg_tool(tool: str, major: int) -> str:
    """The path of ``tool`` (pg_dump, pg_restore) of PostgreSQL ``major``; a BackupError says what to install."""
    debian = Path(PG_BIN.format(major=major, tool=tool))
    if debian.is_file():
        return str(debian)
    found = shutil.which(tool)
    version = _tool_major(found) if found else None
    if version == major:
        return found
    seen = f"{found} is PostgreSQL {version}" if found else f"no {tool} on PATH"
    raise BackupError(f"{tool} of PostgreSQL {major} is needed (the server's version; {seen}): "
                      f"install postgresql-client-{major}")


def _tool_major(path: str) -> int | None:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r"\)\s+(\d+)", out)
    return int(match.group(1)) if match else None


def run_pg_tool(tool: str, major: int, url: str, *args: str) -> None:
    target, env = libpq_target(url)
    try:
        done = subprocess.run([pg_tool(tool, major), f"--dbname={target}", *args], capture_output=True, text=True,
                              env=env, timeout=PG_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{tool} did not finish within {PG_TIMEOUT_S // 3600} h ({safe_url(url)})") from None
    if done.returncode != 0:
        reason = (done.stderr.strip() or done.stdout.strip() or f"exit status {done.returncode}").splitlines()
        raise BackupError(f"{tool} failed on {safe_url(url)}: {reason[-1] if reason else ''}")


def libpq_target(url: str) -> tuple[str, dict]:
    """The libpq URI (no password) and the environment (PGPASSWORD) for a SQLAlchemy PostgreSQL URL."""
    parsed = make_url(url)
    uri = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                     database=parsed.database, query=parsed.query).render_as_string(hide_password=False)
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return uri, env
