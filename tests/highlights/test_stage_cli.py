"""The highlights stage, `castmill highlights`, feedback and re-fitting, through the CLI."""

from __future__ import annotations

import json

import pytest

from pipeline.store.db import Database
from pipeline.store.models import Client, Episode, HighlightFeedback, Transcript
from tests.helpers.cli import castmill
from tests.fakes.openai_server import Content, FakeOpenAI
from tests.highlights.test_scoring import STRONG_EN, episode
from tests.helpers.timelines import transcript_from_sentences


@pytest.fixture
def clients(castmill_home):
    assert castmill("init").exit_code == 0
    for slug in ("acme", "other"):
        assert castmill("client", "add", slug, "--name", slug.title()).exit_code == 0
    return castmill_home


def add_transcribed_episode(home, slug: str, transcript, name: str = "ep") -> int:
    """An episode whose transcript is already stored (its media file is missing: no audio features)."""
    db = Database(f"sqlite:///{home.resolve() / 'castmill.db'}")
    with db.session() as session:
        client = session.query(Client).filter_by(slug=slug).one()
        ep = Episode(client_id=client.id, source_uri=f"/nowhere/{name}.mp3", media_path=f"/nowhere/{name}.mp3",
                     sha256=name.ljust(64, "0"), title=name, duration=transcript.duration)
        session.add(ep)
        session.flush()
        data = transcript.to_dict()
        session.add(Transcript(episode_id=ep.id, engine="test", model="test", language=data["language"],
                               duration=data["duration"], segments=data["segments"], input_key="k"))
        episode_id = ep.id
    db.dispose()
    return episode_id


def highlights_json(*args):
    result = castmill("highlights", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_episode_highlights_are_mined_once_stored_and_explained(clients):
    episode_id = add_transcribed_episode(clients, "acme", episode(strong_at=2))
    first = highlights_json(str(episode_id))
    assert first["highlights"] and all(h["id"] for h in first["highlights"])
    assert any("no audio" in n for n in first["notes"])
    top = first["highlights"][0]
    assert top["reasons"] and top["title"] and top["quote"] in STRONG_EN
    again = highlights_json(str(episode_id))
    assert [h["id"] for h in again["highlights"]] == [h["id"] for h in first["highlights"]]  # not re-mined
    table = castmill("highlights", str(episode_id), "--explain")
    assert "hook=" in table.stdout and "highlight weights in use" in table.stdout


def test_flags_mine_afresh_without_touching_the_stored_rows(clients):
    episode_id = add_transcribed_episode(clients, "acme", episode(strong_at=2, repeats=10))
    stored = highlights_json(str(episode_id))
    short = highlights_json(str(episode_id), "--platform", "youtube", "--top", "2")
    assert len(short["highlights"]) == 2 and all(h["end"] - h["start"] <= 60.01 for h in short["highlights"])
    assert highlights_json(str(episode_id))["highlights"] == stored["highlights"]


def test_other_clients_cannot_read_or_label_highlights(clients):
    episode_id = add_transcribed_episode(clients, "acme", episode(strong_at=1))
    highlight_id = highlights_json(str(episode_id))["highlights"][0]["id"]
    denied = castmill("highlights", str(episode_id), "--client", "other")
    assert denied.exit_code == 1 and f"no episode {episode_id} for client other" in denied.stderr
    denied = castmill("feedback", str(highlight_id), "good", "--client", "other")
    assert denied.exit_code == 1 and f"no highlight {highlight_id} for client other" in denied.stderr
    assert castmill("feedback", str(highlight_id), "good", "--client", "acme").exit_code == 0


def test_feedback_refit_changes_the_weights_in_use(clients):
    ids = [add_transcribed_episode(clients, "acme", episode(strong_at=k % 4, repeats=5), f"ep{k}") for k in range(3)]
    labelled = 0
    for episode_id in ids:
        for h in highlights_json(str(episode_id))["highlights"]:
            label = "good" if h["features"]["hook"] >= 0.5 else "bad"
            assert castmill("feedback", str(h["id"]), label, "--by", "va@example.com").exit_code == 0
            labelled += 1
    too_few = castmill("refit", "--client", "other")
    assert too_few.exit_code == 1 and "needs at least 10 labels" in too_few.stderr
    before = {w["name"]: w for w in highlights_json("--explain", "--client", "acme")}
    result = castmill("refit", "--client", "acme")
    assert result.exit_code == 0, result.stderr
    assert f"{labelled} labels" in result.stdout
    after = {w["name"]: w for w in highlights_json("--explain", "--client", "acme")}
    assert after["hook"]["source"] == f"fitted from {labelled} labels"
    assert after["hook"]["normalized"] > before["hook"]["normalized"]  # the labels followed the hook


def test_labels_survive_re_mining(clients, castmill_home):
    episode_id = add_transcribed_episode(clients, "acme", episode(strong_at=1))
    highlight_id = highlights_json(str(episode_id))["highlights"][0]["id"]
    castmill("feedback", str(highlight_id), "bad", "--note", "too slow")
    from pipeline.highlights.stage import run_stage
    from pipeline.core.settings import load_settings

    settings = load_settings(castmill_home)
    db = Database(settings.database_url)
    run_stage(db, settings, episode_id, force=True)
    with db.session() as session:
        [row] = session.query(HighlightFeedback).all()
        assert row.highlight_id is None and row.label == "bad" and row.features["hook"] is not None
    db.dispose()


def test_transcript_file_input_and_its_bad_forms(castmill_home, tmp_path):
    good = tmp_path / "episode.json"
    good.write_text(json.dumps(episode(strong_at=1).to_dict()))
    data = highlights_json(str(good), "--top", "3", "--min", "10", "--max", "40")
    assert len(data["highlights"]) == 3 and all(10 <= h["end"] - h["start"] <= 40 for h in data["highlights"])

    short = tmp_path / "short.json"
    short.write_text(json.dumps(transcript_from_sentences(["Thanks for listening."]).to_dict()))
    result = castmill("highlights", str(short))
    assert result.exit_code == 0 and "no highlights" in result.stdout
    assert "less than the 15 s minimum clip length" in result.stderr

    segments_only = tmp_path / "segments.json"
    data = episode(strong_at=1).to_dict()
    for segment in data["segments"]:
        segment.pop("words")
    segments_only.write_text(json.dumps(data))
    result = castmill("highlights", str(segments_only))
    assert result.exit_code == 0 and "no word timings" in result.stderr

    for name, body, message in [
        ("empty.json", '{"language": "en", "duration": 0, "segments": []}', "transcript has no words to mine"),
        ("garbage.json", "not json", "not a transcript JSON"),
        ("missing.json", None, "no such file"),
    ]:
        path = tmp_path / name
        if body is not None:
            path.write_text(body)
        result = castmill("highlights", str(path))
        assert result.exit_code == 1 and result.stderr.strip() == result.stderr.strip().splitlines()[0]
        assert result.stderr.startswith(f"error: {path}: ") and message in result.stderr


def test_missing_target_or_episode_is_a_clear_error(clients):
    assert "give FILE_OR_EPISODE_ID" in castmill("highlights").stderr
    result = castmill("highlights", "999")
    assert result.exit_code == 1 and result.stderr.strip() == "error: no episode 999"


def test_llm_scorer_re_ranks_and_titles_and_a_broken_one_falls_back(castmill_home, tmp_path, monkeypatch):
    transcript = tmp_path / "episode.json"
    transcript.write_text(json.dumps(episode(strong_at=1, repeats=8).to_dict()))
    with FakeOpenAI(api_key="sk-local") as fake:
        castmill_home.mkdir(parents=True, exist_ok=True)
        (castmill_home / "castmill.toml").write_text(
            f'[highlights.llm]\nenabled = true\nbase_url = "{fake.base_url}"\nmax_retries = 0\n')
        monkeypatch.setenv("CASTMILL_LLM_API_KEY", "sk-local")
        data = highlights_json(str(transcript), "--top", "3")
        assert fake.requests and fake.requests[0].headers["Authorization"] == "Bearer sk-local"
        assert all(h["llm"] and h["title"] == h["llm"]["title"] for h in data["highlights"])
        fake.script(Content("this is not json"))
        fallback = highlights_json(str(transcript), "--top", "3")
        assert any("LLM scorer not used" in n and "not JSON" in n for n in fallback["notes"])
        assert all(h["llm"] is None for h in fallback["highlights"])
        assert "sk-local" not in json.dumps(fallback)
