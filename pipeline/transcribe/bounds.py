"""Where to cut long audio into windows: at the quietest moment near each nominal boundary.

The transcribe driver (``windows.py``), the language-per-stretch planner (``stretches.py``) and
faster-whisper's batched chunks all cut here, so a cut never splits a word.
"""

from __future__ import annotations

import numpy as np

from pipeline.transcribe.base import SAMPLE_RATE
from pipeline.transcribe.vad import SpeechOnly

# How far back from a window's nominal end we look for a quiet cut point.
CUT_SEARCH_SECONDS = 20.0
_FRAME = SAMPLE_RATE // 50  # 20 ms energy frames
_SMOOTH_FRAMES = 15  # ~300 ms: a pause between sentences, longer than a stop consonant


def window_bounds(audio: np.ndarray | SpeechOnly, window_seconds: float,
                  span: tuple[int, int] | None = None) -> list[tuple[int, int]]:
    """[start, end) sample ranges of at most ``window_seconds`` covering ``audio`` (or its ``span``).

    Windows are of near-equal length (no short tail for Whisper to hallucinate
    on), each inner cut at the quietest moment within ``search`` of its nominal place.
    """
    first, last = span or (0, audio.size)
    size, window = last - first, int(window_seconds * SAMPLE_RATE)
    if size <= window:
        return [(first, last)]
    search = int(min(CUT_SEARCH_SECONDS * SAMPLE_RATE, window / 4))
    count = -(-size // (window - search))  # ceil: nominal length + search <= window
    nominal = size / count
    cuts = [_quietest_frame(audio, first + int(k * nominal - search / 2), first + int(k * nominal + search / 2))
            for k in range(1, count)]
    edges = [first, *cuts, last]
    return list(zip(edges, edges[1:]))


def _quietest_frame(audio: np.ndarray | SpeechOnly, lo: int, hi: int) -> int:
    """The middle of the quietest ~300 ms between ``lo`` and ``hi``: a cut there splits no word."""
    frames = audio[lo:hi][: (hi - lo) // _FRAME * _FRAME].reshape(-1, _FRAME)
    energy = np.einsum("ij,ij->i", frames, frames)
    smoothed = np.convolve(energy, np.ones(_SMOOTH_FRAMES), mode="same")
    quietest = np.flatnonzero(smoothed <= smoothed.min() * (1 + 1e-6) + 1e-12)
    return lo + int(quietest[len(quietest) // 2]) * _FRAME + _FRAME // 2
