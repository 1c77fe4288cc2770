"""Voice activity detection shared by both engines, so they see the same audio.

Uses the Silero VAD model that ships inside the faster-whisper wheel (no hub).
Nothing here copies the whole episode: VAD runs piece by piece, and the speech
is a view that concatenates only the stretch a caller slices out.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np
from faster_whisper.vad import SpeechTimestampsMap, VadOptions, get_speech_timestamps

from pipeline.transcribe.base import SAMPLE_RATE, Segment, Word

# faster-whisper's own defaults for its vad_filter, kept identical for the openai engine.
VAD_OPTIONS = VadOptions()
# Silero's scratch grows with its input (~2x the samples); 10-minute pieces bound it.
VAD_PIECE_SECONDS = 600


@dataclass
class SpeechOnly:
    """The speech of ``audio`` (silences cut out) as a sliceable view, and the map back to original times."""

    audio: np.ndarray
    chunks: list[dict] | None  # [{"start", "end"}] in samples of ``audio``; None = all of it
    time_map: SpeechTimestampsMap | None = field(init=False, default=None)
    _offsets: list[int] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if self.chunks:
            self.time_map = SpeechTimestampsMap(self.chunks, SAMPLE_RATE)
            lengths = [c["end"] - c["start"] for c in self.chunks]
            self._offsets = list(np.cumsum([0, *lengths]))

    @property
    def size(self) -> int:
        if self.chunks is None:
            return self.audio.size
        return int(self._offsets[-1]) if self.chunks else 0

    def __getitem__(self, span: slice) -> np.ndarray:
        """Speech samples [start, stop) as one array (a copy of that stretch only)."""
        start, stop, _ = span.indices(self.size)
        if self.chunks is None:
            return self.audio[start:stop]
        first = max(0, bisect.bisect_right(self._offsets, start) - 1)
        pieces = []
        for index in range(first, len(self.chunks)):
            if self._offsets[index] >= stop:
                break
            chunk_start = self.chunks[index]["start"] - self._offsets[index]  # speech pos -> audio pos
            lo, hi = max(start, self._offsets[index]), min(stop, self._offsets[index + 1])
            pieces.append(self.audio[chunk_start + lo : chunk_start + hi])
        return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)

    def original(self, seconds: float, is_end: bool = False) -> float:
        if self.time_map is None:
            return seconds
        return self.time_map.get_original_time(seconds, is_end=is_end)


def speech_chunks(audio: np.ndarray) -> list[dict]:
    """Silero speech chunks over the whole audio, computed piece by piece."""
    piece = VAD_PIECE_SECONDS * SAMPLE_RATE
    chunks: list[dict] = []
    for offset in range(0, audio.size, piece):
        for c in get_speech_timestamps(audio[offset : offset + piece], VAD_OPTIONS, sampling_rate=SAMPLE_RATE):
            _append_merged(chunks, {"start": c["start"] + offset, "end": c["end"] + offset})
    return chunks


def _append_merged(chunks: list[dict], chunk: dict) -> None:
    # Speech running across a piece boundary comes back as two touching chunks: join them.
    if chunks and chunk["start"] <= chunks[-1]["end"]:
        chunks[-1]["end"] = max(chunks[-1]["end"], chunk["end"])
    else:
        chunks.append(chunk)


def keep_speech(audio: np.ndarray) -> SpeechOnly:
    return SpeechOnly(audio, speech_chunks(audio))


def all_audio(audio: np.ndarray) -> SpeechOnly:
    return SpeechOnly(audio, None)


def restore_times(segment: Segment, speech: SpeechOnly) -> Segment:
    words = tuple(
        Word(w.word, speech.original(w.start), speech.original(w.end, is_end=True), w.probability)
        for w in segment.words
    )
    return Segment(speech.original(segment.start), speech.original(segment.end, is_end=True), segment.text, words)
