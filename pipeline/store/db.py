"""Engine, sessions and migrations.

SQLite (WAL, foreign keys on) by default; any SQLAlchemy URL through
``CASTMILL_DATABASE_URL``. Migrations run on first use, so a fresh home works
without ``castmill init``.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.core.errors import DatabaseError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000  # parallel batch workers wait for each other's writes


def safe_url(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _enable_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"invalid database URL {url!r}") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
            event.listen(engine, "connect", _enable_sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True, connect_args=_connect_timeout(parsed))
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(f"no driver for {safe_url(url)}: {exc}") from exc


def _connect_timeout(parsed) -> dict:
    return {"connect_timeout": 10} if parsed.get_backend_name() == "postgresql" else {}


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()


def migrate(engine: Engine) -> str | None:
    """Bring the schema to the newest revision; returns that revision."""
    try:
        if current_revision(engine) != head_revision(engine):
            command.upgrade(_alembic_config(engine), "head")
        return current_revision(engine)
    except OperationalError as exc:
        raise DatabaseError(f"cannot connect to database {safe_url(str(engine.url))}: {_reason(exc)}") from exc
    except SQLAlchemyError as exc:
        raise DatabaseError(f"migration failed on {safe_url(str(engine.url))}: {_reason(exc)}") from exc


def _reason(exc: SQLAlchemyError) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Database:
    """One engine plus a session factory, migrated on open."""

    def __init__(self, url: str, *, auto_migrate: bool = True):
        self.url = url
        self.engine = create_db_engine(url)
        if auto_migrate:
            migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
