"""scripts/make_eval_set.py: the labelled highlight set, with truth times checked against the audio."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[2] / "scripts" / "make_eval_set.py"
_spec = importlib.util.spec_from_file_location("castmill_make_eval_set", _PATH)
mes = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = mes  # dataclasses look their module up while the class is built
_spec.loader.exec_module(mes)

DECODE_RATE = 16000


def decode(mp3: Path) -> np.ndarray:
    """Mono float32 samples at DECODE_RATE, decoded by ffmpeg."""
    proc = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(mp3), "-ac", "1", "-ar", str(DECODE_RATE),
         "-f", "f32le", "-"],
        capture_output=True, check=True)
    return np.frombuffer(proc.stdout, dtype="<f4")


def rms(samples: np.ndarray, start: float, end: float) -> float:
    window = samples[int(round(start * DECODE_RATE)):int(round(end * DECODE_RATE))]
    assert window.size > 0
    return float(np.sqrt(np.mean(window.astype(np.float64) ** 2)))


def test_every_script_follows_the_rules():
    """Three guest moments, 12-20 filler sentences between them, filler at both ends."""
    assert len(mes.SCRIPTS) == 9
    assert len({s.episode for s in mes.SCRIPTS}) == len({s.topic for s in mes.SCRIPTS}) == 9
    for script in mes.SCRIPTS:
        mes.check_script(script)
        runs = mes._filler_runs(mes._lines(script))
        assert len(runs) == 4 and runs[0] >= 1 and runs[-1] >= 1
    texts = [line.text for s in mes.SCRIPTS for line in mes._lines(s) if line.planted]
    assert len(texts) == len(set(texts))


def test_held_out_episodes_are_marked():
    """ep07-ep09 were written without looking at the miner, and say so."""
    held = [s.episode for s in mes.SCRIPTS if s.held_out]
    assert held == ["ep07", "ep08", "ep09"]
    assert mes.SCRIPTS[-3:] == tuple(s for s in mes.SCRIPTS if s.held_out)


def test_short_variant_keeps_every_moment():
    script = mes.SCRIPTS[0]
    full, short = mes._lines(script), mes._lines(script, short=True)
    assert [ln for ln in full if ln.planted] == [ln for ln in short if ln.planted]
    assert all(n <= mes.SHORT_KEEP for n in mes._filler_runs(short))
    assert len(short) < len(full)


@pytest.mark.slow
def test_short_episode_truth_matches_audio(tmp_path):
    out = tmp_path / "eval"
    logs: list[str] = []
    manifest = mes.build(str(out), episodes=1, short=True, log=logs.append)

    mp3 = out / "ep01.mp3"
    truth = json.loads((out / "ep01.truth.json").read_text())
    assert mp3.is_file() and mp3.stat().st_size > 10_000
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert manifest["generator_version"] == mes.generator_version()
    assert [e["episode"] for e in manifest["episodes"]] == ["ep01"]
    assert set(truth) >= {"episode", "duration", "language", "moments", "sentences"}
    assert truth["episode"] == "ep01" and truth["language"] == "en"
    assert truth["held_out"] is False and manifest["episodes"][0]["held_out"] is False

    duration = truth["duration"]
    sentences, moments = truth["sentences"], truth["moments"]
    assert len(moments) == 3
    for m in moments:
        assert 0 < m["start"] < m["end"] <= duration
        assert m["text"]

    # sentences in order, never overlapping, inside the episode
    previous_end = 0.0
    for s in sentences:
        assert set(s) == {"speaker", "text", "start", "end", "planted", "language"} and s["language"] == "en"
        assert s["speaker"] in ("host", "guest")
        assert previous_end < s["start"] < s["end"] <= duration
        previous_end = s["end"]

    # each moment is exactly a run of planted guest sentences
    planted = [s for s in sentences if s["planted"]]
    assert all(s["speaker"] == "guest" for s in planted)
    for m in moments:
        inside = [s for s in sentences if m["start"] <= s["start"] and s["end"] <= m["end"]]
        assert inside and all(s["planted"] for s in inside)
        assert inside[0]["start"] == m["start"] and inside[-1]["end"] == m["end"]
        assert m["text"] == " ".join(s["text"] for s in inside)
    assert sum(len([s for s in sentences if m["start"] <= s["start"] <= m["end"]])
               for m in moments) == len(planted)

    # the truth times are where the speech is in the encoded mp3
    audio = decode(mp3)
    assert abs(audio.size / DECODE_RATE - duration) < 0.1
    for m in moments:
        start, end = m["start"], m["end"]
        speech = rms(audio, start, start + 0.5)
        before = rms(audio, start - 0.3, start)
        after = rms(audio, end, end + 0.3)
        assert speech > 0.02, f"moment at {start}s: no speech in its first 0.5 s (rms {speech:.4f})"
        assert before < 0.003, f"moment at {start}s: sound in the 0.3 s before it (rms {before:.4f})"
        assert after < 0.003, f"moment ending {end}s: sound in the 0.3 s after it (rms {after:.4f})"
        assert speech > 30 * before

    # a second run with the same generator version reuses the files
    stamp = mp3.stat().st_mtime_ns
    logs.clear()
    mes.build(str(out), episodes=1, short=True, log=logs.append)
    assert mp3.stat().st_mtime_ns == stamp
    assert any("skipped" in line for line in logs)

    # ...and rebuilds them when the manifest names another generator version
    stale = json.loads((out / "manifest.json").read_text())
    stale["generator_version"] = "0+stale"
    (out / "manifest.json").write_text(json.dumps(stale))
    logs.clear()
    rebuilt = mes.build(str(out), episodes=1, short=True, log=logs.append)
    assert any("built" in line for line in logs)
    assert rebuilt["generator_version"] == mes.generator_version()
    assert json.loads((out / "ep01.truth.json").read_text()) == truth


def test_the_multilingual_scripts_follow_their_rules():
    """Three Indonesian and three code-switched episodes, one of each held out, voiced per turn."""
    scripts = mes.multilingual_scripts()
    assert [s.language for s in scripts] == ["id"] * 3 + ["mix"] * 3
    assert [s.episode for s in scripts if s.held_out] == ["id03", "mix03"]
    for script in scripts:
        mes.check_script(script, mes.MULTILINGUAL_RULES)
        spoken = {t.language for t in script.turns}
        assert spoken == ({"id"} if script.language == "id" else {"en", "id"})
        if script.language == "mix":  # moments in both languages
            assert {t.language for t in script.turns if t.planted} == {"en", "id"}


def test_a_multilingual_episode_records_the_language_of_every_sentence(tmp_path):
    manifest = mes.build(str(tmp_path), episodes=1, short=True, multilingual=True, log=lambda *_: None)
    [entry] = manifest["episodes"]
    truth = json.loads((tmp_path / entry["truth"]).read_text())
    assert truth["language"] == entry["language"] == "id"
    assert {s["language"] for s in truth["sentences"]} == {"id"}
    samples = decode(tmp_path / entry["audio"])
    for sentence in truth["sentences"]:  # speech where the truth says, silence in the pauses
        assert rms(samples, sentence["start"], sentence["end"]) > 0.01
