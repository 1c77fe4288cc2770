"""Loudness per 10 ms frame: where the pauses are quietest and how animated the speech is.

Computed while streaming the audio through ffmpeg, so a 3-hour episode costs
4 bytes per frame (4.3 MB) rather than the decoded samples.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.media.audio import SAMPLE_RATE, iter_audio

FRAME_SECONDS = 0.01
FRAME_SAMPLES = int(SAMPLE_RATE * FRAME_SECONDS)
# Digital silence would be -inf dB; clamp so means and spreads stay finite.
FLOOR_DB = -100.0
# Pauses: a frame is quiet below this share of the way from the episode's floor (10th percentile of
# loudness) to its speech level (90th percentile).
QUIET_SHARE = 0.3
# Less contrast than this between floor and speech (a music bed, loud noise): no pause can be trusted.
MIN_CONTRAST_DB = 12.0
# Shorter quiet runs are the closure of a stop consonant, not a pause between words.
MIN_PAUSE_SECONDS = 0.1
# Speech is mostly sound: when more of the episode than this is "quiet", the quiet part is a softer
# voice or a step in level, not pauses, and no pause can be trusted.
MAX_QUIET_SHARE = 0.6


@dataclass(frozen=True)
class EnergyEnvelope:
    db: np.ndarray  # float32 loudness per frame, dBFS

    @property
    def duration(self) -> float:
        return self.db.size * FRAME_SECONDS

    def _frames(self, start: float, end: float) -> slice:
        first = max(0, int(start / FRAME_SECONDS))
        last = min(self.db.size, max(first + 1, int(np.ceil(end / FRAME_SECONDS))))
        return slice(first, last)

    def stats(self, start: float, end: float) -> tuple[float, float]:
        """Mean and standard deviation of loudness (dB) between two times."""
        frames = self.db[self._frames(start, end)]
        if frames.size == 0:
            return FLOOR_DB, 0.0
        return float(frames.mean()), float(frames.std())

    def quietest(self, low: float, high: float, target: float) -> float:
        """The time of the quietest frame in [low, high]; among near-ties, the one closest to target."""
        window = self._frames(low, high)
        frames = self.db[window]
        if frames.size == 0:
            return min(max(target, low), high)
        candidates = np.flatnonzero(frames <= frames.min() + 1.0)
        times = (window.start + candidates + 0.5) * FRAME_SECONDS
        best = float(times[np.argmin(np.abs(times - target))])
        return min(max(best, low), high)


    @functools.cached_property
    def pauses(self) -> tuple[np.ndarray, np.ndarray]:
        """Start and end times of the quiet runs of at least MIN_PAUSE_SECONDS (empty when none can be trusted)."""
        if self.db.size == 0:
            return np.zeros(0), np.zeros(0)
        floor, speech = np.percentile(self.db, [10, 90])
        if speech - floor < MIN_CONTRAST_DB:
            return np.zeros(0), np.zeros(0)
        quiet = np.concatenate([[False], self.db < floor + QUIET_SHARE * (speech - floor), [False]])
        edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
        starts, ends = edges[0::2], edges[1::2]
        long_enough = (ends - starts) * FRAME_SECONDS >= MIN_PAUSE_SECONDS
        starts, ends = starts[long_enough] * FRAME_SECONDS, ends[long_enough] * FRAME_SECONDS
        if (ends - starts).sum() > MAX_QUIET_SHARE * self.duration:
            return np.zeros(0), np.zeros(0)
        return starts, ends

    def pause_near(self, edge: str, t: float, search: float) -> tuple[float, float] | None:
        """The longest pause whose ``edge`` ("end": where speech resumes, "start": where it stops) lies within
        ``search`` seconds of ``t``, or that holds ``t`` (Whisper often starts a first word early, inside the
        silence before it); None when the audio shows none."""
        starts, ends = self.pauses
        edges = ends if edge == "end" else starts
        near = np.flatnonzero((np.abs(edges - t) <= search) | ((starts <= t) & (t <= ends)))
        if near.size == 0:
            return None
        lengths = ends[near] - starts[near]
        best = near[np.lexsort((np.abs(edges[near] - t), -lengths))[0]]
        return float(starts[best]), float(ends[best])


def envelope_from_samples(samples: np.ndarray) -> EnergyEnvelope:
    usable = samples[: samples.size - samples.size % FRAME_SAMPLES]
    frames = usable.reshape(-1, FRAME_SAMPLES)
    rms = np.sqrt(np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / FRAME_SAMPLES)
    db = 20.0 * np.log10(np.maximum(rms, 10 ** (FLOOR_DB / 20)))
    return EnergyEnvelope(db.astype(np.float32))


def envelope_from_file(path: Path) -> EnergyEnvelope:
    """Stream the file's audio once; 30-s chunks are whole frames (480,000 = 3,000 × 160 samples)."""
    parts = [envelope_from_samples(chunk).db for chunk in iter_audio(Path(path), chunk_seconds=30.0)]
    return EnergyEnvelope(np.concatenate(parts) if parts else np.zeros(0, np.float32))
