"""Awkward inputs for the ffmpeg engine: portrait sources, a corrupt cover, a cut past the end."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.clips.render_ffmpeg import render
from pipeline.clips.spec import ClipSpec
from pipeline.core.errors import MediaError

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


def test_variable_frame_rate_source_becomes_constant_30_fps(tmp_path):
    # Half the frames dropped at random intervals: a phone recording's irregular timestamps.
    source = tmp_path / "vfr.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=30",
                    "-f", "lavfi", "-i", "sine=frequency=300", "-t", "4",
                    "-vf", "select='not(mod(n\\,3))+eq(mod(n\\,7)\\,2)'",
                    "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", str(source)], check=True)
    before = streams(source)["video"]
    assert before["r_frame_rate"] != before["avg_frame_rate"]  # really variable
    out = render(ClipSpec(source=source, start=0.5, end=3.0, kind="video", aspect="9:16"), tmp_path / "out.mp4", None)
    video = streams(out)["video"]
    assert video["r_frame_rate"] == video["avg_frame_rate"] == "30/1"
    assert abs(float(streams(out)["format"]["duration"]) - 2.5) < 0.1


def test_rotation_metadata_is_applied_before_reframing(tmp_path):
    # A landscape 640×360 encode flagged "rotate 90": players show it portrait, and so must the clip.
    flat = make_video(tmp_path / "flat.mp4", "640x360")
    rotated = tmp_path / "rotated.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(flat), "-c", "copy",
                    "-metadata:s:v:0", "rotate=90", str(rotated)], check=True)
    side = json.dumps(streams(rotated)["video"])
    assert "rotat" in side.lower()  # the flag is there (tag or display-matrix side data)
    out = render(ClipSpec(source=rotated, start=0.5, end=3.0, kind="video", aspect="9:16"), tmp_path / "out.mp4",
                 None, fit="blur")
    info = streams(out)
    assert (info["video"]["width"], info["video"]["height"]) == (1080, 1920)
    assert "rotat" not in json.dumps(info["video"]).lower()  # the output is upright, not flagged
    # The clip matches the source as players show it (upright, scaled to fill), frame for frame.
    clip_frame = gray_frame(out, at=1.0, scale=None)
    upright = gray_frame(rotated, at=1.5, scale="1080:1920")
    assert np.abs(clip_frame - upright).mean() < 12


def gray_frame(path: Path, at: float, scale: str | None):
    import numpy as np

    cmd = ["ffmpeg", "-v", "error", "-ss", str(at), "-i", str(path), "-frames:v", "1"]
    cmd += ["-vf", f"scale={scale}"] if scale else []
    raw = subprocess.run(cmd + ["-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(1920, 1080).astype(float)


def test_4k_source_is_scaled_down_to_the_clip_size(tmp_path):
    source = make_video(tmp_path / "uhd.mp4", "3840x2160", seconds=2)
    out = render(ClipSpec(source=source, start=0.2, end=1.7, kind="video", aspect="1:1"), tmp_path / "out.mp4", None)
    info = streams(out)
    assert (info["video"]["width"], info["video"]["height"]) == (1080, 1080)
    assert info["video"]["pix_fmt"] == "yuv420p" and abs(float(info["format"]["duration"]) - 1.5) < 0.1
