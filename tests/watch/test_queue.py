"""With ``[feeds] queue = true`` on PostgreSQL, a new episode goes on the job queue and a worker processes it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.core.errors import ConfigError
from pipeline.core.settings import load_settings
from pipeline.core.vocab import STAGES
from pipeline.store.clients import build_profile, upsert_client
from pipeline.store.db import Database
from pipeline.store.models import Episode
from pipeline.watch import WatchOptions, poll_due
from tests.helpers.cli import castmill, castmill_json
from tests.watch.conftest import entries, episode, subscribe


def test_the_queue_needs_postgresql(settings):
    queued = settings.model_copy(update={"feeds": settings.feeds.model_copy(update={"queue": True})})
    with pytest.raises(ConfigError, match=r"\[feeds\] queue = true needs a PostgreSQL database"):
        WatchOptions.from_settings(queued)


@pytest.mark.parametrize("fields, message", [
    ({"poll_minutes": 0}, "poll_minutes must be above 0"),
    ({"poll_minutes": 120, "max_backoff_hours": 1}, "max_backoff_hours (1 h) must be at least poll_minutes"),
    ({"max_new_per_poll": 0}, "must be at least 1"),
])
def test_watch_options_cross_checks(fields, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        WatchOptions(**fields)


@pytest.mark.slow
def test_a_new_episode_is_queued_then_processed_by_a_worker(castmill_home, postgres_url, monkeypatch, host, clock,
                                                            spoken):
    castmill_home.mkdir(parents=True, exist_ok=True)
    (castmill_home / "castmill.toml").write_text(f'[storage]\ndatabase_url = "{postgres_url}"\n[feeds]\nqueue = true\n')
    settings = load_settings(castmill_home)
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            upsert_client(session, build_profile(slug="acme", name="Acme Show", speakers="off"))
        host.add(episode("old", clock.now - timedelta(days=7)))
        subscribe(db, settings, host, clock)
        host.add(episode("new", clock.now + timedelta(minutes=1), spoken[0], title="Queued episode"))

        [report] = poll_due(db, settings, now=clock.advance(minutes=31))

        assert [(p.status, p.notified_via) for p in report.picked_up] == [("queued", "log")]
        assert host.downloads == []  # the worker downloads it, not the scheduler
        [job] = castmill_json("jobs", "list")[1]
        assert (job["stage"], job["status"], job["client"]) == ("ingest", "todo", "acme")
        assert castmill("worker", "--until-idle").exit_code == 0
        assert host.downloads == ["/media/new.mp3"]
        with db.session() as session:
            [made] = session.query(Episode).all()
            assert {s.stage: s.status for s in made.stages} == dict.fromkeys(STAGES, "done")
        [entry] = entries(db, status="queued")
        poll_due(db, settings, now=clock.advance(minutes=31))  # the next poll learns which episode it became
        [processed] = entries(db, status="processed")
        assert (processed.id, processed.episode_id) == (entry.id, made.id)
    finally:
        db.dispose()
