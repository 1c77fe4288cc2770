"""Long audio in bounded windows: the driver both engines share.

Both engines compute log-mel features for all the audio they are given at once
(a 60-minute episode: ~1 GB of STFT scratch in faster-whisper). We cut the
speech into windows of at most ``WINDOW_SECONDS``, at the quietest frame near
each boundary, decode them one by one, and map every timestamp back to the
original audio. Windows get no prompt from the previous one: on the 10-minute
benchmark episode, carrying the last 60 words over as the next window's prompt
raised sequential faster-whisper's WER from 2.9 % to 6.3 % (whole stretches skipped).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterable, Iterator

import numpy as np

from pipeline.transcribe.base import (
    SAMPLE_RATE,
    ProgressCallback,
    Segment,
    TranscribeOptions,
    TranscriptResult,
    Word,
)
from pipeline.transcribe.bounds import window_bounds
from pipeline.transcribe.quality import is_repetitive, quality_flags
from pipeline.transcribe.stretches import Hearing, plan_stretches
from pipeline.transcribe.vad import all_audio, keep_speech, restore_times

# 10 minutes keeps feature memory near 500 MB; only 1 in 20 Whisper contexts starts cold.
WINDOW_SECONDS = 600.0
# decode(window_audio, options) -> (language, segments with times relative to the window)
WindowDecoder = Callable[[np.ndarray, TranscribeOptions], tuple[str, Iterable[Segment]]]


def transcribe_in_windows(
    audio: np.ndarray,
    options: TranscribeOptions,
    decode: WindowDecoder,
    progress: ProgressCallback | None = None,
    window_seconds: float | None = None,
    hearing: Hearing | None = None,
) -> list[Segment]:
    """VAD (if on), languages per stretch, then decode window by window; segments in original time,
    each with its language and its quality flags."""
    speech = keep_speech(audio) if options.vad else all_audio(audio)
    segments: list[Segment] = []
    if speech.size == 0:
        return segments
    for stretch in plan_stretches(speech, options, hearing):
        language = stretch.language
        for start, end in window_bounds(speech, window_seconds or WINDOW_SECONDS, (stretch.start, stretch.end)):
            window_language, decoded = decode(speech[start:end], replace(options, language=language))
            language = language or window_language
            for segment in shifted(decoded, start / SAMPLE_RATE):
                segment = replace(restore_times(segment, speech), language=language or "", flags=quality_flags(segment))
                segments.append(segment)
                if progress:
                    progress(segment.end)
    return segments


def shifted(segments: Iterable[Segment], offset: float) -> Iterator[Segment]:
    for s in segments:
        words = tuple(Word(w.word, w.start + offset, w.end + offset, w.probability) for w in s.words)
        yield Segment(s.start + offset, s.end + offset, s.text, words)


def trial_score(segments: list[tuple[str, float, int]]) -> float:
    """How well a trial decode of (text, mean log-probability, token count) segments fits the audio: the
    mean log-probability per token, or -inf for a repetition loop (loops are likely token by token; on
    espeak Indonesian, the French and Thai trials loop at -0.69 and -0.73, the Indonesian one scores -0.85)."""
    tokens = sum(count for _, _, count in segments)
    if not tokens or is_repetitive(" ".join(text for text, _, _ in segments)):
        return float("-inf")
    return sum(mean * count for _, mean, count in segments) / tokens


class WindowedTranscriber:
    """What both engines share: a model cache and ``transcribe()`` over windows.

    Subclasses set ``name`` and implement ``_load(options)`` (returns a cache key
    and a loader) and ``_decode(window_audio, options)`` (a ``WindowDecoder``).
    """

    name = ""

    def __init__(self, store):
        self.store = store
        self._models: dict = {}

    def _model(self, options: TranscribeOptions):
        key, load = self._load(options)
        if key not in self._models:
            self._models[key] = load()
        return self._models[key]

    def _load(self, options: TranscribeOptions):
        raise NotImplementedError

    def _decode(self, audio: np.ndarray, options: TranscribeOptions):
        raise NotImplementedError

    def detect(self, audio: np.ndarray, options: TranscribeOptions) -> list[tuple[str, float]]:
        """The languages the model hears in ``audio`` (at most 30 s), most likely first."""
        return self._detect(audio, options)

    def _detect(self, audio: np.ndarray, options: TranscribeOptions) -> list[tuple[str, float]]:
        raise NotImplementedError

    def _score(self, audio: np.ndarray, language: str, options: TranscribeOptions) -> float:
        """Mean log-probability per token of a quick greedy decode of ``audio`` (at most 30 s) in ``language``."""
        raise NotImplementedError

    def transcribe(
        self, audio: np.ndarray, options: TranscribeOptions, progress: ProgressCallback | None = None
    ) -> TranscriptResult:
        self._model(options)  # a bad model name fails now, even for audio with no speech
        hearing = Hearing(rank=lambda window: self._detect(window, options),
                          score=lambda window, language: self._score(window, language, options))
        segments = transcribe_in_windows(audio, options, self._decode, progress, hearing=hearing)
        result = TranscriptResult(options.language or "en", audio.size / SAMPLE_RATE, tuple(segments), self.name,
                                  options.model, options.task)
        shares = result.language_shares()
        return replace(result, language=next(iter(shares))) if shares else result
