"""Preflight of rendered clips: probing, the MP4 faststart check, and universal and platform rules.

Clips are made on the spot with ffmpeg's lavfi sources: tiny (108×192) where
the rule under test does not depend on size, ultrafast and low quality where
it does (1080×1920, 1920×1080), and each is made once per module.
"""

from __future__ import annotations

import random
import struct
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.clips.preflight import ClipProbe, check_probe, faststart, preflight, probe_clip
from pipeline.core.errors import MediaError
from pipeline.platforms import UnknownPlatform, Violation, get_platform
from pipeline.platforms.instagram import Instagram

AUDIO = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
FAST = ["-preset", "ultrafast", "-crf", "40"]
GOOD = {  # every option of a clip that passes everywhere except on size
    "size": "108x192",
    "rate": 30,
    "seconds": 4,
    "vcodec": "libx264",
    "pix_fmt": "yuv420p",
    "audio": ["-c:a", "aac", "-ac", "2"],
    "faststart": True,
    "suffix": ".mp4",
    "extra": [],
}


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, timeout=60)


def rules(found: list[Violation]) -> set[str]:
    """The rule names, after checking every message is one non-empty line."""
    for v in found:
        assert v.message.strip() and "\n" not in v.message, v
    return {v.rule for v in found}


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Callable[..., Path]:
    """``clip(name, **changes)``: a 4 s 108×192 H.264/AAC faststart MP4, with ``changes`` applied."""
    folder = tmp_path_factory.mktemp("clips")
    made: dict[str, Path] = {}

    def make(name: str, **changes) -> Path:
        if name in made:
            return made[name]
        o = {**GOOD, **changes}
        path = folder / f"{name}{o['suffix']}"
        # A flat colour is cheap to make and to encode at full HD; the pattern is fine when tiny.
        source = "testsrc=" if o["size"] == "108x192" else "color=c=0x336699:"
        video = ["-f", "lavfi", "-i", f"{source}size={o['size']}:rate={o['rate']}"]
        inputs = [*video, *(AUDIO if o["audio"] else [])]
        codec = ["-c:v", o["vcodec"], *(FAST if o["vcodec"] == "libx264" else []), "-pix_fmt", o["pix_fmt"]]
        movflags = ["-movflags", "+faststart"] if o["faststart"] else []
        ffmpeg(*inputs, "-t", str(o["seconds"]), *codec, *(o["audio"] or ["-an"]), *movflags, *o["extra"], str(path))
        made[name] = path
        return path

    return make


# ------------------------------------------------------------------ a good clip


@pytest.fixture(scope="module")
def good_vertical(clip) -> Path:
    return clip("good_1080x1920", size="1080x1920")


@pytest.mark.parametrize("platform", ["instagram", "tiktok", "youtube", "facebook"])
def test_good_vertical_clip_passes(good_vertical, platform):
    assert preflight(good_vertical, platform) == []


def test_probe_clip_reads_the_good_clip(good_vertical):
    probe = probe_clip(good_vertical)
    assert "mp4" in probe.container.split(",")
    assert (probe.video_codec, probe.audio_codec, probe.pixel_format) == ("h264", "aac", "yuv420p")
    assert (probe.width, probe.height) == (1080, 1920)
    assert probe.fps == pytest.approx(30)
    assert probe.seconds == pytest.approx(4, abs=0.1)
    assert probe.bytes == good_vertical.stat().st_size
    assert probe.faststart is True
    assert (probe.audio_channels, probe.sample_rate) == (2, 44100)


def test_tiny_good_clip_passes_where_no_minimum_size_applies(clip):
    path = clip("good")
    for platform in ("instagram", "tiktok", "youtube", "linkedin", "x", "threads", "bluesky", "mastodon"):
        assert preflight(path, platform) == [], platform


def test_platform_can_be_an_instance_or_any_case_name(clip):
    path = clip("good")
    assert preflight(path, Instagram()) == []
    assert preflight(path, " TikTok ") == []


# ------------------------------------------------------------------ one bad variant per rule


@pytest.mark.parametrize(
    ("name", "changes", "rule", "words"),
    [
        ("no_faststart", {"faststart": False}, "faststart", ["moov", "+faststart"]),
        ("mpeg4", {"vcodec": "mpeg4"}, "video_codec", ["mpeg4", "h264"]),
        ("yuv444p", {"pix_fmt": "yuv444p"}, "pixel_format", ["yuv444p", "yuv420p"]),
        ("fps10", {"rate": 10}, "frame_rate", ["10 fps", "23", "60"]),
        ("silent", {"audio": None}, "audio_missing", ["no audio", "AAC"]),
        ("mp3_audio", {"audio": ["-c:a", "libmp3lame"]}, "audio_codec", ["mp3", "aac"]),
        ("matroska", {"suffix": ".mkv"}, "container", ["matroska", "MP4"]),
    ],
)
def test_each_universal_rule(clip, name, changes, rule, words):
    found = preflight(clip(name, **changes), "instagram")
    assert rules(found) == {rule}
    for word in words:
        assert word in found[0].message


def test_universal_rules_apply_on_every_platform(clip):
    path = clip("yuv444p", pix_fmt="yuv444p")
    for platform in ("instagram", "tiktok", "youtube", "mastodon", "x"):
        assert "pixel_format" in rules(preflight(path, platform)), platform


def test_landscape_clip_fails_on_vertical_only_platforms(clip):
    path = clip("landscape_1920x1080", size="1920x1080")
    facebook = preflight(path, "facebook")  # video_aspects = ("9:16",)
    assert rules(facebook) == {"video_aspect"}
    assert "1920×1080" in facebook[0].message and "9:16" in facebook[0].message
    assert rules(preflight(path, "youtube")) == {"video_aspect"}  # video_aspect_range = (0, 1)
    assert preflight(path, "instagram") == []


def test_too_short_for_a_three_second_minimum(clip):
    path = clip("one_second", seconds=1)
    found = preflight(path, "tiktok")  # video_min_seconds = 3
    assert rules(found) == {"video_too_short"}
    assert "3 s" in found[0].message
    assert preflight(path, "youtube") == []  # no minimum


def test_below_the_minimum_resolution(clip):
    found = preflight(clip("good"), "facebook")  # 108×192 is 9:16 but under 540×960
    assert rules(found) == {"video_resolution"}
    assert "108×192" in found[0].message and "540×960" in found[0].message


def test_too_long_and_too_large_come_from_the_platform_attributes(clip):
    class Tight(Instagram):
        video_max_seconds = 2.0
        video_max_bytes = 1000

    found = preflight(clip("good"), Tight())
    assert rules(found) == {"video_too_long", "video_size"}


def test_rotated_recording_is_judged_as_displayed(clip):
    landscape = clip("tiny_landscape", size="192x108")
    rotated = landscape.with_name("rotated.mp4")
    ffmpeg("-i", str(landscape), "-c", "copy", "-metadata:s:v:0", "rotate=90", "-movflags", "+faststart", str(rotated))
    probe = probe_clip(rotated)
    assert (probe.width, probe.height) == (108, 192)
    assert preflight(rotated, "youtube") == []
    assert rules(preflight(landscape, "youtube")) == {"video_aspect"}


# ------------------------------------------------------------------ audio-only files


@pytest.fixture(scope="module")
def mp3_snippet(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "snippet.mp3"
    ffmpeg(*AUDIO, "-t", "2", "-c:a", "libmp3lame", str(path))
    return path


def test_mp3_snippet_on_a_platform_without_audio(mp3_snippet):
    found = preflight(mp3_snippet, "instagram")
    assert rules(found) == {"audio"}
    assert "Instagram" in found[0].message and "audiogram" in found[0].message


def test_mp3_snippet_passes_where_audio_is_accepted(mp3_snippet):
    probe = probe_clip(mp3_snippet)
    assert probe.video_codec is None and probe.audio_codec == "mp3"
    assert preflight(mp3_snippet, "mastodon") == []  # audio_allowed


def test_cover_art_is_not_video(tmp_path):
    path = tmp_path / "with_cover.mp3"
    ffmpeg(*AUDIO, "-f", "lavfi", "-i", "color=size=64x64:duration=0.04", "-map", "0", "-map", "1",
           "-t", "1", "-frames:v", "1", "-c:v", "mjpeg", "-disposition:v", "attached_pic",
           "-c:a", "libmp3lame", "-id3v2_version", "3", str(path))
    assert probe_clip(path).video_codec is None
    assert preflight(path, "mastodon") == []
    assert rules(preflight(path, "tiktok")) == {"audio"}


def test_m4a_snippet_is_audio_only(clip):
    path = clip("snippet", suffix=".m4a", extra=["-vn"])
    assert probe_clip(path).video_codec is None
    assert preflight(path, "mastodon") == []
    assert rules(preflight(path, "youtube")) == {"audio"}


# ------------------------------------------------------------------ unreadable files


def test_random_bytes_raise_media_error_naming_the_file(tmp_path):
    path = tmp_path / "garbage.mp4"
    path.write_bytes(random.Random(7).randbytes(4096))
    with pytest.raises(MediaError) as caught:
        preflight(path, "tiktok")
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message


@pytest.mark.parametrize("kind", ["missing", "empty", "folder"])
def test_missing_empty_or_folder_raise_media_error(tmp_path, kind):
    path = tmp_path / "clip.mp4"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "folder":
        path.mkdir()
    with pytest.raises(MediaError, match="^" + str(path).replace("\\", "\\\\") + ": "):
        probe_clip(path)


# ------------------------------------------------------------------ checks on a probe, no ffmpeg

PROBE = ClipProbe(
    path=Path("clip.mp4"), container="mov,mp4,m4a,3gp,3g2,mj2", video_codec="h264", audio_codec="aac",
    pixel_format="yuv420p", width=1080, height=1920, fps=30.0, seconds=20.0, bytes=5_000_000,
    faststart=True, audio_channels=2, sample_rate=48000,
)


@pytest.mark.parametrize(("fps", "ok"), [(23.976, True), (23.0, True), (60.0, True), (22.9, False), (60.5, False)])
def test_frame_rate_bounds(fps, ok):
    assert (rules(check_probe(replace(PROBE, fps=fps), "tiktok")) == set()) is ok


def test_unknown_frame_rate_is_reported():
    found = check_probe(replace(PROBE, fps=0.0), "tiktok")
    assert rules(found) == {"frame_rate"} and "unknown" in found[0].message


def test_every_rule_reported_at_once():
    bad = replace(
        PROBE, video_codec="hevc", audio_codec="opus", pixel_format="yuv420p10le", fps=120.0,
        faststart=False, width=1920, height=1080, seconds=95.0,
    )
    assert rules(check_probe(bad, "facebook")) == {
        "faststart", "video_codec", "audio_codec", "pixel_format", "frame_rate", "video_aspect", "video_too_long",
    }


def test_unknown_platform_name():
    with pytest.raises(UnknownPlatform):
        check_probe(PROBE, "myspace")


def test_all_registered_platforms_accept_a_standard_vertical_clip():
    from pipeline.platforms import PLATFORM_NAMES

    for name in PLATFORM_NAMES:
        assert check_probe(PROBE, get_platform(name)) == [], name


# ------------------------------------------------------------------ faststart()


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def large_box(kind: bytes, payload: bytes) -> bytes:
    """A box with size 1 and a 64-bit largesize, as ffmpeg writes for mdat over 4 GiB."""
    return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload


FTYP = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41")
# Payload that looks like an mdat header: a parser that skips too little would trip on it.
DECOY = box(b"mdat", b"x" * 8)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (FTYP + box(b"moov", b"m" * 20) + box(b"mdat", b"d" * 50), True),
        (FTYP + box(b"free") + box(b"mdat", b"d" * 50) + box(b"moov", b"m" * 20), False),
        (FTYP + large_box(b"free", DECOY) + box(b"moov") + box(b"mdat"), True),
        (FTYP + large_box(b"mdat", DECOY + b"d" * 30) + box(b"moov"), False),
        (FTYP + box(b"free", DECOY) + box(b"moov") + box(b"mdat"), True),
        (FTYP + struct.pack(">I4s", 0, b"mdat") + box(b"moov"), False),  # size 0: mdat runs to the end
        (FTYP + struct.pack(">I4s", 0, b"free") + box(b"moov"), False),  # moov inside, not top level
        (FTYP + box(b"free"), False),  # neither box
        (FTYP + struct.pack(">I4s", 4, b"moov"), False),  # a moov smaller than its own header is no index
        (FTYP + struct.pack(">I4s", 3, b"free") + box(b"moov"), False),  # size smaller than its header
        (FTYP + struct.pack(">I4s", 1, b"free") + b"\x00\x00", False),  # truncated largesize
        (FTYP[:6], False),  # truncated header
        (b"", False),
        (b"this is a text file, not a video\n" * 4, False),
    ],
    ids=[
        "moov-first", "mdat-first", "largesize-skipped", "largesize-mdat-first", "decoy-inside-box",
        "size0-mdat", "size0-free", "neither", "moov-bad-size", "malformed-size", "truncated-largesize",
        "truncated-header", "empty", "text",
    ],
)
def test_faststart_walks_top_level_boxes(tmp_path, data, expected):
    path = tmp_path / "boxes.mp4"
    path.write_bytes(data)
    assert faststart(path) is expected


def test_faststart_on_real_ffmpeg_output(clip):
    assert faststart(clip("good")) is True
    assert faststart(clip("no_faststart", faststart=False)) is False
