"""Real clips from the sample episode: ffmpeg renders, ffprobe checks, caption pixels in the safe zone."""

from __future__ import annotations

import json
import resource
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.clips import render_ffmpeg
from pipeline.clips.spec import SAFE_ZONE
from tests.helpers.cli import castmill

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def processed(tmp_path_factory, sample_episode):
    """The sample processed once for the module: its shortest highlight's id and length."""
    import os

    home = tmp_path_factory.mktemp("clips-home")
    old = os.environ.get("CASTMILL_HOME")
    os.environ["CASTMILL_HOME"] = str(home)
    castmill("init")
    castmill("client", "add", "acme", "--name", "Acme")
    assert castmill("process", "--client", "acme", str(sample_episode)).exit_code == 0
    data = json.loads(castmill("highlights", "1", "--format", "json").stdout)
    shortest = min(data["highlights"], key=lambda h: h["end"] - h["start"])
    yield home, shortest
    if old is None:
        os.environ.pop("CASTMILL_HOME", None)
    else:
        os.environ["CASTMILL_HOME"] = old


def render(*args):
    result = castmill("clips", "render", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return {f["kind"]: f for f in json.loads(result.stdout)}


def ffprobe(path: str) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", path],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def frame_rgb(path: str, at: float) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{at:.2f}", "-i", path, "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(1920, 1080, 3)


def test_audiogram_with_captions_sidecars_and_thumbnail(processed, monkeypatch):
    home, highlight = processed
    monkeypatch.setenv("CASTMILL_HOME", str(home))
    files = render(str(highlight["id"]))
    video, thumb = files["audiogram"], files["thumbnail"]
    probe = ffprobe(video["path"])
    streams = {s["codec_type"]: s for s in probe["streams"]}
    assert streams["video"]["codec_name"] == "h264" and streams["video"]["pix_fmt"] == "yuv420p"
    assert (streams["video"]["width"], streams["video"]["height"]) == (1080, 1920)
    assert streams["audio"]["codec_name"] == "aac"
    assert abs(float(probe["format"]["duration"]) - (highlight["end"] - highlight["start"])) < 0.15
    assert Path(thumb["path"]).stat().st_size > 5_000
    for ext in (".srt", ".vtt", ".ass"):
        assert Path(video["path"]).with_suffix(ext).stat().st_size > 50

    frame = frame_rgb(video["path"], 1.5)
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", "1.5", "-i", video["path"], "-frames:v", "1",
                    str(ARTIFACTS / "caption-frame.png")], check=True)
    captioned = (frame[..., 0] > 200) & (frame[..., 1] > 170) & (frame[..., 2] < 90)  # the highlighted word
    rows = np.flatnonzero(captioned.any(axis=1))
    assert rows.size, "no highlighted caption pixels in the frame (see test-artifacts/caption-frame.png)"
    assert rows.min() >= 1920 * SAFE_ZONE["top"] and rows.max() <= 1920 * (1 - SAFE_ZONE["bottom"])
    assert castmill("clips", "check", video["path"], "--platform", "instagram").exit_code == 0

    again = render(str(highlight["id"]))
    assert not again["audiogram"]["rendered"] and again["audiogram"]["path"] == video["path"]


def test_audio_snippets(processed, monkeypatch):
    home, highlight = processed
    monkeypatch.setenv("CASTMILL_HOME", str(home))
    result = castmill("clips", "render", str(highlight["id"]), "--kind", "audio", "--json")
    assert result.exit_code == 0, result.stderr
    formats = {f["format"] for f in json.loads(result.stdout)}
    assert formats == {"mp3", "m4a"}


def test_bad_requests_are_one_line_errors(processed, monkeypatch):
    home, highlight = processed
    monkeypatch.setenv("CASTMILL_HOME", str(home))
    video = castmill("clips", "render", str(highlight["id"]), "--kind", "video")
    assert video.exit_code == 1 and "has no video stream" in video.stderr
    assert "no highlight 999" in castmill("clips", "render", "999").stderr
    other = castmill("clips", "render", str(highlight["id"]), "--client", "other")
    assert other.exit_code == 1 and "for client other" in other.stderr


def test_a_render_that_runs_out_of_space_leaves_no_partial_file(processed, monkeypatch, tmp_path):
    home, highlight = processed
    monkeypatch.setenv("CASTMILL_HOME", str(home))
    real_run = subprocess.run

    def small_disk(cmd, **kwargs):  # the file-size limit makes writes fail like a full disk
        return real_run(cmd, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000)),
                        **kwargs)

    monkeypatch.setattr(render_ffmpeg.subprocess, "run", small_disk)
    result = castmill("clips", "render", str(highlight["id"]), "--aspect", "1:1")
    assert result.exit_code == 1 and "rendering failed" in result.stderr
    folder = home / "clips" / "acme" / "episode-1"
    assert not list(folder.glob("*1x1*.mp4")) and not list(folder.glob("*.part.*"))
