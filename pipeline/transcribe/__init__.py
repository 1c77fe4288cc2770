"""Speech to text with word timestamps, behind one ``Transcriber`` protocol."""

from __future__ import annotations

from pipeline.core.vocab import ENGINES
from pipeline.core.errors import TranscribeError
from pipeline.transcribe.base import (
    SAMPLE_RATE,
    Segment,
    Transcriber,
    TranscribeOptions,
    TranscriptResult,
    Word,
)
from pipeline.transcribe.weights import ModelStore


__all__ = [
    "ENGINES", "SAMPLE_RATE", "ModelStore", "Segment", "Transcriber", "TranscribeOptions",
    "TranscriptResult", "Word", "get_transcriber",
]


def get_transcriber(engine: str, store: ModelStore) -> Transcriber:
    """The engine named ``engine``; heavy imports happen on first use."""
    if engine == "faster-whisper":
        from pipeline.transcribe.faster_whisper import FasterWhisperTranscriber

        return FasterWhisperTranscriber(store)
    if engine == "openai-whisper":
        from pipeline.transcribe.openai_whisper import OpenAIWhisperTranscriber

        return OpenAIWhisperTranscriber(store)
    raise TranscribeError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def transcribe_file(path, engine: str, options: TranscribeOptions, store: ModelStore):
    """Probe, decode and transcribe one media file; returns (result, the decoded 16 kHz samples)."""
    from pipeline.media.audio import decode_audio, measure_levels
    from pipeline.core.errors import MediaError
    from pipeline.media.probe import probe

    audio = decode_audio(path, expected_seconds=probe(path).duration)
    if measure_levels(audio).is_silent:
        raise MediaError("contains only silence", source=path)
    return get_transcriber(engine, store).transcribe(audio, options), audio
