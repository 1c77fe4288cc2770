"""The clips stage: client caption style and cover, title-card thumbnails, failed clips, the render queue."""

from __future__ import annotations

import io
import resource
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.clips import render_ffmpeg
from pipeline.clips.stage import caption_style, render_episode, render_highlight
from pipeline.core.errors import MediaError
from pipeline.store.models import Client, Clip, Episode, Highlight
from tests.fakes.http_server import Route

pytestmark = pytest.mark.slow
RED_PNG = Image.new("RGB", (600, 600), (220, 20, 20))


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    RED_PNG.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def episode_rows(fresh_db, sample_episode):
    """Client acme asking for audiograms and audio, one episode (the sample) with two 2-second highlights."""
    with fresh_db.session() as session:
        client = Client(slug="acme", name="Acme", clip_settings={
            "kinds": ["audiogram", "audio"], "aspects": ["9:16"], "style": "default", "fit": "crop",
            "caption_style": {"highlight": "#00FF00", "uppercase": True}, "cover": "", "thumbnail": "frame"})
        episode = Episode(client=client, source_uri=str(sample_episode), media_path=str(sample_episode),
                          sha256="f" * 64, title="Sample Show", duration=60.0)
        session.add(episode)
        session.flush()
        for rank, start in enumerate((5.0, 20.0), start=1):
            session.add(Highlight(episode_id=episode.id, rank=rank, start=start, end=start + 2.0, score=0.5,
                                  features={}, reasons=[], text="", quote="", title="", input_key=""))
        return episode.id


def set_clip_settings(db, **changes):
    with db.session() as session:
        client = session.query(Client).one()
        client.clip_settings = {**client.clip_settings, **changes}


def clip_rows(db) -> list[Clip]:
    with db.session() as session:
        rows = session.query(Clip).order_by(Clip.id).all()
        session.expunge_all()
        return rows


def test_stage_renders_every_wanted_clip_in_the_queue_and_reports_progress(fresh_db, settings, episode_rows):
    calls = []
    with fresh_db.session() as session:
        result = render_episode(session, settings, episode_rows, workers=2,
                                      progress=lambda done, total: calls.append((done, total)))
    # 2 highlights × (audiogram mp4 + thumbnail jpg, audio mp3 + m4a)
    assert (result.rendered, result.reused, result.failed) == (8, 0, [])
    assert calls == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    rows = clip_rows(fresh_db)
    assert sorted((r.kind, r.format) for r in rows) == sorted([("audiogram", "mp4"), ("thumbnail", "jpg"),
                                                               ("audio", "mp3"), ("audio", "m4a")] * 2)
    assert all(r.status == "ready" and Path(r.path).is_file() for r in rows)
    with fresh_db.session() as session:
        again = render_episode(session, settings, episode_rows)
    assert (again.rendered, again.reused) == (0, 8)


def test_client_caption_style_reaches_the_burned_captions_and_changes_the_key(fresh_db, settings, episode_rows):
    from pipeline.clips.captions import ass_document, paginate
    from pipeline.clips.spec import CaptionWord

    style = caption_style("default", {"highlight": "#00FF00", "uppercase": True, "size": None})
    assert (style.highlight, style.uppercase, style.font) == ("#00FF00", True, "DejaVu Sans")
    words = (CaptionWord("halo", 0.0, 0.4), CaptionWord("dunia", 0.4, 0.9))
    document = ass_document(paginate(words, style, (1080, 1920)), style, (1080, 1920))
    assert "&H0000FF00&" in document and "HALO" in document
    with fresh_db.session() as session:
        assert render_highlight(session, settings, 1, kind="audiogram")[0].rendered
    with fresh_db.session() as session:
        assert not render_highlight(session, settings, 1, kind="audiogram")[0].rendered  # unchanged: reused
    set_clip_settings(fresh_db, caption_style={"highlight": "#0000FF"})
    with fresh_db.session() as session:
        assert render_highlight(session, settings, 1, kind="audiogram")[0].rendered, "a new style must re-render"


def test_unknown_caption_font_is_a_clear_error(fresh_db, settings, episode_rows):
    set_clip_settings(fresh_db, caption_style={"font": "No Such Font Family 123"})
    with fresh_db.session() as session, pytest.raises(MediaError) as error:
        render_highlight(session, settings, 1, kind="audiogram")
    assert "No Such Font Family 123" in str(error.value) and "\n" not in str(error.value)


def test_feed_artwork_becomes_the_audiogram_background(fresh_db, settings, episode_rows, http_server):
    http_server.routes["/art.png"] = Route(png_bytes(), content_type="image/png")
    with fresh_db.session() as session:
        session.get(Episode, episode_rows).feed_meta = {"image": http_server.url("/art.png")}
    with fresh_db.session() as session:
        files = render_highlight(session, settings, 1, kind="audiogram")
    corner = frame(files[0].path, 1.0)[300:500, 60:200].reshape(-1, 3).mean(axis=0)
    assert corner[0] > 150 and corner[1] < 80 and corner[2] < 80, corner  # red artwork, not the navy title card


def test_unreachable_feed_artwork_falls_back_to_the_client_cover_with_a_note(fresh_db, settings, episode_rows,
                                                                           http_server, tmp_path):
    cover = tmp_path / "cover.png"
    Image.new("RGB", (500, 500), (20, 200, 20)).save(cover)
    set_clip_settings(fresh_db, cover=str(cover), kinds=["audiogram"])
    with fresh_db.session() as session:
        session.get(Episode, episode_rows).feed_meta = {"image": http_server.url("/gone.png")}
    with fresh_db.session() as session:
        result = render_episode(session, settings, episode_rows)
    assert result.notes and "feed artwork not used" in result.notes[0]
    mp4 = next(r for r in clip_rows(fresh_db) if r.format == "mp4")
    corner = frame(mp4.path, 1.0)[300:500, 60:200].reshape(-1, 3).mean(axis=0)
    assert corner[1] > 150 and corner[0] < 80, corner  # the client's green cover


def test_title_card_thumbnail(fresh_db, settings, episode_rows):
    set_clip_settings(fresh_db, thumbnail="title")
    with fresh_db.session() as session:
        files = {f.format: f for f in render_highlight(session, settings, 2, kind="audiogram", aspect="1:1")}
    with Image.open(files["jpg"].path) as image:
        assert image.size == (1080, 1080)
        pixels = np.asarray(image.convert("RGB")).astype(int)
    navy = np.array([0x1B, 0x1F, 0x3A])
    assert np.abs(pixels[20, 20] - navy).max() < 12  # the title-card colour, not a frame of the waveform
    assert (pixels[400:700].max(axis=2) > 200).any()  # the white title text across the middle


def test_a_failed_render_marks_its_clip_failed_keeps_the_others_and_a_rerun_redoes_only_it(
        fresh_db, settings, episode_rows, monkeypatch):
    real_run = subprocess.run
    set_clip_settings(fresh_db, kinds=["audiogram"])

    def small_disk_for_highlight_2(cmd, **kwargs):  # a full disk while rendering the second highlight
        if any("20.00-22.00" in str(part) for part in cmd):
            kwargs["preexec_fn"] = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))
        return real_run(cmd, **kwargs)

    monkeypatch.setattr(render_ffmpeg.subprocess, "run", small_disk_for_highlight_2)
    with fresh_db.session() as session, pytest.raises(MediaError) as error:
        render_episode(session, settings, episode_rows, workers=1)
    assert "1 of 2 clips failed" in str(error.value)
    rows = {(r.highlight_key, r.kind): r for r in clip_rows(fresh_db)}
    assert rows[("5.00-7.00", "audiogram")].status == "ready"
    failed = rows[("20.00-22.00", "audiogram")]
    assert failed.status == "failed" and "rendering failed" in failed.error and failed.path == ""
    folder = settings.home / "clips" / "acme" / f"episode-{episode_rows}"
    assert not list(folder.glob("20.00-22.00*.mp4")) and not list(folder.glob("*.part.*"))

    monkeypatch.setattr(render_ffmpeg.subprocess, "run", real_run)
    with fresh_db.session() as session:
        result = render_episode(session, settings, episode_rows)
    assert (result.rendered, result.reused) == (2, 2)  # only the failed clip (mp4 + jpg) rendered again
    assert all(r.status == "ready" for r in clip_rows(fresh_db))


def frame(path: str, at: float) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", str(at), "-i", path, "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(1920, 1080, 3).astype(int)
