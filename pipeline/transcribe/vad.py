"""Voice activity detection shared by both engines, so they see the same audio.

Uses the Silero VAD model that ships inside the faster-whisper wheel (no hub).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faster_whisper.vad import SpeechTimestampsMap, VadOptions, get_speech_timestamps

from pipeline.transcribe.base import SAMPLE_RATE, Segment, Word

# faster-whisper's own defaults for its vad_filter, kept identical for the openai engine.
VAD_OPTIONS = VadOptions()


@dataclass
class SpeechOnly:
    """Audio with the silences cut out, and the map back to original times."""

    audio: np.ndarray
    time_map: SpeechTimestampsMap | None

    def original(self, seconds: float, is_end: bool = False) -> float:
        if self.time_map is None:
            return seconds
        return self.time_map.get_original_time(seconds, is_end=is_end)


def keep_speech(audio: np.ndarray) -> SpeechOnly:
    chunks = get_speech_timestamps(audio, VAD_OPTIONS, sampling_rate=SAMPLE_RATE)
    if not chunks:
        return SpeechOnly(np.zeros(0, dtype=np.float32), None)
    # One concatenate: faster-whisper's collect_chunks grows the array chunk by chunk.
    speech = np.concatenate([audio[c["start"] : c["end"]] for c in chunks])
    return SpeechOnly(speech, SpeechTimestampsMap(chunks, SAMPLE_RATE))


def restore_times(segment: Segment, speech: SpeechOnly) -> Segment:
    words = tuple(
        Word(w.word, speech.original(w.start), speech.original(w.end, is_end=True), w.probability)
        for w in segment.words
    )
    return Segment(speech.original(segment.start), speech.original(segment.end, is_end=True), segment.text, words)
