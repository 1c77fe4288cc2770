"""Audio snippets: pydub cut + fades, -14 LUFS with true peak ≤ -1 dBTP, mp3 + m4a, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydub import AudioSegment

from pipeline.clips import snippets as snip
from pipeline.clips.snippets import TARGET_LUFS, TRUE_PEAK_MAX_DBTP, measure_loudness, measure_lufs, render_snippets
from pipeline.core.errors import MediaError
from pipeline.media.probe import probe
from tests.helpers.media import ffmpeg

pytestmark = pytest.mark.slow

START, END = 20.0, 35.0
STEM = "ep1-h1"


@pytest.fixture(scope="module")
def rendered(sample_episode, tmp_path_factory):
    """The sample's 20–35 s rendered once for the module."""
    out = tmp_path_factory.mktemp("snippets")
    return out, render_snippets(sample_episode, START, END, out, STEM)


def _decoded(path: Path) -> AudioSegment:
    return AudioSegment.from_file(str(path))


def test_writes_mp3_and_m4a_of_the_highlight_length(rendered):
    out, snippets = rendered
    assert [s.format for s in snippets] == ["mp3", "m4a"]
    assert sorted(p.name for p in out.iterdir()) == [f"{STEM}.m4a", f"{STEM}.mp3"]  # no temp files left
    for snippet in snippets:
        assert snippet.path == out / f"{STEM}.{snippet.format}"
        assert abs(snippet.seconds - (END - START)) <= 0.1
        assert abs(len(_decoded(snippet.path)) / 1000 - (END - START)) <= 0.1
        info = probe(snippet.path)
        assert info.channels == 1  # the sample is mono and stays mono
        stream = info.raw["streams"][0]
        assert stream["codec_name"] == {"mp3": "mp3", "m4a": "aac"}[snippet.format]
        assert 100_000 <= int(stream["bit_rate"]) <= 160_000  # 128k


def test_m4a_has_its_index_first_for_streaming(rendered):
    _, snippets = rendered
    data = next(s for s in snippets if s.format == "m4a").path.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat")  # +faststart


def test_loudness_is_minus_14_lufs_with_true_peak_headroom(rendered):
    _, snippets = rendered
    for snippet in snippets:
        loudness = measure_loudness(snippet.path)
        assert abs(loudness.integrated - TARGET_LUFS) <= 1.0, snippet
        assert snippet.lufs == measure_lufs(snippet.path) == loudness.integrated
        assert loudness.true_peak <= TRUE_PEAK_MAX_DBTP, snippet


def test_fade_in_and_out(rendered):
    _, snippets = rendered
    for snippet in snippets:
        audio = _decoded(snippet.path)
        middle = audio[5000:10000].dBFS
        # Unfaded, this cut's first 20 ms sit ~13 dB and its last 20 ms ~0.5 dB under the middle;
        # faded they are ~25 dB and ~20 dB under.
        assert audio[:20].dBFS < middle - 20, snippet
        assert audio[-20:].dBFS < middle - 15, snippet


def test_fades_on_a_steady_stereo_tone(tmp_path):
    """A constant-level source shows the fades alone (speech may pause at a cut) and keeps stereo."""
    tone = tmp_path / "tone.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=6", "-ac", "2", str(tone))
    [snippet] = render_snippets(tone, 1.0, 5.0, tmp_path / "out", "tone", formats=("m4a",))
    audio = _decoded(snippet.path)
    assert audio.channels == 2 and probe(snippet.path).channels == 2
    steady = audio[1000:3000].dBFS
    assert audio[:20].dBFS < steady - 12
    assert audio[-20:].dBFS < steady - 12
    assert abs(audio[1000:1500].dBFS - audio[2500:3000].dBFS) < 0.5  # no pumping from the limiter
    assert abs(snippet.lufs - TARGET_LUFS) <= 1.0


def test_quiet_source_is_brought_up_to_target(sample_episode, tmp_path):
    quiet = tmp_path / "quiet.wav"
    ffmpeg("-i", str(sample_episode), "-af", "volume=-20dB", str(quiet))
    assert measure_lufs(quiet) < TARGET_LUFS - 20
    snippets = render_snippets(quiet, START, END, tmp_path / "out", STEM)
    for snippet in snippets:
        loudness = measure_loudness(snippet.path)
        assert abs(loudness.integrated - TARGET_LUFS) <= 1.0, snippet
        assert loudness.true_peak <= TRUE_PEAK_MAX_DBTP, snippet
        assert abs(snippet.seconds - (END - START)) <= 0.1


def test_range_past_the_end_is_refused(sample_episode, tmp_path):
    out = tmp_path / "out"
    duration = probe(sample_episode).duration
    with pytest.raises(MediaError) as caught:
        render_snippets(sample_episode, 100.0, 120.0, out, STEM)
    assert str(caught.value) == (
        f"{sample_episode}: highlight ends at 120.0 s but the media is only {duration:.1f} s long"
    )
    assert not out.exists()


def test_unwritable_out_dir_leaves_nothing(sample_episode, tmp_path):
    """out_dir below a regular file cannot be created, even as root (chmod would not stop root)."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    with pytest.raises(MediaError) as caught:
        render_snippets(sample_episode, START, END, blocker / "clips", STEM)
    message = str(caught.value)
    assert message.startswith(f"{sample_episode}: ") and "\n" not in message
    assert "snippet folder" in message
    assert list(tmp_path.iterdir()) == [blocker] and blocker.read_text() == "not a folder"


def test_failed_encode_removes_every_partial_file(sample_episode, tmp_path, monkeypatch):
    monkeypatch.setitem(snip._ENCODERS, "m4a", ["-c:a", "no_such_encoder", "-f", "ipod"])
    out = tmp_path / "out"
    with pytest.raises(MediaError) as caught:
        render_snippets(sample_episode, START, END, out, STEM)
    message = str(caught.value)
    assert message.startswith(f"{sample_episode}: cannot render snippet: ffmpeg could not encode")
    assert "\n" not in message
    assert list(out.iterdir()) == []  # neither the mp3 nor the cut wav nor any .part


def test_failure_while_renaming_rolls_back_finished_files(sample_episode, tmp_path, monkeypatch):
    real_replace = snip.os.replace
    calls = []

    def replace_then_fail(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(snip.os, "replace", replace_then_fail)
    out = tmp_path / "out"
    with pytest.raises(MediaError, match="cannot render snippet: No space left on device"):
        render_snippets(sample_episode, START, END, out, STEM, formats=("mp3", "m4a"))
    assert list(out.iterdir()) == []


def test_bad_arguments(sample_episode, tmp_path):
    with pytest.raises(ValueError, match="formats"):
        render_snippets(sample_episode, START, END, tmp_path, STEM, formats=("ogg",))
    with pytest.raises(ValueError, match="stem"):
        render_snippets(sample_episode, START, END, tmp_path, "../escape")
    with pytest.raises(MediaError, match="empty or negative"):
        render_snippets(sample_episode, 30.0, 30.0, tmp_path, STEM)


def test_measure_lufs_of_a_non_media_file(tmp_path):
    notes = tmp_path / "notes.mp3"
    notes.write_text("not audio")
    with pytest.raises(MediaError, match="could not measure the loudness"):
        measure_lufs(notes)
