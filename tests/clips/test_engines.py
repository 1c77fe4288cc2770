"""The two clip engines render the same spec alike: duration, resolution, codecs, faststart, caption placement."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from pipeline.clips import render_ffmpeg, render_moviepy
from pipeline.clips.captions import paginate, write_captions
from pipeline.clips.spec import SAFE_ZONE, CaptionWord, ClipSpec
from pipeline.core.errors import MediaError

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ENGINES = {"ffmpeg": render_ffmpeg.render, "moviepy": render_moviepy.render}
TEXT = "Welcome back to the show, today we talk about gardens and why everybody quietly loves them."
WORDS = tuple(CaptionWord(text, 0.3 + k * 0.45, 0.3 + k * 0.45 + 0.4) for k, text in enumerate(TEXT.split()))


def render_both(spec: ClipSpec, folder: Path, fit: str = "crop") -> dict[str, tuple[Path, float]]:
    pages = paginate(spec.words, spec.style, spec.size)
    ass = write_captions(pages, spec.style, spec.size, folder / "captions")["ass"] if pages else None
    out = {}
    for name, render in ENGINES.items():
        began = time.perf_counter()
        path = render(spec, folder / f"{name}.mp4", ass, fit=fit)
        out[name] = (path, time.perf_counter() - began)
        assert not list(folder.glob("*.part.*"))
    return out


def ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def frame_rgb(path: Path, at: float, size: tuple[int, int]) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{at:.2f}", "-i", str(path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(size[1], size[0], 3)


def moov_before_mdat(path: Path) -> bool:
    data = path.read_bytes()
    offset, order = 0, []
    while offset + 8 <= len(data):
        size, kind = int.from_bytes(data[offset:offset + 4], "big"), data[offset + 4:offset + 8]
        if size == 1:
            size = int.from_bytes(data[offset + 8:offset + 16], "big")
        order.append(kind)
        if size < 8:
            break
        offset += size
    return b"moov" in order and b"mdat" in order and order.index(b"moov") < order.index(b"mdat")


def assert_same_container(clips: dict[str, tuple[Path, float]], spec: ClipSpec) -> None:
    for name, (path, _) in clips.items():
        probe = ffprobe(path)
        streams = {s["codec_type"]: s for s in probe["streams"]}
        video, audio = streams["video"], streams["audio"]
        assert (video["codec_name"], video["pix_fmt"]) == ("h264", "yuv420p"), name
        assert (video["width"], video["height"]) == spec.size, name
        assert video["r_frame_rate"] == f"{spec.fps}/1", name
        assert audio["codec_name"] == "aac" and audio["sample_rate"] == "44100", name
        assert abs(float(probe["format"]["duration"]) - spec.seconds) < 0.1, name
        assert moov_before_mdat(path), f"{name}: not faststart"


def highlighted_rows(frame: np.ndarray) -> np.ndarray:
    mask = (frame[..., 0] > 200) & (frame[..., 1] > 170) & (frame[..., 2] < 90)
    return np.flatnonzero(mask.sum(axis=1) >= 3)


@pytest.fixture(scope="module")
def audiograms(tmp_path_factory, sample_episode):
    spec = ClipSpec(source=sample_episode, start=10.0, end=25.0, kind="audiogram", aspect="9:16",
                    title="Gardening, quietly", words=WORDS)
    return spec, render_both(spec, tmp_path_factory.mktemp("audiogram"))


def test_audiogram_engines_agree_on_container(audiograms):
    spec, clips = audiograms
    assert_same_container(clips, spec)
    print("render seconds:", {name: round(seconds, 1) for name, (_, seconds) in clips.items()})


def test_audiogram_engines_place_captions_alike(audiograms):
    spec, clips = audiograms
    width, height = spec.size
    bands = {}
    ARTIFACTS.mkdir(exist_ok=True)
    for name, (path, _) in clips.items():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", "2.0", "-i", str(path), "-frames:v", "1",
                        str(ARTIFACTS / f"engine-{name}-frame.png")], check=True)
        rows = highlighted_rows(frame_rgb(path, 2.0, spec.size))
        assert rows.size, f"{name}: no highlighted caption pixels (see test-artifacts/engine-{name}-frame.png)"
        assert rows.min() >= height * SAFE_ZONE["top"] and rows.max() <= height * (1 - SAFE_ZONE["bottom"]), name
        bands[name] = (rows.min(), rows.max())
    (ff_top, ff_bottom), (mp_top, mp_bottom) = bands["ffmpeg"], bands["moviepy"]
    assert abs(ff_top - mp_top) <= 12 and abs(ff_bottom - mp_bottom) <= 12, bands
    # A later word is highlighted in both, not the first one forever.
    late = {name: frame_rgb(path, 3.5, spec.size) for name, (path, _) in clips.items()}
    assert all(highlighted_rows(f).size for f in late.values())


def test_audiogram_engines_share_background_progress_and_audio(audiograms):
    spec, clips = audiograms
    width, height = spec.size
    frames = {name: frame_rgb(path, 7.5, spec.size) for name, (path, _) in clips.items()}
    bar_y = int(height * (1 - SAFE_ZONE["bottom"])) - 24 + 5
    for name, frame in frames.items():
        assert np.abs(frame[50, 50].astype(int) - [0x1B, 0x1F, 0x3A]).max() <= 6, name  # the title card colour
        filled = np.flatnonzero(frame[bar_y, :, :].min(axis=1) > 200)
        assert filled.size and abs(filled.max() - width / 2) < width * 0.04, name  # half way at half time
    levels = {}
    for name, (path, _) in clips.items():
        raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "8000", "-f", "f32le", "-"],
                             capture_output=True, check=True).stdout
        samples = np.frombuffer(raw, dtype="<f4")
        levels[name] = samples
        assert samples.std() > 0.01, f"{name}: silent or constant audio"
    n = min(len(v) for v in levels.values())
    assert np.corrcoef(levels["ffmpeg"][:n], levels["moviepy"][:n])[0, 1] > 0.9  # the same cut, in sync


@pytest.fixture(scope="module")
def test_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("source") / "testsrc.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25:duration=20",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=20", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)], check=True)
    return path


@pytest.mark.parametrize("fit", ["crop", "blur"])
def test_video_engines_reframe_to_vertical(test_video, tmp_path, fit):
    spec = ClipSpec(source=test_video, start=4.0, end=7.0 if fit == "crop" else 6.0, kind="video", aspect="9:16",
                    words=WORDS[:6])
    clips = render_both(spec, tmp_path, fit=fit)
    assert_same_container(clips, spec)
    frames = {name: frame_rgb(path, 1.0, spec.size).astype(int) for name, (path, _) in clips.items()}
    # The same picture: the centre of the reframed source (above the captions) matches closely.
    region = (slice(200, 1100), slice(100, 980))
    difference = np.abs(frames["ffmpeg"][region] - frames["moviepy"][region]).mean()
    assert difference < 12, difference
    print(f"video {fit} render seconds:", {name: round(seconds, 1) for name, (_, seconds) in clips.items()})


def test_moviepy_failure_is_one_line_and_leaves_nothing(tmp_path):
    spec = ClipSpec(source=tmp_path / "missing.mp3", start=0.0, end=2.0, words=WORDS[:2])
    with pytest.raises(MediaError) as error:
        render_moviepy.render(spec, tmp_path / "out.mp4")
    assert "\n" not in str(error.value) and str(spec.source) in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_engine_is_part_of_the_clip_key():
    from pipeline.clips.stage import _key

    spec = ClipSpec(source=Path("x.mp3"), start=0.0, end=5.0, words=WORDS[:2])
    episode = SimpleNamespace(sha256="abc")
    assert _key(episode, spec, "default", "crop", "ffmpeg") != _key(episode, spec, "default", "crop", "moviepy")
    assert _key(episode, spec, "default", "crop") == _key(episode, spec, "default", "crop", "ffmpeg")


def test_cli_offers_both_engines():
    from click.testing import CliRunner

    from pipeline.cli.clips import clips

    result = CliRunner().invoke(clips, ["render", "--help"])
    assert result.exit_code == 0 and "--engine [ffmpeg|moviepy]" in result.output


def _pcm(path: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "48000", "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.float32)


@pytest.mark.parametrize("kind", ["audiogram", "video"])
def test_both_engines_fade_the_audio_in_and_out_at_the_cut(tmp_path, test_video, kind):
    """A loud tone runs straight through both cut points: the clip must not start or stop at full swing."""
    tone = tmp_path / "tone.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(test_video), "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                    "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-shortest", str(tone)], check=True)
    spec = ClipSpec(source=tone, start=2.0, end=5.0, kind=kind, aspect="9:16", words=WORDS[:4], title="Tone")
    for name, (path, _seconds) in render_both(spec, tmp_path).items():
        pcm = _pcm(path)
        edge = int(0.004 * 48000)  # the first and last 4 ms
        middle = float(np.sqrt(np.mean(pcm[len(pcm) // 3: 2 * len(pcm) // 3] ** 2)))
        first, last = (float(np.sqrt(np.mean(part ** 2))) for part in (pcm[:edge], pcm[-edge:]))
        assert middle > 0.05, f"{name}: the tone is missing ({middle:.3f})"
        assert first < middle / 3 and last < middle / 3, f"{name} {kind}: edges {first:.3f}/{last:.3f}, middle {middle:.3f}"


def test_a_video_clip_without_caption_words_renders_in_both_engines(tmp_path, test_video):
    spec = ClipSpec(source=test_video, start=1.0, end=3.0, kind="video", aspect="9:16", words=(), title="Silent")
    clips = render_both(spec, tmp_path)
    assert_same_container(clips, spec)
