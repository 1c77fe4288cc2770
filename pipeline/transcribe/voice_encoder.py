"""Resemblyzer's voice encoder, run with numpy: mel frames in, 256-number voice embeddings out.

The weights are the ones inside resemblyzer's PyPI wheel (``pretrained.pt``). Reading them needs
torch, so a short-lived child process converts them once into the user's cache folder
(``~/.cache/castmill/voice-encoder``, or under ``$XDG_CACHE_HOME``; an .npz named by the checkpoint's
SHA-256, shared by every Castmill home); the diarizing process itself never imports torch,
which alone would add ~190 MB to it. The network is the encoder's own: a 3-layer LSTM (40 → 256),
its last hidden state through a linear layer and a ReLU, L2-normalised; tests check it against
resemblyzer's torch model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
from filelock import FileLock

from pipeline.core.errors import TranscribeError

# Resemblyzer's fixed framing (its hparams.py): 25-ms FFT windows every 10 ms, 40 mel bands.
SAMPLE_RATE = 16_000
N_FFT = 400
HOP = 160
N_MELS = 40
LAYERS = 3
HIDDEN = 256

# Run by a child process: the only place torch is imported.
_CONVERT = """
import sys
import numpy as np
import torch
state = torch.load(sys.argv[1], map_location="cpu", weights_only=True)["model_state"]
np.savez(sys.argv[2], **{name: tensor.numpy() for name, tensor in state.items()
                         if name.startswith(("lstm.", "linear."))})
"""


def mel_frames(samples: np.ndarray, first: int = 0, count: int | None = None) -> np.ndarray:
    """Frames ``first`` … ``first + count - 1`` of the mel power spectrogram the encoder was trained on,
    (count, 40) float32; frames past the end of ``samples`` are silence (zeros).

    The same numbers as resemblyzer's own ``wav_to_mel_spectrogram`` (librosa's centred STFT with a
    periodic Hann window, Slaney mel filters), computed with numpy: librosa's first call imports numba,
    which alone adds ~150 MB to the process.
    """
    total = 1 + samples.size // HOP  # frames of a centred STFT
    count = total - first if count is None else count
    lo = first * HOP - N_FFT // 2  # the first frame's first sample, in ``samples`` (negative: padding)
    stretch = np.zeros((count - 1) * HOP + N_FFT, np.float32)
    inside = samples[max(lo, 0):max(lo + stretch.size, 0)]
    stretch[max(-lo, 0):max(-lo, 0) + inside.size] = inside
    frames = np.lib.stride_tricks.sliding_window_view(stretch, N_FFT)[::HOP][:count]
    power = np.abs(np.fft.rfft(frames * _hann(), axis=1)) ** 2
    mel = (power @ mel_filters().T).astype(np.float32)
    mel[max(total - first, 0):] = 0.0  # past the end: silence, as a zero-padded window would be
    return mel


@lru_cache(maxsize=1)
def _hann() -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


@lru_cache(maxsize=1)
def mel_filters() -> np.ndarray:
    """Slaney-style mel filterbank (librosa.filters.mel's default: Slaney scale and area norm), (40, 201)."""
    def hz_to_mel(hz):
        hz = np.asarray(hz, dtype=float)
        linear = hz / (200.0 / 3)
        return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), linear)

    def mel_to_hz(mel):
        mel = np.asarray(mel, dtype=float)
        linear = mel * (200.0 / 3)
        return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), linear)

    fft_hz = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


class VoiceEncoder:
    """The encoder's forward pass over a batch of mel windows, (B, frames, 40) → (B, 256)."""

    def __init__(self, weights: dict[str, np.ndarray]):
        self.layers = [(weights[f"lstm.weight_ih_l{k}"].T.copy(), weights[f"lstm.weight_hh_l{k}"].T.copy(),
                        weights[f"lstm.bias_ih_l{k}"] + weights[f"lstm.bias_hh_l{k}"]) for k in range(LAYERS)]
        self.linear = (weights["linear.weight"].T.copy(), weights["linear.bias"])

    def __call__(self, mels: np.ndarray) -> np.ndarray:
        sequence = mels.astype(np.float32, copy=False)
        for input_weights, hidden_weights, bias in self.layers:
            sequence = _lstm_layer(sequence, input_weights, hidden_weights, bias)
        raw = np.maximum(sequence[:, -1] @ self.linear[0] + self.linear[1], 0.0)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        return raw / np.where(norms > 0, norms, 1.0)


# Every gate through one tanh: sigmoid(x) = (tanh(x / 2) + 1) / 2 for the input, forget and output gates
# (PyTorch's gate order: input, forget, cell, output), tanh itself for the cell gate.
_GATE_SCALE = np.repeat(np.array([0.5, 0.5, 1.0, 0.5], np.float32), HIDDEN)


def _lstm_layer(sequence: np.ndarray, input_weights: np.ndarray, hidden_weights: np.ndarray,
                bias: np.ndarray) -> np.ndarray:
    """One LSTM layer over (B, T, in); returns every step's output (B, T, 256)."""
    batch, steps, _ = sequence.shape
    projected = sequence @ input_weights + bias  # (B, T, 4H): the input's share of every gate, at once
    projected *= _GATE_SCALE
    scaled_hidden = hidden_weights * _GATE_SCALE
    h = np.zeros((batch, HIDDEN), np.float32)
    c = np.zeros((batch, HIDDEN), np.float32)
    out = np.empty((batch, steps, HIDDEN), np.float32)
    for t in range(steps):
        gates = np.tanh(projected[:, t] + h @ scaled_hidden)
        sigmoids = (gates + 1.0) * 0.5
        c *= sigmoids[:, HIDDEN:2 * HIDDEN]
        c += sigmoids[:, :HIDDEN] * gates[:, 2 * HIDDEN:3 * HIDDEN]
        h = sigmoids[:, 3 * HIDDEN:] * np.tanh(c)
        out[:, t] = h
    return out


@lru_cache(maxsize=1)
def load_encoder() -> VoiceEncoder:
    """The encoder with resemblyzer's packaged weights, converted on first use; once per process."""
    with np.load(converted_weights()) as archive:
        return VoiceEncoder({name: archive[name] for name in archive.files})


def converted_weights(cache_dir: Path | None = None) -> Path:
    """The .npz of resemblyzer's checkpoint under ``cache_dir``, made by a child process when missing."""
    source = packaged_checkpoint()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    folder = cache_dir or _user_cache() / "castmill" / "voice-encoder"
    target = folder / f"resemblyzer-{digest}.npz"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".convert.lock")):  # parallel workers convert once
        if not target.is_file():
            _convert(source, target)
    return target


def _user_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def packaged_checkpoint() -> Path:
    """``pretrained.pt`` inside the installed resemblyzer package (found without importing it)."""
    spec = importlib.util.find_spec("resemblyzer")
    path = Path(spec.submodule_search_locations[0]) / "pretrained.pt" if spec else None
    if path is None or not path.is_file():
        raise TranscribeError("resemblyzer's voice encoder weights are missing: reinstall it with "
                              "`pip install --force-reinstall resemblyzer` (or run `make setup`)")
    return path


def _convert(source: Path, target: Path) -> None:
    partial = target.with_name(f".{target.stem}.{os.getpid()}.npz")
    done = subprocess.run([sys.executable, "-c", _CONVERT, str(source), str(partial)], capture_output=True,
                          text=True)
    if done.returncode != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise TranscribeError(f"could not read resemblyzer's voice encoder weights ({last})", source=source)
    partial.replace(target)
