"""Drafts from stored highlights: every configured platform, versions, languages, checks, isolation."""

from __future__ import annotations

import json

import pytest

from tests.helpers.cli import castmill


def json_out(*args):
    result = castmill(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_every_platform_gets_an_episode_draft_and_one_per_highlight_that_pass_their_rules(mined):
    outcomes = json_out("drafts", "generate", str(mined["acme"]))
    highlights = json.loads(castmill("highlights", str(mined["acme"]), "--format", "json").stdout)["highlights"]
    assert len(outcomes) == 3 * (1 + len(highlights))
    assert {o["platform"] for o in outcomes} == {"x", "linkedin", "instagram"}
    assert all(o["created"] and o["version"] == 1 and o["violations"] == [] for o in outcomes)
    for o in outcomes:
        result = castmill("drafts", "check", str(o["draft_id"]))
        assert result.exit_code == 0 and "passes every rule" in result.stdout
    rows = json_out("drafts", "list", "--client", "acme")
    x_post = next(r for r in rows if r["platform"] == "x" and r["subject"] != "episode")
    assert x_post["parts"][0].startswith("“") and "#podcast" in x_post["parts"][-1]
    linkedin = next(r for r in rows if r["platform"] == "linkedin" and r["subject"] == "episode")
    assert "Follow for more." in linkedin["parts"][0]


def test_regenerating_keeps_versions_and_adds_one_only_when_text_changes(mined, tmp_path, castmill_home):
    first = json_out("drafts", "generate", str(mined["acme"]), "--platform", "x")
    again = json_out("drafts", "generate", str(mined["acme"]), "--platform", "x")
    assert [o["created"] for o in again] == [False] * len(first)
    folder = tmp_path / "acme-templates" / "posts"
    folder.mkdir(parents=True)
    (folder / "x.j2").write_text("NEW {% if highlight %}{{ highlight.quote }}{% else %}{{ episode.title }}{% endif %}")
    (tmp_path / "acme.toml").write_text((tmp_path / "acme.toml").read_text() + 'templates_dir = "acme-templates"\n')
    assert castmill("client", "import", str(tmp_path / "acme.toml")).exit_code == 0
    third = json_out("drafts", "generate", str(mined["acme"]), "--platform", "x")
    assert all(o["created"] and o["version"] == 2 for o in third)
    from pipeline.core.settings import load_settings
    from pipeline.store.db import Database
    from pipeline.store.models import DraftVersion

    db = Database(load_settings(castmill_home).database_url)
    with db.session() as session:
        versions = session.query(DraftVersion).filter_by(draft_id=third[0]["draft_id"]).order_by(DraftVersion.number).all()
        assert [v.number for v in versions] == [1, 2]
        assert not versions[0].parts[0].startswith("NEW") and versions[1].parts[0].startswith("NEW")
    db.dispose()


def test_indonesian_client_gets_indonesian_templates_and_the_quote_stays_in_the_episode_language(mined):
    json_out("drafts", "generate", str(mined["budi"]))
    rows = json_out("drafts", "list", "--client", "budi")
    episode_post = next(r for r in rows if r["subject"] == "episode" and r["platform"] == "bluesky")
    assert episode_post["parts"][0].startswith("Episode baru") and episode_post["language"] == "id"
    clip = next(r for r in rows if r["subject"] != "episode" and r["platform"] == "bluesky")
    assert "dari" in clip["parts"][0] and "pricing" in clip["parts"][0].lower()


def test_a_client_without_platforms_gets_a_clear_message(mined):
    result = castmill("drafts", "generate", str(mined["empty"]))
    assert result.exit_code == 1 and "client empty has no platforms" in result.stderr
    assert castmill("drafts", "generate", str(mined["empty"]), "--platform", "mastodon").exit_code == 0


def test_drafts_are_scoped_to_their_client(mined):
    outcomes = json_out("drafts", "generate", str(mined["acme"]), "--platform", "x")
    denied = castmill("drafts", "check", str(outcomes[0]["draft_id"]), "--client", "budi")
    assert denied.exit_code == 1 and f"no draft {outcomes[0]['draft_id']} for client budi" in denied.stderr
    assert json_out("drafts", "list", "--client", "budi") == []
    assert json_out("drafts", "list", "--status", "approved") == []


def test_templates_check_accepts_the_shipped_ones_and_names_a_bad_file(tmp_path, castmill_home):
    from pipeline.drafts.templates import BUILTIN_DIR

    shipped = [p for p in BUILTIN_DIR.glob("*.j2") if not p.name.startswith("_")]
    result = castmill("templates", "check")
    assert len(shipped) == 24 and result.exit_code == 0 and result.stdout.count("ok: ") == len(shipped)
    bad = tmp_path / "x.j2"
    bad.write_text("{{ episode.title }\n")
    result = castmill("templates", "check", str(bad))
    assert result.exit_code == 1 and result.stderr.startswith(f"error: {bad}: line 1:")


@pytest.mark.slow
def test_process_on_the_sample_yields_drafts_and_clips_that_pass_their_checks(castmill_home, sample_episode):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "config" / "clients" / "example.toml"
    assert castmill("init").exit_code == 0
    assert castmill("client", "import", str(example)).exit_code == 0
    result = castmill("process", "--client", "acme", str(sample_episode), "--json")
    assert result.exit_code == 0, result.stderr
    [report] = json.loads(result.stdout)["episodes"]
    assert report["stages"]["drafts"] == "done" and report["drafts"] >= 3 * (1 + 2) + 3
    rows = json_out("drafts", "list", "--client", "acme")
    assert {r["platform"] for r in rows} == {"linkedin", "x", "instagram", "shownotes", "newsletter", "wordpress"}
    for row in rows:
        checked = castmill("drafts", "check", str(row["id"]))
        assert checked.exit_code == 0, checked.stdout

    # The example profile asks for a 9:16 audiogram and audio snippets: every highlight has them.
    assert report["stages"]["clips"] == "done"
    highlights = json.loads(castmill("highlights", str(report["episode_id"]), "--format", "json").stdout)["highlights"]
    folder = castmill_home / "clips" / "acme" / f"episode-{report['episode_id']}"
    for h in highlights:
        stem = f"{h['start']:.2f}-{h['end']:.2f}"
        assert (folder / f"{stem}-audiogram-9x16.mp4").is_file() and (folder / f"{stem}-audiogram-9x16.jpg").is_file()
        assert (folder / f"{stem}-audio-9x16.mp3").is_file() and (folder / f"{stem}-audio-9x16.m4a").is_file()
        audiogram = folder / f"{stem}-audiogram-9x16.mp4"
        assert castmill("clips", "check", str(audiogram), "--platform", "instagram").exit_code == 0
        assert (folder / f"{stem}-card-4x5.png").is_file() and (folder / f"{stem}-card-1x1.png").is_file()
    instagram = [r for r in rows if r["platform"] == "instagram"]
    assert instagram and all(r["media"][0]["status"] == "rendered" and Path(r["media"][0]["path"]).is_file()
                             for r in instagram)  # drafts carry the pre-flighted files, checked above
