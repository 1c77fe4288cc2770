"""Three workers, one real PostgreSQL, one real S3 server, twelve episodes: a worker killed with SIGKILL
mid-transcription and the database stopped for ten seconds mid-batch; the batch still finishes, each stage
once per episode, with the same outputs as a local run and nothing duplicated."""

from __future__ import annotations

import os
import signal
import time

import pytest
from sqlalchemy import func, select, text

from pipeline.store.db import Database
from pipeline.store.models import Clip, Draft, DraftVersion, Episode, EpisodeStage, Highlight, Transcript
from tests.helpers import media as mf
from tests.helpers.cli import castmill, castmill_json
from tests.jobs.conftest import wait_for, write_settings

TOPICS = ["pricing sponsorships", "recording at home", "short clips", "guest booking", "show notes",
          "newsletter growth", "editing speed", "cover art", "listener questions", "live shows",
          "seasonal episodes", "podcast analytics"]
EPISODES = [f"Today we talk about {topic}. The biggest mistake is waiting too long to start. "
            f"My advice on {topic} is simple: try one small change every single week and measure it."
            for topic in TOPICS]
PROFILE = ('slug = "acme"\nname = "Acme"\nspeakers = "off"\nplatforms = ["x", "linkedin"]\n'
           '[highlights]\nmin_seconds = 3\nmax_seconds = 30\n'
           '[clips]\nkinds = ["audio"]\n')
STAGE_TASKS = ("castmill.transcribe", "castmill.highlights", "castmill.clips", "castmill.drafts")


def _done(db: Database, stage: str) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(EpisodeStage)
                              .where(EpisodeStage.stage == stage, EpisodeStage.status == "done"))


def _transcribing_worker(db: Database) -> str | None:
    with db.session() as session:
        return session.scalar(select(EpisodeStage.worker).where(
            EpisodeStage.stage == "transcribe", EpisodeStage.status == "running", EpisodeStage.worker.is_not(None)))


def _outputs(db: Database) -> dict[str, tuple]:
    """Per episode (by content hash): transcript text, highlights, clips and drafts, none of which depend on where
    or when they were made."""
    with db.session() as session:
        result = {}
        for episode in session.scalars(select(Episode)):
            transcripts = session.scalars(select(Transcript).where(Transcript.episode_id == episode.id)).all()
            highlights = session.scalars(select(Highlight).where(Highlight.episode_id == episode.id)
                                         .order_by(Highlight.rank)).all()
            clips = session.scalars(select(Clip).where(Clip.episode_id == episode.id)).all()
            drafts = session.scalars(select(Draft).where(Draft.episode_id == episode.id)).all()
            result[episode.sha256] = (
                [" ".join(s["text"] for s in t.segments) for t in transcripts],
                [(h.rank, round(h.start, 2), round(h.end, 2), h.text) for h in highlights],
                sorted((c.highlight_key, c.kind, c.aspect, c.format, c.status) for c in clips),
                sorted((d.platform, d.highlight_key, [v.parts for v in d.versions].__repr__()) for d in drafts),
            )
        return result


@pytest.mark.slow
def test_three_workers_finish_a_batch_through_a_kill_and_a_database_outage(queue_home, queue_server, queue_db,
                                                                          s3, workers, tmp_path):
    home, url = queue_home
    write_settings(home, url, storage=f'media_url = "s3://{s3.name}/media"\ns3_endpoint_url = "{s3.endpoint}"\n')
    files = [str(mf.speech_mp3(tmp_path / f"ep{i:02}.mp3", line)) for i, line in enumerate(EPISODES)]
    profile = tmp_path / "acme.toml"
    profile.write_text(PROFILE)
    in_place = _process_in_place(tmp_path / "local", profile, files)
    assert castmill("client", "import", str(profile)).exit_code == 0

    result, report = castmill_json("process", "--client", "acme", "--queue", *files)
    assert result.exit_code == 0, result.stderr
    assert len({s["job_id"] for s in report["sources"]}) == 12 and report["ok"]
    for name in files:  # the workers read the episodes from the media store, as on another machine
        os.remove(name)
    for _ in range(3):
        workers.start()

    victim = wait_for(lambda: _transcribing_worker(queue_db), 300, "a transcription to start", 0.05,
                      workers.log_text)
    os.kill(int(victim.rsplit(":", 1)[1]), signal.SIGKILL)

    wait_for(lambda: _done(queue_db, "drafts") >= 2, 600, "two episodes to finish", on_timeout=workers.log_text)
    assert _done(queue_db, "drafts") < 12, "the outage must land mid-batch"
    queue_server.pause()
    time.sleep(10)
    queue_server.resume()

    wait_for(lambda: _done(queue_db, "drafts") == 12, 900, "all twelve episodes", 0.5, workers.log_text)
    codes = workers.stop_all()
    survivors = {pid: code for pid, code in codes.items() if pid != int(victim.rsplit(":", 1)[1])}
    assert set(survivors.values()) == {0}, workers.log_text()  # SIGTERM is a clean stop
    # Only the killed worker's job was taken over: the outage made no live worker look dead.
    assert workers.log_text(tail=10**7).count("requeued: its worker stopped answering") == 1, workers.log_text()

    with queue_db.session() as session:
        jobs = session.execute(text(
            "SELECT task_name, args->>'episode_id' AS episode, status, attempts FROM procrastinate_jobs")).all()
        per_episode_stage = session.execute(text(
            "SELECT task_name, args->>'episode_id', count(*) FROM procrastinate_jobs "
            "WHERE task_name <> 'castmill.ingest' GROUP BY 1, 2")).all()
        transcripts = session.execute(select(Transcript.episode_id, func.count()).group_by(Transcript.episode_id)).all()
        versions = session.scalar(select(func.count()).select_from(DraftVersion))
        drafts = session.scalar(select(func.count()).select_from(Draft))
        workers_seen = set(session.scalars(select(EpisodeStage.worker)))
    assert all(status == "succeeded" for _, _, status, _ in jobs), jobs
    assert sorted(task for task, _, _, _ in jobs).count("castmill.ingest") == 12
    assert {task for task, _, _ in per_episode_stage} == set(STAGE_TASKS)
    assert {count for _, _, count in per_episode_stage} == {1}, "one job per stage and episode"
    assert len(per_episode_stage) == 4 * 12
    assert max(attempts for _, _, _, attempts in jobs) >= 1, "the killed worker's job was run again"
    assert sorted(count for _, count in transcripts) == [1] * 12, "no transcript twice"
    assert drafts >= 2 * 12 and versions == drafts, "no draft rewritten"
    assert len(workers_seen - {None}) >= 2, "the work was shared"

    queued = _outputs(queue_db)
    assert queued == in_place
    assert all(value[1] for value in queued.values()), "every episode has highlights to compare"
    with queue_db.session() as session:
        media = list(session.scalars(select(Episode.media_path)))
        stored = [c.probe["stored"] for c in session.scalars(select(Clip))]
    assert len(media) == 12 and all(m.startswith(f"s3://{s3.name}/media/acme/episodes/") for m in media)
    assert stored and all(s3.body(ref.split("/", 3)[3]) for ref in stored), "every clip is in the bucket"


def _process_in_place(home, profile, files) -> dict:
    """The same batch with `castmill process` on this machine alone (SQLite, files where they are)."""
    assert castmill("--home", str(home), "client", "import", str(profile)).exit_code == 0
    result = castmill("--home", str(home), "process", "--client", "acme", *files)
    assert result.exit_code == 0, result.stderr
    db = Database(f"sqlite:///{home / 'castmill.db'}")
    outputs = _outputs(db)
    db.dispose()
    return outputs
