"""Migration 0006 on a database that already holds drafts, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from pipeline.store.db import Database, _alembic_config, create_db_engine

ROWS = [
    "INSERT INTO clients (id, slug, name, timezone, language, brand_voice, hashtags, platforms, posting_slots, "
    "highlight_settings, fitted_weights, handles, call_to_action, templates_dir, clip_settings, created_at) "
    "VALUES (1, 'acme', 'Acme', 'UTC', 'en', '', '[]', '[]', '[]', '{}', '{}', '{}', '', '', '{}', '2026-01-01')",
    "INSERT INTO episodes (id, client_id, source_uri, media_path, sha256, title, duration, has_video, probe, "
    "feed_meta, created_at) VALUES (1, 1, '/a.mp3', '/a.mp3', 'f', 'Ep', 1, false, '{}', '{}', '2026-01-01')",
    "INSERT INTO drafts (id, client_id, episode_id, highlight_key, platform, language, status, created_at, "
    "updated_at) VALUES (1, 1, 1, 'episode', 'x', 'en', 'draft', '2026-01-01', '2026-01-01')",
    "INSERT INTO draft_versions (id, draft_id, number, parts, hashtags, media, author, source, created_at) "
    "VALUES (1, 1, 1, '[\"Hello\"]', '[]', '[]', 'castmill', 'template', '2026-01-01')",
]


def counts(engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return tuple(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                     for table in ("episodes", "drafts", "draft_versions"))


def round_trip(url: str) -> None:
    engine = create_db_engine(url)
    config = _alembic_config(engine)
    try:
        command.upgrade(config, "0005")
        with engine.begin() as connection:
            for statement in ROWS:
                connection.execute(text(statement))
        command.upgrade(config, "0006")
        assert counts(engine) == (1, 1, 1)  # rebuilding drafts did not cascade to its versions
        with engine.begin() as connection:
            assert connection.execute(text("SELECT approval_stages FROM clients")).scalar() == 2
            connection.execute(text("UPDATE drafts SET status = 'changes_requested'"))  # 17 characters fit
        command.downgrade(config, "0005")
        assert counts(engine) == (1, 1, 1)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT status FROM drafts")).scalar() == "draft"
        command.upgrade(config, "head")
        assert counts(engine) == (1, 1, 1)
    finally:
        engine.dispose()


def test_0006_keeps_existing_drafts_and_versions_on_sqlite(tmp_path):
    round_trip(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.slow
def test_0006_keeps_existing_drafts_and_versions_on_postgresql(postgres_url):
    round_trip(postgres_url)


@pytest.mark.slow
def test_the_review_flow_runs_on_postgresql(postgres_url, monkeypatch):
    """The statuses and JSON snapshots fit PostgreSQL's column types (SQLite does not check lengths)."""
    from pipeline import review
    from pipeline.access import audit
    from pipeline.access import auth
    from tests.review.conftest import PASSWORD, add_client, add_draft, add_episode

    db = Database(postgres_url)
    try:
        with db.session() as session:
            client_id = add_client(session, "acme").id
            episode_id = add_episode(session, client_id).id
            auth.add_user(session, "va@castmill.test", PASSWORD, "va")
            auth.add_user(session, "ceo@acme.test", PASSWORD, "client", client_slug="acme")
        draft = add_draft(db, client_id, episode_id)
        with db.session() as session:
            va, ceo = auth.login(session, "va@castmill.test", PASSWORD), auth.login(session, "ceo@acme.test", PASSWORD)
        with db.session() as session:
            review.approve(session, va, draft, version=1)
        with db.session() as session:
            assert review.request_changes(session, ceo, draft, "Shorter").status == "changes_requested"
        with db.session() as session:
            review.edit(session, va, draft, ["Short"], base_version=1)
            review.approve(session, va, draft, version=2)
            review.approve(session, ceo, draft, version=2)
        with db.session() as session:
            assert review.approved_version(session, draft).number == 2
            assert [e.action for e in audit.events(session, va, action="draft.")][:2] == \
                ["draft.approve", "draft.approve"]
    finally:
        db.dispose()
