"""A throwaway local PostgreSQL server for tests.

Usage::

    from tests.helpers.pg_server import PostgresServer

    with PostgresServer() as pg:
        engine = sqlalchemy.create_engine(pg.url)

The server uses the Debian PostgreSQL binaries (``apt-get install postgresql``),
a fresh data directory in a temp folder, trust auth, a superuser named
``castmill``, a database named ``castmill``, TCP on 127.0.0.1 at a free port,
and ``fsync=off``.  ``stop()`` (or the atexit fallback) kills it and removes
the temp folder.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from tests.helpers.processes import free_port

INSTALL_HINT = "apt-get install postgresql"
USER = "castmill"
DATABASE = "castmill"


def find_pg_bindir() -> str:
    """Return the bin dir of the highest installed Debian PostgreSQL version."""
    candidates = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        bindir = os.path.dirname(initdb)
        if not os.path.exists(os.path.join(bindir, "pg_ctl")):
            continue
        version = os.path.basename(os.path.dirname(bindir))
        try:
            key = tuple(int(p) for p in version.split("."))
        except ValueError:
            continue
        candidates.append((key, bindir))
    if not candidates:
        raise RuntimeError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; "
            f"run: {INSTALL_HINT}"
        )
    return max(candidates)[1]


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server at ``server_url`` for one test; dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()



class PostgresServer:
    """Start/stop a private PostgreSQL instance. Also a context manager."""

    def __init__(self, startup_timeout: float = 30.0):
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.url: str | None = None
        self.tmpdir: str | None = None
        self.datadir: str | None = None
        self.bindir: str | None = None
        self._running = False
        self._as_postgres = hasattr(os, "geteuid") and os.geteuid() == 0

    # -- helpers -----------------------------------------------------------
    def _cmd(self, *args: str) -> list[str]:
        if self._as_postgres:
            return ["runuser", "-u", "postgres", "--", *args]
        return list(args)

    def _run(self, *args: str, timeout: float = 60.0) -> None:
        proc = subprocess.run(
            self._cmd(*args), capture_output=True, text=True, timeout=timeout
        )
        if proc.returncode != 0:
            log = ""
            if self.tmpdir and os.path.exists(os.path.join(self.tmpdir, "pg.log")):
                with open(os.path.join(self.tmpdir, "pg.log")) as fh:
                    log = fh.read()[-2000:]
            raise RuntimeError(
                f"{os.path.basename(args[0])} failed ({proc.returncode}): "
                f"{proc.stderr.strip() or proc.stdout.strip()} {log}".strip()
            )

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> "PostgresServer":
        if self._running:
            return self
        self.bindir = find_pg_bindir()
        if self._as_postgres:
            if shutil.which("runuser") is None:
                raise RuntimeError(f"runuser not found; run: {INSTALL_HINT}")
            try:
                import pwd

                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(
                    f"system user 'postgres' missing; run: {INSTALL_HINT}"
                ) from None

        self.tmpdir = tempfile.mkdtemp(prefix="castmill-pg-")
        self.datadir = os.path.join(self.tmpdir, "data")
        if self._as_postgres:
            os.chown(self.tmpdir, pw.pw_uid, pw.pw_gid)
        try:
            self._run(
                os.path.join(self.bindir, "initdb"),
                "-D", self.datadir,
                "-A", "trust",
                "-U", USER,
                "-E", "UTF8",
                "--no-locale",
                "--no-sync",
            )
            self.port = free_port()
            opts = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} "
                f"-k {self.tmpdir} -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off"
            )
            self._running = True
            self._opts = opts
            atexit.register(self.stop)
            self._pg_ctl_start()
            self._wait_and_create_db()
        except BaseException:
            self.stop()
            raise
        self.url = f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{DATABASE}"
        return self

    def _pg_ctl_start(self) -> None:
        self._run(
            os.path.join(self.bindir, "pg_ctl"),
            "-D", self.datadir,
            "-l", os.path.join(self.tmpdir, "pg.log"),
            "-o", self._opts,
            "-w", "-t", str(int(self.startup_timeout)),
            "start",
            timeout=self.startup_timeout + 10,
        )

    def pause(self) -> None:
        """Stop the server as a crash would (clients lose their connections), keeping its data."""
        self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.datadir, "-m", "immediate", "-w", "stop")

    def resume(self) -> None:
        """Start a paused server again on the same port."""
        self._pg_ctl_start()

    def _wait_and_create_db(self) -> None:
        import psycopg

        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                conn = psycopg.connect(
                    host="127.0.0.1", port=self.port, user=USER,
                    dbname="postgres", autocommit=True, connect_timeout=2,
                )
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"PostgreSQL on port {self.port} did not accept connections "
                        f"within {self.startup_timeout}s"
                    ) from None
                time.sleep(0.1)
        with conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def stop(self) -> None:
        if self._running and self.bindir and self.datadir:
            self._running = False
            try:
                subprocess.run(
                    self._cmd(
                        os.path.join(self.bindir, "pg_ctl"),
                        "-D", self.datadir, "-m", "immediate", "-w", "stop",
                    ),
                    capture_output=True, timeout=30,
                )
            except Exception:
                pass
        try:
            atexit.unregister(self.stop)
        except Exception:
            pass
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
