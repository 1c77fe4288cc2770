"""Probing and decoding: real files made with ffmpeg/espeak, and every kind of bad file."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.media.audio import SAMPLE_RATE, decode_audio, decode_span, iter_audio, measure_levels
from pipeline.core.errors import MediaError
from pipeline.media.probe import probe
from tests.helpers import media as mf


def test_probe_sample_episode(sample_episode):
    info = probe(sample_episode)
    assert 60 <= info.duration <= 120
    assert info.has_audio and not info.has_video
    assert info.title == "Castmill Sample Episode"
    assert info.format_name == "mp3"


def test_probe_video_with_audio(tmp_path):
    info = probe(mf.video_with_speech(tmp_path / "talk.mp4", "Hello there, this is a video episode."))
    assert info.has_video and (info.width, info.height) == (320, 240)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: mf.empty_file(d / "empty.mp3"), "file is empty"),
        (lambda d: mf.text_as_media(d / "notes.mp3"), "not a readable audio or video file"),
        (lambda d: mf.video_without_audio(d / "silent-video.mp4"), "video has no audio stream"),
        (lambda d: d / "missing.mp3", "no such file"),
        (lambda d: d, "is a folder"),
    ],
    ids=["empty", "text-renamed-mp3", "video-no-audio", "missing", "folder"],
)
def test_probe_rejects_bad_input_with_one_line_naming_the_file(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(MediaError) as caught:
        probe(path)
    text = str(caught.value)
    assert message in text
    assert str(path) in text
    assert "\n" not in text


def test_decode_matches_probe_duration_and_format(sample_episode):
    info = probe(sample_episode)
    audio = decode_audio(sample_episode, expected_seconds=info.duration)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size / SAMPLE_RATE - info.duration) < 0.2
    assert -1.0 <= audio.min() and audio.max() <= 1.0


def test_decode_grows_past_a_wrong_estimate(sample_episode):
    audio = decode_audio(sample_episode, expected_seconds=None)  # default 60 s guess, real 107 s
    assert audio.size / SAMPLE_RATE > 100


def test_streaming_chunks_equal_whole_decode(sample_episode):
    whole = decode_audio(sample_episode)
    chunks = list(iter_audio(sample_episode, chunk_seconds=10))
    assert len(chunks) >= 10
    np.testing.assert_array_equal(np.concatenate(chunks), whole)


def test_a_span_decodes_the_same_samples_as_the_whole_file(sample_episode):
    whole = decode_audio(sample_episode)
    span = decode_span(sample_episode, 40.0, 45.0)
    assert abs(span.size - 5 * SAMPLE_RATE) <= SAMPLE_RATE // 100
    reference = whole[40 * SAMPLE_RATE - 800 : 45 * SAMPLE_RATE + 800]  # MP3 seeking may be off by a frame
    lags = range(0, 1601, 8)
    best = max(np.corrcoef(span[: 4 * SAMPLE_RATE], reference[lag : lag + 4 * SAMPLE_RATE])[0, 1] for lag in lags)
    assert best > 0.95
    with pytest.raises(MediaError, match="missing.mp3"):
        decode_span(sample_episode.with_name("missing.mp3"), 0.0, 1.0)


def test_truncated_mp3_is_reported_as_truncated(tmp_path, sample_episode):
    broken = mf.truncated_copy(sample_episode, tmp_path / "cut.mp3", keep=0.4)
    info = probe(broken)  # the header still declares the full length
    with pytest.raises(MediaError, match=r"cut\.mp3: file is truncated: decoded \d+\.\d s of the 10\d\.\d s"):
        decode_audio(broken, expected_seconds=info.duration)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("decode", [
    lambda path: decode_audio(path, expected_seconds=600.0),
    lambda path: np.concatenate(list(iter_audio(path))),
], ids=["whole", "streamed"])
def test_a_damaged_file_that_makes_ffmpeg_complain_at_every_frame_still_ends(tmp_path, decode):
    """Megabytes of ffmpeg errors must not fill a pipe and stall the decode: it ends, with a one-line answer."""
    tone = tmp_path / "tone.mp3"
    mf.ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=600", "-ac", "1", "-ar", "22050", "-b:a", "32k", str(tone))
    damaged = mf.damaged_copy(tone, tmp_path / "damaged.mp3")
    try:
        audio = decode(damaged)
    except MediaError as exc:
        assert str(exc).startswith(f"{damaged}: ") and "\n" not in str(exc)
    else:
        assert 0 < audio.size < 600 * SAMPLE_RATE


def test_levels_tell_silence_from_speech(tmp_path, sample_episode):
    quiet = measure_levels(decode_audio(mf.silence(tmp_path / "quiet.wav", 3)))
    loud = measure_levels(decode_audio(sample_episode))
    assert quiet.is_silent and quiet.rms_dbfs == float("-inf")
    assert not loud.is_silent and -40 < loud.rms_dbfs < -3
    assert loud.peak_dbfs <= 0.0
