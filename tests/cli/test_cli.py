"""The CLI end to end: init, clients, process (real model), episodes list, transcribe."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers.cli import castmill, castmill_json
from tests.fakes.http_server import Route
from tests.helpers import media as mf


@pytest.fixture
def acme(castmill_home):
    assert castmill("init").exit_code == 0
    result = castmill("client", "add", "acme", "--name", "Acme Podcast", "--timezone", "America/New_York")
    assert result.exit_code == 0, result.output
    return "acme"


def test_init_creates_and_reports_the_database(castmill_home):
    result = castmill("init")
    assert result.exit_code == 0
    assert "revision 0020" in result.stdout
    assert (castmill_home / "castmill.db").is_file()


def test_client_add_list_and_import(castmill_home, tmp_path):
    castmill("client", "add", "acme", "--name", "Acme", "--timezone", "Asia/Jakarta", "--language", "id")
    profile = tmp_path / "zeta.toml"
    profile.write_text('slug = "zeta"\nname = "Zeta Talks"\ntimezone = "Europe/Berlin"\n')
    assert "added client zeta" in castmill("client", "import", str(profile)).stdout
    result, rows = castmill_json("client", "list")
    assert [(r["slug"], r["timezone"], r["language"]) for r in rows] == [
        ("acme", "Asia/Jakarta", "id"), ("zeta", "Europe/Berlin", "en")]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--name", "X", "--timezone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (["--name", "X", "--language", "english"], "language"),
        (["--name", ""], "name"),
    ],
)
def test_client_add_rejects_bad_fields(castmill_home, args, message):
    result = castmill("client", "add", "acme", *args)
    assert result.exit_code == 1
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_client_import_rejects_bad_toml(castmill_home, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("slug = [unclosed\n")
    result = castmill("client", "import", str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {bad}: invalid TOML")


def test_unknown_client_is_one_line_error(castmill_home, sample_episode):
    castmill("client", "add", "acme", "--name", "Acme")
    result = castmill("process", "--client", "nobody", str(sample_episode))
    assert result.exit_code == 1
    assert result.stderr == "error: unknown client 'nobody' (known: acme); add it with `castmill client add`\n"


def test_database_url_that_cannot_connect(castmill_home, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("CASTMILL_DATABASE_URL", f"postgresql+psycopg://castmill:secret@127.0.0.1:{port}/castmill")
    result = castmill("episodes", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot connect to database postgresql+psycopg://castmill:***@127.0.0.1:{port}/castmill")
    assert "secret" not in result.stderr and result.stderr.count("\n") == 1


def test_database_url_that_is_not_a_url(castmill_home, monkeypatch):
    monkeypatch.setenv("CASTMILL_DATABASE_URL", "not a url")
    result = castmill("init")
    assert result.exit_code == 1 and "invalid database URL" in result.stderr


@pytest.mark.slow
def test_process_sample_then_rerun_skips(acme, sample_episode):
    result, report = castmill_json("process", "--client", acme, str(sample_episode))
    assert result.exit_code == 0, result.stderr
    (episode,) = report["episodes"]
    done = {"ingest": "done", "transcribe": "done", "highlights": "done", "drafts": "done", "clips": "done"}
    assert episode["status"] == "done" and episode["stages"] == done and episode["highlights"] >= 2

    result, listed = castmill_json("episodes", "list", "--client", acme)
    assert listed[0]["title"] == "Castmill Sample Episode"
    assert listed[0]["stages"] == done and listed[0]["highlights"] == episode["highlights"]

    result, again = castmill_json("process", "--client", acme, str(sample_episode))
    assert again["episodes"][0]["status"] == "skipped"


@pytest.mark.slow
def test_bad_inputs_each_fail_alone_and_the_batch_goes_on(acme, tmp_path, sample_episode, http_server):
    """Every bad input from the issue in one batch, with one good episode that must still finish."""
    html_enclosure_feed = _rss([("HTML pretending", http_server.url("/ep.mp3"), "audio/mpeg")])
    http_server.routes["/ep.mp3"] = Route(b"<html>login</html>", content_type="text/html")
    http_server.routes["/html-feed.xml"] = Route(html_enclosure_feed, content_type="application/rss+xml")
    http_server.routes["/no-enclosures.xml"] = Route(_rss([("Blog post", None, None)]), content_type="application/rss+xml")
    bad = {
        str(mf.empty_file(tmp_path / "empty.mp3")): "file is empty",
        str(mf.truncated_copy(sample_episode, tmp_path / "truncated.mp3")): "file is truncated",
        str(mf.text_as_media(tmp_path / "renamed.mp3")): "not a readable audio or video file",
        str(mf.video_without_audio(tmp_path / "no-audio.mp4")): "video has no audio stream",
        str(mf.silence(tmp_path / "silence.mp3", 8)): "contains only silence",
        str(tmp_path / "does-not-exist.mp3"): "no such file or folder",
        http_server.url("/missing-feed.xml"): "feed returned HTTP 404",
        http_server.url("/no-enclosures.xml"): "no audio or video enclosures",
        http_server.url("/html-feed.xml"): "server sent text/html, not audio or video",
    }
    good = str(sample_episode)
    result, report = castmill_json("process", "--client", acme, *bad, good)
    assert result.exit_code == 1
    by_source = {o["source"]: o for o in report["episodes"]}
    assert by_source[good]["status"] == "done"
    for source, message in bad.items():
        outcome = by_source.get(source) or by_source[http_server.url("/ep.mp3")]
        assert outcome["status"] == "failed", source
        assert message in outcome["error"], (source, outcome["error"])
        named = source if source in by_source else http_server.url("/ep.mp3")
        assert named in outcome["error"] and "\n" not in outcome["error"]
    # Failures are recorded on the episode rows too, not only printed.
    _, listed = castmill_json("episodes", "list", "--client", acme)
    errors = {row["source"]: row["error"] for row in listed}
    assert "contains only silence" in errors[bad_key(bad, "silence")]
    assert "file is empty" in errors[bad_key(bad, "empty")]


def bad_key(bad: dict, stem: str) -> str:
    return next(k for k in bad if k.endswith(f"/{stem}.mp3"))


def test_process_prints_progress_and_one_line_errors(acme, tmp_path):
    empty = mf.empty_file(tmp_path / "empty.mp3")
    result = castmill("process", "--client", acme, str(empty))
    assert result.exit_code == 1
    assert f"error: {empty}: file is empty" in result.stderr
    assert "0 episode(s) ready, 1 failed" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "srt", "vtt", "txt"])
def test_transcribe_needs_no_database(castmill_home, sample_episode, fmt):
    result = castmill("transcribe", str(sample_episode), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert not (castmill_home / "castmill.db").exists()
    out = result.stdout
    if fmt == "json":
        data = json.loads(out)
        assert data["language"] == "en" and 100 < data["duration"] < 110
        word = data["segments"][0]["words"][0]
        assert set(word) == {"word", "start", "end", "probability"}
    elif fmt == "srt":
        assert re.match(r"1\n00:00:0\d,\d{3} --> 00:00:\d\d,\d{3}\n\S", out)
    elif fmt == "vtt":
        assert out.startswith("WEBVTT\n\n00:00:0")
    else:
        assert "podcast" in out.lower()


@pytest.mark.slow
def test_transcribe_with_speakers_follows_the_samples_host_and_guest(castmill_home, sample_episode):
    script = json.loads((sample_episode.parent / "sample_episode.json").read_text())
    result = castmill("transcribe", str(sample_episode), "--speakers", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    turns = [s["speaker"] for s in data["segments"]]
    turns = [who for k, who in enumerate(turns) if k == 0 or turns[k - 1] != who]
    # The generator's true turns: host, guest, host … one turn per script line.
    expected = ["S1" if line["speaker"] == "host" else "S2" for line in script]
    assert turns == expected
    assert all(w["speaker"] == s["speaker"] for s in data["segments"] for w in s["words"])
    assert data["speaker_names"] == {"S1": "S1", "S2": "S2"}
    usage = castmill("transcribe", str(sample_episode), "--num-speakers", "2")
    assert usage.exit_code == 2 and "--num-speakers goes with --speakers" in usage.output


def test_process_labels_speakers_unless_the_client_turns_it_off(acme, sample_episode, tmp_path):
    result, report = castmill_json("process", "--client", acme, str(sample_episode))
    assert result.exit_code == 0, result.stderr
    episode_id = report["episodes"][0]["episode_id"]
    result, speakers = castmill_json("episodes", "speakers", str(episode_id))
    assert sorted(s["label"] for s in speakers) == ["S1", "S2"]
    profile = tmp_path / "quiet.toml"
    profile.write_text('slug = "quiet"\nname = "Quiet"\nspeakers = "off"\n')
    assert castmill("client", "import", str(profile)).exit_code == 0
    result, report = castmill_json("process", "--client", "quiet", str(sample_episode))
    quiet_id = report["episodes"][0]["episode_id"]
    result, speakers = castmill_json("episodes", "speakers", str(quiet_id))
    assert speakers == []
    bad = tmp_path / "bad.toml"
    bad.write_text('slug = "bad"\nname = "Bad"\nspeakers = 0\n')
    refused = castmill("client", "import", str(bad))
    assert refused.exit_code != 0 and "speakers must be" in refused.output


def test_transcribe_bad_file_is_one_line(castmill_home, tmp_path):
    result = castmill("transcribe", str(mf.text_as_media(tmp_path / "x.mp3")))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {tmp_path / 'x.mp3'}: not a readable audio or video file")
    assert result.stderr.count("\n") == 1


def _rss(items: list[tuple[str, str | None, str | None]]) -> bytes:
    entries = []
    for i, (title, url, media_type) in enumerate(items):
        enclosure = f'<enclosure url="{url}" type="{media_type}" length="100"/>' if url else ""
        entries.append(
            f"<item><title>{title}</title><guid>g{i}</guid>"
            f"<pubDate>Mon, 0{i + 1} Jun 2026 10:00:00 GMT</pubDate>{enclosure}</item>"
        )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Show</title>'
        + "".join(entries) + "</channel></rss>"
    ).encode()


@pytest.mark.slow
def test_same_content_under_two_names_is_one_episode(acme, tmp_path, sample_episode):
    import shutil

    copy = shutil.copy(sample_episode, tmp_path / "renamed copy.mp3")
    result, report = castmill_json("process", "--client", acme, str(sample_episode), str(copy))
    assert result.exit_code == 0, result.stderr
    assert [o["status"] for o in report["episodes"]] == ["done", "duplicate"]
    assert report["episodes"][0]["episode_id"] == report["episodes"][1]["episode_id"]
    _, listed = castmill_json("episodes", "list")
    assert len(listed) == 1
