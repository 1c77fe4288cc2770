"""Storage: migrations, SQLite pragmas, constraints, and the same on a real PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from pipeline.store.clients import build_profile, upsert_client
from pipeline.store.db import Database, current_revision, head_revision, migrate, safe_url
from pipeline.core.errors import DatabaseError
from pipeline.store.models import Episode, EpisodeStage, Transcript
from tests.helpers.cli import castmill, castmill_json

TABLES = {"alembic_version", "clients", "episodes", "episode_stages", "transcripts", "highlights", "highlight_feedback", "drafts", "draft_versions", "clips",
          "feed_subscriptions", "feed_entries"}


def _exercise(db: Database) -> None:
    """Write and read every table, and check the per-client dedup constraint holds."""
    with db.session() as session:
        client, created = upsert_client(session, build_profile(slug="acme", name="Acme", hashtags=["pod"]))
        assert created
        episode = Episode(client=client, source_uri="/a.mp3", media_path="/a.mp3", sha256="f" * 64, title="É 🎙")
        session.add(episode)
        session.flush()
        session.add(EpisodeStage(episode_id=episode.id, stage="ingest", status="done"))
        session.add(Transcript(episode_id=episode.id, engine="faster-whisper", model="tiny.en", language="en",
                               duration=1.0, segments=[{"start": 0, "end": 1, "text": "hi", "words": []}],
                               input_key="k"))
    with db.session() as session:
        stored = session.scalar(select(Episode))
        assert stored.title == "É 🎙" and stored.client.hashtags == ["pod"]
        assert stored.transcripts[0].segments[0]["text"] == "hi"
    with pytest.raises(IntegrityError):
        with db.session() as session:
            client = session.scalar(select(Episode)).client
            session.add(Episode(client=client, source_uri="/copy.mp3", media_path="/copy.mp3", sha256="f" * 64))
    with db.session() as session:  # a second client may hold the same file
        other, _ = upsert_client(session, build_profile(slug="zeta", name="Zeta"))
        session.add(Episode(client=other, source_uri="/a.mp3", media_path="/a.mp3", sha256="f" * 64))


def test_sqlite_is_migrated_on_first_use_with_wal_and_foreign_keys(fresh_db):
    assert TABLES <= set(inspect(fresh_db.engine).get_table_names())
    assert current_revision(fresh_db.engine) == head_revision(fresh_db.engine) == "0020"
    with fresh_db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    _exercise(fresh_db)


def test_migrations_match_the_models(fresh_db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from pipeline.store.models import Base

    with fresh_db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_migrate_is_idempotent(fresh_db):
    assert migrate(fresh_db.engine) == "0020"
    assert migrate(fresh_db.engine) == "0020"


def test_safe_url_hides_passwords():
    assert safe_url("postgresql+psycopg://u:hunter2@db:5432/x") == "postgresql+psycopg://u:***@db:5432/x"


def test_missing_driver_is_a_clear_error():
    with pytest.raises(DatabaseError, match="no driver for mysql"):
        Database("mysql+notadriver://u@127.0.0.1/x")


@pytest.mark.slow
def test_postgresql_migrates_and_stores(postgres_url):
    db = Database(postgres_url)
    try:
        assert TABLES <= set(inspect(db.engine).get_table_names())
        assert current_revision(db.engine) == "0020"
        _exercise(db)
    finally:
        db.dispose()


@pytest.mark.slow
def test_cli_runs_on_postgresql(castmill_home, postgres_url, monkeypatch, sample_episode):
    monkeypatch.setenv("CASTMILL_DATABASE_URL", postgres_url)
    assert "revision 0020" in castmill("init").stdout
    castmill("client", "add", "acme", "--name", "Acme")
    result, report = castmill_json("process", "--client", "acme", str(sample_episode))
    assert result.exit_code == 0, result.stderr
    _, listed = castmill_json("episodes", "list")
    assert listed[0]["stages"] == {"ingest": "done", "transcribe": "done", "highlights": "done", "drafts": "done", "clips": "done"}
    assert listed[0]["highlights"] >= 2
    highlights = json.loads(castmill("highlights", str(listed[0]["id"]), "--format", "json").stdout)
    assert highlights["highlights"][0]["reasons"]  # JSON columns round-trip on PostgreSQL
    assert not (castmill_home / "castmill.db").exists()
