"""A batch killed with SIGKILL mid-way resumes without redoing finished episodes."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pipeline.store.db import Database
from pipeline.store.models import EpisodeStage, Transcript
from tests.helpers import media as mf
from tests.helpers.cli import castmill, castmill_json, castmill_process

LINES = [
    "The first episode is about pricing your podcast sponsorships with care.",
    "The second episode covers how to record clean audio at home on a budget.",
    "The third episode explains why short clips bring new listeners every week.",
]


def _done_transcriptions(db: Database) -> int:
    with db.session() as session:
        return session.scalar(
            select(func.count()).select_from(EpisodeStage)
            .where(EpisodeStage.stage == "transcribe", EpisodeStage.status == "done")
        )


@pytest.mark.slow
def test_kill_9_mid_batch_then_rerun_finishes_without_redoing(castmill_home, settings, tmp_path):
    files = [str(mf.speech_mp3(tmp_path / f"ep{i}.mp3", text)) for i, text in enumerate(LINES)]
    castmill("client", "add", "acme", "--name", "Acme")
    db = Database(settings.database_url)

    proc = castmill_process("process", "--client", "acme", "--json", *files,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while _done_transcriptions(db) < 1 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished_before = _done_transcriptions(db)
    assert 1 <= finished_before < len(files), "the kill must land mid-batch"

    result, report = castmill_json("process", "--client", "acme", *files)
    assert result.exit_code == 0, result.stderr
    statuses = [o["status"] for o in report["episodes"]]
    assert statuses.count("skipped") == finished_before
    assert statuses.count("done") == len(files) - finished_before
    with db.session() as session:
        # One transcript per episode: nothing finished before the kill was transcribed again.
        per_episode = session.execute(
            select(Transcript.episode_id, func.count()).group_by(Transcript.episode_id)
        ).all()
    assert sorted(count for _, count in per_episode) == [1, 1, 1]
    db.dispose()


@pytest.mark.slow
def test_parallel_jobs_transcribe_every_episode(castmill_home, settings, tmp_path):
    files = [str(mf.speech_mp3(tmp_path / f"ep{i}.mp3", text)) for i, text in enumerate(LINES[:2])]
    castmill("client", "add", "acme", "--name", "Acme")
    result, report = castmill_json("process", "--client", "acme", "--jobs", "2", *files)
    assert result.exit_code == 0, [o["error"] for o in report["episodes"]]
    assert [o["status"] for o in report["episodes"]] == ["done", "done"]
    db = Database(settings.database_url)
    with db.session() as session:
        texts = [" ".join(s["text"] for s in t.segments).lower()
                 for t in session.scalars(select(Transcript).order_by(Transcript.episode_id))]
    assert "pricing" in texts[0] and "audio" in texts[1]
    db.dispose()


def test_changed_settings_redo_the_stage(castmill_home, settings):
    from pipeline.batch import TranscribeJob
    from pipeline.transcribe import TranscribeOptions
    from pipeline.store.models import Episode

    episode = Episode(sha256="a" * 64)
    beam5 = TranscribeJob("faster-whisper", TranscribeOptions(beam_size=5))
    beam1 = TranscribeJob("faster-whisper", TranscribeOptions(beam_size=1))
    other_engine = TranscribeJob("openai-whisper", TranscribeOptions(beam_size=5))
    keys = {beam5.input_key(episode), beam1.input_key(episode), other_engine.input_key(episode)}
    assert len(keys) == 3
    assert beam5.input_key(episode) == TranscribeJob("faster-whisper", TranscribeOptions()).input_key(episode)


def test_the_clients_speakers_setting_is_part_of_the_transcribe_key():
    from pipeline.batch import TranscribeJob
    from pipeline.store.models import Client, Episode
    from pipeline.transcribe import TranscribeOptions

    job = TranscribeJob("faster-whisper", TranscribeOptions())
    keys = {value: job.input_key(Episode(sha256="a" * 64, client=Client(slug="c", name="C", speakers=value)))
            for value in ("auto", "2", "off")}
    assert len(set(keys.values())) == 3 and "diarize" not in keys["off"]


@pytest.mark.slow
def test_the_model_follows_the_clients_spoken_languages(castmill_home, settings, tmp_path):
    """A French show is transcribed by the multilingual model in French; an English one keeps tiny.en."""
    french = mf.speech_mp3(tmp_path / "fr.mp3", "Bonjour à tous. Aujourd'hui nous parlons de la cuisine "
                                                "française et des marchés de Paris.", voice="fr")
    english = mf.speech_mp3(tmp_path / "en.mp3", LINES[0])
    profile = tmp_path / "paris.toml"
    profile.write_text('slug = "paris"\nname = "Paris Podcast"\nlanguage = "fr"\n')
    assert castmill("client", "import", str(profile)).exit_code == 0
    castmill("client", "add", "acme", "--name", "Acme")
    for client, media in (("paris", french), ("acme", english)):
        result = castmill("process", "--client", client, "--json", str(media))
        assert result.exit_code == 0, result.stderr
    db = Database(settings.database_url)
    with db.session() as session:
        rows = {t.model: (t.language, " ".join(s["text"] for s in t.segments).lower())
                for t in session.scalars(select(Transcript))}
    db.dispose()
    assert set(rows) == {"base", "tiny.en"}
    assert rows["base"][0] == "fr" and "bonjour" in rows["base"][1]
    assert rows["tiny.en"][0] == "en" and "pricing" in rows["tiny.en"][1]


@pytest.mark.slow
def test_a_language_the_model_cannot_hear_is_a_warning_not_silence(castmill_home, settings, tmp_path):
    french = mf.speech_mp3(tmp_path / "fr.mp3", "Bonjour à tous. Aujourd'hui nous parlons de la cuisine "
                                                "française et des marchés de Paris.", voice="fr")
    english = mf.speech_mp3(tmp_path / "en.mp3", LINES[0])
    castmill("client", "add", "acme", "--name", "Acme")  # English only: tiny.en
    result, report = castmill_json("process", "--client", "acme", str(french), str(english))
    assert result.exit_code == 0, result.stderr
    warnings = {Path(o["source"]).name: o["warnings"] for o in report["episodes"]}
    assert warnings["en.mp3"] == []
    [warning] = [w for w in warnings["fr.mp3"] if "sounds like" in w]  # (a quality warning may come too)
    assert "sounds like French (fr" in warning and "tiny.en hears only English" in warning
    assert 'languages = ["fr"]' in warning
    listed = {Path(e["source"]).name: e["warnings"] for e in castmill_json("episodes", "list", "--client", "acme")[1]}
    assert warning in listed["fr.mp3"] and listed["en.mp3"] == []

    profile = tmp_path / "paris.toml"
    profile.write_text('slug = "paris"\nname = "Paris Podcast"\nlanguage = "fr"\n')
    castmill("client", "import", str(profile))
    result, report = castmill_json("process", "--client", "paris", str(english))
    [warning] = [w for w in report["episodes"][0]["warnings"] if "sounds like" in w]
    assert "sounds like English (en)" in warning and "not among the client's spoken languages (fr)" in warning


@pytest.mark.slow
def test_a_music_only_episode_is_a_note_not_a_failure(castmill_home, tmp_path):
    music = tmp_path / "music.mp3"
    mf.ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=20", "-f", "lavfi", "-i", "sine=frequency=554:duration=20",
              "-f", "lavfi", "-i", "anoisesrc=d=20:c=pink:a=0.05", "-filter_complex", "amix=inputs=3", str(music))
    castmill("client", "add", "acme", "--name", "Acme")
    result, report = castmill_json("process", "--client", "acme", str(music))
    assert result.exit_code == 0, result.stderr
    [episode] = report["episodes"]
    assert episode["status"] == "done" and episode["error"] is None
    assert set(episode["stages"].values()) == {"done"} and episode["highlights"] == 0
    assert episode["warnings"] == ["no speech was recognised (music only?): the episode gets no highlights and no clips"]
