"""AppTest: the dashboard renders, with and without data, and shows stage status."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from pipeline.clients import build_profile, upsert_client
from pipeline.models import Episode, EpisodeStage

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def _run() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app


def test_empty_database_tells_how_to_add_a_client(fresh_db):
    app = _run()
    assert "No clients yet" in app.info[0].value


def test_lists_episodes_with_stage_status_and_errors(fresh_db):
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
    app = _run()
    table = app.dataframe[0].value
    assert list(table["title"]) == ["Good one", "Broken"]
    assert list(table["transcribe"]) == ["done", "pending"]
    assert any("file is empty" in e.value for e in app.error)


def test_client_filter_hides_other_clients(fresh_db):
    with fresh_db.session() as session:
        for slug in ("acme", "zeta"):
            client, _ = upsert_client(session, build_profile(slug=slug, name=slug.title()))
            session.add(Episode(client=client, source_uri=f"/{slug}.mp3", media_path=f"/{slug}.mp3",
                                sha256=slug[0] * 64, title=f"{slug} episode"))
    app = _run()
    app.selectbox(key="episodes_client").select("zeta").run()
    assert not app.exception
    assert list(app.dataframe[0].value["client"]) == ["zeta"]
