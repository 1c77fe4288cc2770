"""Shared fixtures: an isolated CASTMILL_HOME, a fresh database, a fake HTTP server, real PostgreSQL and S3 servers."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.core.settings import load_settings
from pipeline.store.db import Database
from tests.fakes.http_server import FakeHTTPServer
from tests.helpers.media import SAMPLE_EPISODE


@pytest.fixture(autouse=True)
def _main_module_kept():
    """Streamlit's AppTest runs a page as ``__main__`` and leaves it in ``sys.modules``; a process pool a later
    test starts (spawn) would then run that page again in every child. The real ``__main__`` goes back."""
    main = sys.modules.get("__main__")
    yield
    if sys.modules.get("__main__") is not main:
        sys.modules["__main__"] = main


@pytest.fixture(autouse=True)
def _fake_servers_allowed(monkeypatch):
    """The fake servers listen on 127.0.0.1, which safe_fetch refuses by default: every test allows it through
    the environment (read even where a test builds its Settings itself). Tests of the refusals remove it."""
    monkeypatch.setenv("CASTMILL_NETWORK_ALLOW", "127.0.0.1")


@pytest.fixture
def castmill_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("CASTMILL_HOME", str(home))
    for var in ("CASTMILL_DATABASE_URL", "CASTMILL_MODEL_HUB_URL", "CASTMILL_OPENAI_MODEL_URL", "CASTMILL_MEDIA_URL",
                "CASTMILL_S3_ENDPOINT_URL", "CASTMILL_S3_REGION"):
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
    from tests.helpers.pg_server import fresh_database

    with fresh_database(postgres_server.url) as url:
        yield url


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 server (moto's, in its own process) on a free port of 127.0.0.1, for the whole session."""
    from tests.helpers.s3_server import S3Server

    with S3Server() as server:
        yield server


@dataclass(frozen=True)
class S3Bucket:
    endpoint: str
    name: str
    client: object  # a boto3 S3 client for checking what the code under test stored

    def body(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture
def s3(s3_server, monkeypatch) -> S3Bucket:
    """A new, empty bucket on the session's S3 server, and fake credentials in the environment for this test
    (no AWS profile, no instance metadata: nothing but 127.0.0.1 is asked for anything)."""
    import uuid

    import boto3

    from tests.helpers.s3_server import FAKE_CREDENTIALS

    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL",
                "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(var, raising=False)
    for var, value in {**FAKE_CREDENTIALS, "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent",
                       "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "NO_PROXY": "127.0.0.1,localhost"}.items():
        monkeypatch.setenv(var, value)
    client = boto3.session.Session().client("s3", endpoint_url=s3_server.endpoint, region_name="us-east-1")
    name = f"castmill-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return S3Bucket(s3_server.endpoint, name, client)
