"""Awkward inputs for the ffmpeg engine: portrait sources, a corrupt cover, a cut past the end."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pipeline.clips.render_ffmpeg import render
from pipeline.clips.spec import ClipSpec
from pipeline.errors import MediaError

pytestmark = pytest.mark.slow


def make_video(path: Path, size: str, seconds: int = 4) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=300", "-t", str(seconds), "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)], check=True)
    return path


def streams(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format",
                          str(path)], capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    return {s["codec_type"]: s for s in data["streams"]} | {"format": data["format"]}


@pytest.mark.parametrize("size, aspect, expected", [("360x640", "9:16", (1080, 1920)), ("360x640", "16:9", (1920, 1080))])
def test_portrait_sources_are_reframed_to_any_aspect(tmp_path, size, aspect, expected):
    source = make_video(tmp_path / "portrait.mp4", size)
    out = render(ClipSpec(source=source, start=0.5, end=3.5, kind="video", aspect=aspect), tmp_path / "out.mp4", None)
    info = streams(out)
    assert (info["video"]["width"], info["video"]["height"]) == expected
    assert info["video"]["r_frame_rate"] == "30/1" and abs(float(info["format"]["duration"]) - 3.0) < 0.1


def test_a_corrupt_cover_image_is_a_one_line_error_and_leaves_nothing(tmp_path, sample_episode):
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    spec = ClipSpec(source=sample_episode, start=10, end=13, kind="audiogram", cover=cover, title="Cover test")
    with pytest.raises(MediaError) as caught:
        render(spec, tmp_path / "out.mp4", None)
    assert str(caught.value).startswith(f"{cover}: cover image is not readable") and "\n" not in str(caught.value)
    assert list(tmp_path.glob("out*")) == []


def test_a_good_cover_fills_the_frame(tmp_path, sample_episode):
    cover = tmp_path / "cover.png"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=600x600", "-frames:v", "1",
                    str(cover)], check=True)
    out = render(ClipSpec(source=sample_episode, start=10, end=13, kind="audiogram", cover=cover), tmp_path / "o.mp4",
                 None)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", "1", "-i", str(out), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    corner = raw[: 3 * 10]  # the first pixels of the top row come from the cover, not the title card
    assert all(corner[k] > 180 and corner[k + 2] < 80 for k in range(0, 30, 3))
