"""The queue as staff see it (castmill jobs list|retry|cancel), dead workers' jobs requeued or parked,
a SIGTERM that lets the running job finish, and the errors of a queue without PostgreSQL."""

from __future__ import annotations

import asyncio
import signal

import pytest
from sqlalchemy import select, text

from pipeline.core.errors import ConfigError
from pipeline.core.settings import load_settings
from pipeline.jobs.options import QueueOptions
from pipeline.store.models import EpisodeStage
from tests.helpers import media as mf
from tests.helpers.cli import castmill, castmill_json
from tests.jobs.conftest import wait_for

LINE = "Every episode needs one clear idea. Say it early, then say it again at the end."


def _queue(tmp_path, *names: str) -> list[int]:
    files = [str(mf.speech_mp3(tmp_path / f"{name}.mp3", f"{name}. {LINE}")) for name in names]
    assert castmill("client", "add", "acme", "--name", "Acme").exit_code == 0
    result, report = castmill_json("process", "--client", "acme", "--queue", *files)
    assert result.exit_code == 0, result.stderr
    return [s["job_id"] for s in report["sources"]]


def test_list_cancel_and_retry_waiting_jobs(queue_home, tmp_path):
    first, second = _queue(tmp_path, "alpha", "beta")
    result, rows = castmill_json("jobs", "list")
    assert [(r["id"], r["stage"], r["status"], r["attempts"], r["client"]) for r in rows] == [
        (second, "ingest", "todo", 0, "acme"), (first, "ingest", "todo", 0, "acme")]
    assert rows[1]["title"].endswith("alpha.mp3")

    again = castmill_json("process", "--client", "acme", "--queue", rows[1]["title"])[1]
    assert again["sources"][0]["job_id"] is None, "the same source is not queued twice while it waits"

    assert castmill("jobs", "cancel", str(first)).stdout.strip() == f"job {first} cancelled"
    assert [r["id"] for r in castmill_json("jobs", "list", "--status", "cancelled")[1]] == [first]
    refused = castmill("jobs", "cancel", str(first))
    assert refused.exit_code == 1 and "only waiting or running jobs can be cancelled" in refused.stderr

    assert castmill("jobs", "retry", str(first)).exit_code == 0
    statuses = {r["id"]: r["status"] for r in castmill_json("jobs", "list")[1]}
    assert statuses[first] == "cancelled" and len(statuses) == 3, "a cancelled job is queued again as a new job"
    assert castmill("jobs", "retry", str(second)).stderr.strip().endswith("only failed, cancelled, aborted jobs "
                                                                          "can be retried")
    assert "no job 999999" in castmill("jobs", "retry", "999999").stderr


def test_a_failed_ingest_job_says_why_in_the_job_list(queue_home, tmp_path):
    (job_id,) = _queue(tmp_path, "epsilon")
    (tmp_path / "epsilon.mp3").unlink()  # gone before a worker gets to it (the default store keeps files in place)
    assert castmill("worker", "--until-idle").exit_code == 0
    row = castmill_json("jobs", "list")[1][0]
    assert (row["id"], row["status"], row["attempts"], row["episode_id"]) == (job_id, "failed", 1, None)
    assert row["error"] == f"{tmp_path / 'epsilon.mp3'}: the file is gone: it was moved or deleted after it was queued"


def test_a_dead_workers_job_is_requeued_then_parked_after_its_attempts(queue_home, queue_db):
    from pipeline.jobs.app import ensure_schema, queue_app
    from pipeline.jobs.tasks import WorkerContext, defer_stage
    from pipeline.jobs.worker import release_stalled
    from pipeline.store.clients import build_profile, upsert_client
    from pipeline.store.models import Episode

    home, url = queue_home
    settings = load_settings(home)
    options = QueueOptions.from_settings(settings.queue, max_attempts=2)
    with queue_db.session() as session:
        client, _ = upsert_client(session, build_profile(slug="acme", name="Acme"))
        episode = Episode(client=client, source_uri="/a.mp3", media_path="/a.mp3", sha256="a" * 64, title="Heavy")
        session.add(episode)
        session.flush()
        episode_id = episode.id
    ensure_schema(url)
    app = queue_app(settings, options)
    with app.open():
        job_id = defer_stage(app, "transcribe", episode_id, engine="", model="")

    def worker_dies_running_it():  # as if its worker took it, then stopped answering a minute ago
        with queue_db.session() as session:
            dead = session.execute(text("INSERT INTO procrastinate_workers (last_heartbeat) "
                                        "VALUES (now() - interval '1 minute') RETURNING id")).scalar()
            session.execute(text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w"), {"w": dead})

    async def release():
        app = queue_app(settings, options)
        async with app.open_async():
            return await release_stalled(app, WorkerContext(queue_db, settings, "test:1"), options)

    worker_dies_running_it()
    assert asyncio.run(release()) == [job_id]
    assert castmill_json("jobs", "list")[1][0]["status"] == "todo", "the first death: back on the queue"
    worker_dies_running_it()
    assert asyncio.run(release()) == [job_id]
    row = castmill_json("jobs", "list")[1][0]
    assert (row["status"], row["attempts"], row["episode_id"]) == ("failed", 2, episode_id)
    assert row["error"].startswith("parked after 2 attempt(s): the worker running it stopped each time")
    assert asyncio.run(release()) == [], "a parked job stays parked"
    assert castmill("jobs", "retry", str(job_id)).exit_code == 0
    assert castmill_json("jobs", "list")[1][0]["status"] == "todo"


@pytest.mark.slow
def test_sigterm_lets_the_running_job_finish_and_takes_no_new_one(queue_home, queue_db, workers, tmp_path):
    _queue(tmp_path, "delta")
    worker = workers.start()
    wait_for(lambda: _stage_status(queue_db, "transcribe") == "running", 300, "the transcription to start", 0.05,
             workers.log_text)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(300) == 0, workers.log_text()
    assert _stage_status(queue_db, "transcribe") == "done"
    statuses = {r["stage"]: r["status"] for r in castmill_json("jobs", "list")[1]}
    assert statuses == {"ingest": "succeeded", "transcribe": "succeeded", "highlights": "todo"}


def _stage_status(db, stage: str) -> str | None:
    with db.session() as session:
        return session.scalar(select(EpisodeStage.status).where(EpisodeStage.stage == stage))


def test_without_postgresql_the_queue_says_so_in_one_line(castmill_home, tmp_path):
    clip = mf.speech_mp3(tmp_path / "e.mp3", LINE)
    assert castmill("client", "add", "acme", "--name", "Acme").exit_code == 0
    for args in (("worker",), ("process", "--client", "acme", "--queue", str(clip))):
        result = castmill(*args)
        assert result.exit_code == 1
        assert result.stderr.count("\n") == 1 and "the job queue needs PostgreSQL, not sqlite" in result.stderr
    assert castmill_json("jobs", "list")[1] == []


def test_worker_flags_are_checked(castmill_home):
    result = castmill("worker", "--queues", "transcribe,render")
    assert result.exit_code == 2 and "unknown stage 'render'" in result.stderr


@pytest.mark.parametrize(("fields", "message"), [
    ({"concurrency": 0}, "concurrency must be at least 1"),
    ({"max_attempts": 0}, "max_attempts must be at least 1"),
    ({"heartbeat": 10, "stalled_after": 15}, "must be more than twice the heartbeat"),
])
def test_queue_options_cross_checks(fields, message):
    with pytest.raises(ConfigError, match=message):
        QueueOptions(**fields)
