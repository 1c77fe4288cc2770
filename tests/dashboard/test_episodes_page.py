"""AppTest: the Episodes page (VA/admin): stage status, uploads, feed URLs, re-running a stage, errors as raised."""

import re

from sqlalchemy import select

from pipeline.store.clients import build_profile, upsert_client
from pipeline.ingest.sources import resolve_inputs
from pipeline.store.models import Episode, EpisodeStage
from tests.dashboard.conftest import run_app
from tests.dashboard.seed import add_staff, sign_in
from tests.fakes.http_server import Route

PAGE = "views/episodes.py"


def plain(markdown: str) -> str:
    """Undo the Markdown escaping the page applies, to compare with the library's message."""
    return re.sub(r"\\(.)", r"\1", markdown)


def open_as_va(db):
    add_staff(db)
    app = run_app(sign_in(db, "va@castmill.test"), page=PAGE)
    assert app.title[0].value == "Episodes"
    return app


def test_empty_database_tells_how_to_add_a_client(fresh_db):
    app = open_as_va(fresh_db)
    assert "No clients yet" in app.info[0].value


def test_lists_episodes_with_stage_status_progress_and_errors(fresh_db):
    with fresh_db.session() as session:
        client, _ = upsert_client(session, build_profile(slug="acme", name="Acme"))
        ok = Episode(client=client, source_uri="/a.mp3", media_path="/a.mp3", sha256="a" * 64, title="Good one", duration=90)
        bad = Episode(client=client, source_uri="/b.mp3", media_path="/b.mp3", sha256="b" * 64, title="Broken")
        session.add_all([ok, bad])
        session.flush()
        session.add_all([
            EpisodeStage(episode_id=ok.id, stage="ingest", status="done"),
            EpisodeStage(episode_id=ok.id, stage="transcribe", status="done"),
            EpisodeStage(episode_id=bad.id, stage="ingest", status="failed", error="/b.mp3: file is empty"),
        ])
    app = open_as_va(fresh_db)
    table = app.dataframe[0].value
    assert list(table["title"]) == ["Good one", "Broken"]
    assert list(table["transcribe"]) == ["done", "pending"]
    assert list(table["progress"]) == [0.4, 0.0]  # 2 of 5 stages done, none
    assert any(plain(e.value) == "Episode 2 (Broken): /b.mp3: file is empty" for e in app.error)


def test_a_notices_link_shows_its_episode_alone_until_asked_for_all(fresh_db):
    with fresh_db.session() as session:
        client, _ = upsert_client(session, build_profile(slug="acme", name="Acme"))
        episodes = [Episode(client=client, source_uri=f"/{n}.mp3", media_path=f"/{n}.mp3", sha256=n * 64,
                            title=f"Episode {n}") for n in "abc"]
        session.add_all(episodes)
        session.flush()
        wanted = episodes[1].id
    add_staff(fresh_db)
    app = run_app(sign_in(fresh_db, "va@castmill.test"), page=PAGE, query={"episode": str(wanted)})
    assert list(app.dataframe[0].value["title"]) == ["Episode b"]
    app.button(key="unfocus_episode").click().run()
    assert list(app.dataframe[0].value["title"]) == ["Episode a", "Episode b", "Episode c"]
    missing = run_app(sign_in(fresh_db, "va@castmill.test"), page=PAGE, query={"episode": "999"})
    assert "Episode 999 is not among" in missing.warning[0].value
    assert len(missing.dataframe[0].value) == 3


def test_client_filter_hides_other_clients(fresh_db):
    with fresh_db.session() as session:
        for slug in ("acme", "zeta"):
            client, _ = upsert_client(session, build_profile(slug=slug, name=slug.title()))
            session.add(Episode(client=client, source_uri=f"/{slug}.mp3", media_path=f"/{slug}.mp3",
                                sha256=slug[0] * 64, title=f"{slug} episode"))
    app = open_as_va(fresh_db)
    app.selectbox(key="episodes_client").select("zeta").run()
    assert not app.exception
    assert list(app.dataframe[0].value["client"]) == ["zeta"]


def test_an_upload_is_saved_under_home_and_its_error_shown_as_raised(fresh_db, settings):
    with fresh_db.session() as session:
        upsert_client(session, build_profile(slug="acme", name="Acme"))
    app = open_as_va(fresh_db)
    app.file_uploader(key="add_files").upload("my <b>episode</b>.mp3", b"this is not audio", "audio/mpeg").run()
    app.button(key="add_process").click().run()
    assert not app.exception, app.exception
    saved = settings.home / "uploads" / "acme" / "my_b_episode_b_.mp3"
    assert saved.read_bytes() == b"this is not audio"
    with fresh_db.session() as session:
        episode = session.scalar(select(Episode))
        stage = session.scalar(select(EpisodeStage).where(EpisodeStage.stage == "ingest"))
        assert episode.media_path == str(saved)
        assert stage.status == "failed"
        raised = stage.error
    assert raised and any(plain(e.value) == raised for e in app.error)
    assert "0 episode(s) ready, 1 failed." in [w.value for w in app.warning]


def test_a_feed_url_that_fails_shows_the_library_message(fresh_db, settings, http_server):
    http_server.routes["/feed.xml"] = Route(b"gone", status=404, content_type="text/plain")
    url = http_server.url("/feed.xml")
    with fresh_db.session() as session:
        upsert_client(session, build_profile(slug="acme", name="Acme"))
    app = open_as_va(fresh_db)
    app.text_input(key="add_feed").input(url).run()
    app.button(key="add_process").click().run()
    assert not app.exception, app.exception
    _sources, failures = resolve_inputs([url], settings)
    assert [plain(e.value) for e in app.error] == [failures[0].error]


def test_re_running_a_failed_stage_runs_it_again(fresh_db, settings):
    with fresh_db.session() as session:
        upsert_client(session, build_profile(slug="acme", name="Acme"))
    app = open_as_va(fresh_db)
    app.file_uploader(key="add_files").upload("broken.mp3", b"still not audio", "audio/mpeg").run()
    app.button(key="add_process").click().run()
    with fresh_db.session() as session:
        first = session.scalar(select(EpisodeStage).where(EpisodeStage.stage == "ingest")).attempts
    app = run_app(sign_in(fresh_db, "va@castmill.test"), page=PAGE)
    app.selectbox(key="rerun_stage").select("ingest")
    app.button(key="rerun_go").click().run()
    assert not app.exception, app.exception
    with fresh_db.session() as session:
        row = session.scalar(select(EpisodeStage).where(EpisodeStage.stage == "ingest"))
    assert row.attempts == first + 1 and row.status == "failed"
    assert any(plain(e.value) == row.error for e in app.error)


def _diarized_episode(db) -> int:
    from pipeline.store.models import Transcript

    with db.session() as session:
        client, _ = upsert_client(session, build_profile(slug="acme", name="Acme"))
        episode = Episode(client=client, source_uri="/a.mp3", media_path="/a.mp3", sha256="a" * 64, title="Talk")
        session.add(episode)
        session.flush()
        session.add(Transcript(episode_id=episode.id, engine="faster-whisper", model="tiny.en", language="en",
                               duration=30.0, input_key="k", segments=[
                                   {"start": 0.0, "end": 10.0, "text": "Hi.", "speaker": "S1", "words": []},
                                   {"start": 10.5, "end": 30.0, "text": "Hello.", "speaker": "S2", "words": []}]))
        return episode.id


def test_the_va_names_speakers_and_the_library_keeps_them(fresh_db):
    episode_id = _diarized_episode(fresh_db)
    app = open_as_va(fresh_db)
    app.text_input(key=f"speaker_{episode_id}_S1").input("Dinda").run()
    app.button(key="speakers_save").click().run()
    assert not app.exception, app.exception
    assert app.success[0].value == "Speaker names saved."
    with fresh_db.session() as session:
        assert session.get(Episode, episode_id).speaker_names == {"S1": "Dinda"}


def test_a_bad_speaker_name_shows_the_library_message(fresh_db):
    episode_id = _diarized_episode(fresh_db)
    app = open_as_va(fresh_db)
    app.text_input(key=f"speaker_{episode_id}_S2").input("x" * 60).run()
    app.button(key="speakers_save").click().run()
    assert any("longer than 40 characters" in plain(e.value) for e in app.error)
    with fresh_db.session() as session:
        assert session.get(Episode, episode_id).speaker_names == {}


def test_on_postgresql_the_page_shows_the_queues_jobs_and_cancels_one(postgres_url, castmill_home, monkeypatch,
                                                                      tmp_path):
    from pipeline.core.settings import load_settings
    from pipeline.jobs.enqueue import enqueue_batch
    from pipeline.store.db import Database
    from pipeline.transcribe.stage import TranscribeJob
    from tests.helpers import media as mf

    monkeypatch.setenv("CASTMILL_DATABASE_URL", postgres_url)
    settings = load_settings(castmill_home)
    db = Database(postgres_url)
    with db.session() as session:
        upsert_client(session, build_profile(slug="acme", name="Acme"))
    episode = mf.speech_mp3(tmp_path / "queued.mp3", "An episode waiting for a worker.")
    report = enqueue_batch(db, settings, "acme", [str(episode)], job=TranscribeJob.from_settings(settings.transcribe))
    app = open_as_va(db)
    assert app.toggle(key="add_queued").value is True, "on PostgreSQL new episodes go to the queue by default"
    jobs = app.dataframe[0].value
    assert list(jobs["job"]) == [report.sources[0].job_id]
    assert list(jobs["stage"]) == ["ingest"] and list(jobs["status"]) == ["todo"]
    app.button(key="job_cancel").click().run()
    assert not app.exception, app.exception
    assert list(app.dataframe[0].value["status"]) == ["cancelled"]
    db.dispose()
