"""Shared fixtures: an isolated CASTMILL_HOME, a fresh database, a fake HTTP server."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.db import Database
from tests.fake_http import FakeHTTPServer
from tests.media_factory import SAMPLE_EPISODE


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
