"""A queue home: Castmill settings pointing at a fresh database on a private PostgreSQL server.

The server is this package's own (not the session's), so a test may stop it and start it again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pipeline.core.settings import load_settings
from pipeline.store.db import Database

# Short timings so a dead worker is noticed in seconds, not the minute a real deployment waits.
QUEUE_TOML = """
[queue]
heartbeat = 0.5
stalled_after = 3
retry_wait = 0.5
max_attempts = {max_attempts}
"""


@pytest.fixture(scope="module")
def queue_server():
    from tests.helpers.pg_server import PostgresServer

    with PostgresServer() as server:
        yield server


@pytest.fixture
def queue_home(queue_server, castmill_home):
    """CASTMILL_HOME with castmill.toml naming a fresh PostgreSQL database; returns (home, database URL)."""
    name = f"q_{uuid.uuid4().hex[:12]}"
    admin = create_engine(queue_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = queue_server.url.rsplit("/", 1)[0] + f"/{name}"
    castmill_home.mkdir(parents=True, exist_ok=True)
    write_settings(castmill_home, url)
    admin.dispose()
    yield castmill_home, url
    admin = create_engine(queue_server.url, isolation_level="AUTOCOMMIT")  # the server may have restarted since
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def write_settings(home: Path, url: str, max_attempts: int = 6, storage: str = "") -> None:
    """``storage``: more lines for the [storage] table, e.g. the media store."""
    (home / "castmill.toml").write_text(f'[storage]\ndatabase_url = "{url}"\n{storage}' + QUEUE_TOML.format(
        max_attempts=max_attempts))


@pytest.fixture
def queue_db(queue_home):
    db = Database(load_settings(queue_home[0]).database_url)
    yield db
    db.dispose()


class Workers:
    """``castmill worker`` processes, each with its log file."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.procs: dict[int, subprocess.Popen] = {}

    def start(self, *args: str) -> subprocess.Popen:
        log = (self.logs / f"worker-{len(self.procs)}.log").open("w")
        proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "worker", *args], env=dict(os.environ),
                                stdout=log, stderr=subprocess.STDOUT)
        self.procs[proc.pid] = proc
        return proc

    def log_text(self, tail: int = 3000) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-tail:]}" for p in sorted(self.logs.glob("worker-*.log")))

    def stop_all(self, timeout: float = 60) -> dict[int, int]:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        codes = {}
        for pid, proc in self.procs.items():
            try:
                codes[pid] = proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[pid] = proc.wait()
        return codes


@pytest.fixture
def workers(tmp_path):
    pool = Workers(tmp_path)
    yield pool
    for proc in pool.procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2, on_timeout=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{on_timeout()}")
