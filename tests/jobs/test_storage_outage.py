"""A media store that stops answering is waited out by the queue, like a lost database; a file missing from a
store that answers is bad input and fails its job once. Real PostgreSQL, moto's real S3 server behind a relay
that can be cut, a real `castmill worker`."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select, text

from pipeline.core.errors import StorageError
from pipeline.jobs.tasks import Backoff, MediaStoreDown
from pipeline.store.models import EpisodeStage
from tests.helpers import media as mf
from tests.helpers.cli import castmill, castmill_json
from tests.helpers.tcp_relay import TcpRelay
from tests.jobs.conftest import wait_for, write_settings

PROFILE = ('slug = "acme"\nname = "Acme"\nspeakers = "off"\nplatforms = ["x"]\n'
           '[highlights]\nmin_seconds = 3\nmax_seconds = 30\n[clips]\nkinds = ["audio"]\n')
LINE = "Today we talk about guest booking. My advice is simple: send one short, friendly email every week."


class _Job:
    def __init__(self, attempts: int):
        self.attempts = attempts


def test_a_storage_outage_is_retried_with_backoff_and_given_up_after_the_attempts():
    backoff = Backoff(retries=3, first_wait=5.0)
    waits = [backoff.get_retry_decision(exception=MediaStoreDown("down"), job=_Job(n)) for n in range(4)]
    now = datetime.now(timezone.utc)
    assert [round((w.retry_at - now).total_seconds()) for w in waits[:3]] == [5, 10, 20]
    assert waits[3] is None
    assert backoff.get_retry_decision(exception=StorageError("not found"), job=_Job(0)) is None


@pytest.fixture
def queued_through_relay(queue_home, s3, tmp_path):
    """One episode queued with its media in a bucket reached through a relay; the local file gone."""
    home, url = queue_home
    relay = TcpRelay(urlparse(s3.endpoint).port).start()
    write_settings(home, url, storage=f'media_url = "s3://{s3.name}/media"\n'
                                      f's3_endpoint_url = "http://127.0.0.1:{relay.port}"\n')
    profile = tmp_path / "acme.toml"
    profile.write_text(PROFILE)
    assert castmill("client", "import", str(profile)).exit_code == 0
    episode = mf.speech_mp3(tmp_path / "episode.mp3", LINE)
    result, report = castmill_json("process", "--client", "acme", "--queue", str(episode))
    assert result.exit_code == 0 and report["ok"], result.stderr
    os.remove(episode)  # a worker reads the episode from the bucket, as on another machine
    yield relay
    relay.cut()


def _jobs(db) -> list[tuple]:
    with db.session() as session:
        return session.execute(text("SELECT j.task_name, j.status, j.attempts, e.error FROM procrastinate_jobs j "
                                    "LEFT JOIN queue_job_errors e ON e.job_id = j.id ORDER BY j.id")).all()


@pytest.mark.slow
def test_a_worker_waits_out_a_store_that_does_not_answer_then_finishes_the_episode(queued_through_relay, queue_db,
                                                                                    workers):
    relay = queued_through_relay
    relay.cut()
    workers.start()
    waiting = wait_for(lambda: [j for j in _jobs(queue_db) if j[0] == "castmill.ingest" and j[2] >= 1
                                and j[1] == "todo"], 120, "the ingest job to wait for its retry", 0.1,
                       workers.log_text)
    [(_, _, _, error)] = waiting
    assert error.startswith("attempt 1: MediaStoreDown: the media storage is not answering; retried later ("), error
    relay.restore()

    wait_for(lambda: _done(queue_db) == 1, 600, "the episode's drafts", 0.5, workers.log_text)
    assert set(workers.stop_all().values()) == {0}, workers.log_text()
    jobs = _jobs(queue_db)
    assert {status for _, status, _, _ in jobs} == {"succeeded"}, jobs
    assert [task for task, *_ in jobs].count("castmill.ingest") == 1
    assert next(attempts for task, _, attempts, _ in jobs if task == "castmill.ingest") >= 1


def test_a_file_missing_from_a_store_that_answers_fails_its_job_once(queued_through_relay, queue_db, s3):
    for stored in s3.client.list_objects_v2(Bucket=s3.name)["Contents"]:
        s3.client.delete_object(Bucket=s3.name, Key=stored["Key"])
    assert castmill("worker", "--until-idle").exit_code == 0
    [(task, status, attempts, error)] = _jobs(queue_db)
    assert (task, status, attempts) == ("castmill.ingest", "failed", 1)
    assert "not found in http://127.0.0.1:" in error and "MediaStoreDown" not in error


def _done(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(EpisodeStage)
                              .where(EpisodeStage.stage == "drafts", EpisodeStage.status == "done"))
