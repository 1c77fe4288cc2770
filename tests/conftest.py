"""Shared fixtures: an isolated CASTMILL_HOME, a fresh database, a fake HTTP server."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.settings import load_settings
from pipeline.store.db import Database
from tests.fakes.http_server import FakeHTTPServer
from tests.helpers.media import SAMPLE_EPISODE


@pytest.fixture
def castmill_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("CASTMILL_HOME", str(home))
    for var in ("CASTMILL_DATABASE_URL", "CASTMILL_MODEL_HUB_URL", "CASTMILL_OPENAI_MODEL_URL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def settings(castmill_home):
    return load_settings(castmill_home)


@pytest.fixture
def fresh_db(settings):
    db = Database(settings.database_url)
    yield db
    db.dispose()


@pytest.fixture
def http_server():
    server = FakeHTTPServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sample_episode() -> Path:
    assert SAMPLE_EPISODE.is_file(), "samples/sample_episode.mp3 is missing: run `make sample`"
    return SAMPLE_EPISODE


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL (Debian's, installed by `make setup`) on a free local port."""
    from tests.helpers.pg_server import PostgresServer

    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the session's server for one test."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres_server.url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
