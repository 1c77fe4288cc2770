"""The numpy voice encoder: resemblyzer's own numbers, weights converted once, no torch in the process."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from pipeline.core.errors import TranscribeError
from pipeline.transcribe import voice_encoder
from pipeline.transcribe.voice_encoder import converted_weights, load_encoder, mel_frames


def _resemblyzer():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from resemblyzer import VoiceEncoder
        from resemblyzer.audio import wav_to_mel_spectrogram
    return VoiceEncoder("cpu", verbose=False), wav_to_mel_spectrogram


def test_embeddings_are_resemblyzers_own():
    import torch

    reference, wav_to_mel = _resemblyzer()
    speech = np.random.default_rng(5).standard_normal(16000 * 3).astype(np.float32) * 0.1
    mels = np.stack([wav_to_mel(speech)[k:k + 160] for k in (0, 40, 80, 120)])
    with torch.inference_mode():
        expected = reference(torch.from_numpy(mels)).numpy()
    ours = load_encoder()(mels)
    assert ours.shape == (4, 256)
    assert np.abs(ours - expected).max() < 1e-5
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_the_mel_frames_are_resemblyzers_own():
    _, wav_to_mel = _resemblyzer()
    samples = np.random.default_rng(7).standard_normal(16000 * 3 + 123).astype(np.float32) * 0.1
    ours, theirs = mel_frames(samples), wav_to_mel(samples)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() <= 1e-5 * np.abs(theirs).max()


def test_mel_frames_of_a_stretch_are_those_of_the_whole_and_silence_past_the_end():
    samples = np.random.default_rng(3).standard_normal(16000 * 4 + 77).astype(np.float32) * 0.1
    whole = mel_frames(samples)
    assert np.allclose(mel_frames(samples, 120, 160), whole[120:280], rtol=1e-5, atol=1e-7)
    assert np.allclose(mel_frames(samples, 0, 10), whole[:10], rtol=1e-5, atol=1e-7)
    tail = mel_frames(samples, whole.shape[0] - 5, 160)
    assert np.allclose(tail[:5], whole[-5:], rtol=1e-5, atol=1e-7) and not tail[5:].any()


def test_weights_are_converted_once_into_the_cache(tmp_path):
    first = converted_weights(tmp_path)
    stamp = first.stat().st_mtime_ns
    assert converted_weights(tmp_path) == first and first.stat().st_mtime_ns == stamp
    assert first.parent == tmp_path and first.name.startswith("resemblyzer-")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".resemblyzer")]  # no partial file left


def test_a_corrupt_checkpoint_is_one_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    broken = tmp_path / "pretrained.pt"
    broken.write_bytes(b"not a checkpoint")
    monkeypatch.setattr(voice_encoder, "packaged_checkpoint", lambda: broken)
    cache = tmp_path / "cache"
    with pytest.raises(TranscribeError, match="could not read resemblyzer's voice encoder weights"):
        converted_weights(cache)
    assert [p.name for p in cache.iterdir()] == [".convert.lock"]


def test_diarizing_never_imports_torch(tmp_path):
    code = ("import sys, numpy as np\n"
            "from pipeline.transcribe.diarize import diarize\n"
            "t = np.arange(16000 * 4) / 16000\n"
            "tone = (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)\n"
            "diarize(tone, chunks=[{'start': 0, 'end': tone.size}])\n"
            "print('torch' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**__import__("os").environ, "CASTMILL_HOME": str(tmp_path),
                               "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
