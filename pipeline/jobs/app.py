"""The procrastinate app: its connection to Castmill's PostgreSQL database, its schema and its tasks.

The queue lives in the same database as everything else (procrastinate's tables sit beside
Castmill's), so a machine that can reach the database can run a worker; nothing else is needed
but the media store. SQLite has no queue: one machine processes in place with ``castmill process``.
"""

from __future__ import annotations

import procrastinate
from sqlalchemy.engine import make_url

from pipeline.core.errors import ConfigError, DatabaseError
from pipeline.core.settings import Settings
from pipeline.jobs.options import QueueOptions
from pipeline.jobs.resilience import ResilientJobManager
from pipeline.store.db import safe_url

# Serialises schema creation between workers starting at the same moment (any fixed bigint will do).
SCHEMA_LOCK_KEY = 0x0CA57_1111


def conninfo(database_url: str) -> str:
    """The libpq URI of a SQLAlchemy PostgreSQL URL; a clear error for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ConfigError(f"the job queue needs PostgreSQL, not {url.get_backend_name()} ({safe_url(database_url)}): "
                          "set [storage] database_url or CASTMILL_DATABASE_URL to a postgresql+psycopg:// URL, "
                          "or process on this machine without --queue")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def queue_app(settings: Settings, options: QueueOptions | None = None) -> procrastinate.App:
    """An app with Castmill's tasks registered, not yet opened."""
    from pipeline.jobs.tasks import register_tasks

    options = options or QueueOptions.from_settings(settings.queue)
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(settings.database_url), kwargs={"connect_timeout": 10},
        min_size=1, max_size=options.concurrency + 3)  # procrastinate checks pooled connections
    app = procrastinate.App(connector=connector)
    app.job_manager = ResilientJobManager(connector)
    register_tasks(app, options)
    return app


def ensure_schema(database_url: str) -> bool:
    """Create procrastinate's tables on first use; True when this call created them."""
    import psycopg

    try:
        with psycopg.connect(conninfo(database_url), autocommit=True, connect_timeout=10) as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
            try:
                if connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is not None:
                    return False
                connection.execute(procrastinate.schema.SchemaManager.get_schema())
                return True
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"cannot reach the job queue's database: {str(exc).strip().splitlines()[0]}") from exc
