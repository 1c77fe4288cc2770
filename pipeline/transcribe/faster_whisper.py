"""The default engine: faster-whisper (CTranslate2, int8 on CPU).

Batched decoding (BatchedInferencePipeline) has no temperature fallback: a chunk
that falls into a repetition loop loses the rest of its speech (measured: 13 s of
clear speech dropped in a 6-minute episode). Each batched chunk is therefore
checked, and a chunk that looks broken is decoded again on its own with the
sequential decoder, which does fall back to higher temperatures.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from pipeline.core.errors import TranscribeError
from pipeline.transcribe.base import SAMPLE_RATE, Segment, TranscribeOptions, Word
from pipeline.transcribe.quality import COMPRESSION_MIN_CHARS, COMPRESSION_RATIO_LIMIT, compression_ratio
from pipeline.transcribe.bounds import window_bounds
from pipeline.transcribe.windows import WindowedTranscriber, trial_score, shifted

# Whisper's context is 30 s; a little under it so no chunk is truncated by rounding.
CHUNK_SECONDS = 29.0
# The audio here is speech only (VAD ran first), so a longer silence between words means lost speech.
LOST_SPEECH_GAP_SECONDS = 4.0


class FasterWhisperTranscriber(WindowedTranscriber):
    name = "faster-whisper"

    def _load(self, options: TranscribeOptions):
        path = self.store.ct2_model(options.model)

        def load():
            from faster_whisper import WhisperModel

            try:
                return WhisperModel(
                    str(path), device="cpu", compute_type=options.compute_type, cpu_threads=options.threads
                )
            except (RuntimeError, ValueError) as exc:
                raise TranscribeError(f"cannot load CTranslate2 model: {exc}", source=path) from exc

        return (str(path), options.compute_type, options.threads), load

    def transcribe(self, audio: np.ndarray, options: TranscribeOptions, progress=None):
        """A fresh model for every recording, loaded after seeding: CTranslate2 seeds its sampler (used by
        the temperature fallback) once per worker thread, when that thread first samples. Reusing a model
        would make a transcript depend on whatever was transcribed before it."""
        import ctranslate2

        self._models.clear()
        ctranslate2.set_random_seed(options.seed)
        return super().transcribe(audio, options, progress)

    def _detect(self, audio: np.ndarray, options: TranscribeOptions) -> list[tuple[str, float]]:
        _language, _probability, ranked = self._model(options).detect_language(audio)
        return [(language, float(probability)) for language, probability in ranked]

    def _score(self, audio: np.ndarray, language: str, options: TranscribeOptions) -> float:
        segments, _info = self._model(options).transcribe(
            audio, language=language, beam_size=1, temperature=0.0, without_timestamps=True,
            condition_on_previous_text=False, vad_filter=False)
        return trial_score([(s.text, s.avg_logprob, len(s.tokens)) for s in segments])

    def _decode(self, audio: np.ndarray, options: TranscribeOptions):
        common = dict(
            language=options.language,
            task=options.task,
            beam_size=options.beam_size,
            temperature=list(options.temperatures),
            word_timestamps=True,
        )
        model = self._model(options)
        if options.effective_batch_size > 1:
            return self._decode_batched(model, audio, options, common)
        # VAD already ran once for the whole episode in transcribe_in_windows.
        segments, info = model.transcribe(audio, vad_filter=False, **common)
        return info.language, (_segment(s) for s in segments)  # lazy: decoding happens on iteration

    def _decode_batched(self, model, audio: np.ndarray, options: TranscribeOptions, common: dict):
        from faster_whisper import BatchedInferencePipeline

        # Chunks cut at quiet points; each is decoded on its own, so no cross-chunk prompt.
        bounds = [(s / SAMPLE_RATE, e / SAMPLE_RATE) for s, e in window_bounds(audio, CHUNK_SECONDS)]
        clips = [{"start": start, "end": end} for start, end in bounds]
        segments, info = BatchedInferencePipeline(model).transcribe(
            audio, clip_timestamps=clips, batch_size=options.effective_batch_size, **common
        )

        def redecode(start: float, end: float) -> list[Segment]:
            piece = audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
            again, _ = model.transcribe(piece, vad_filter=False, **{**common, "language": info.language})
            return list(shifted((_segment(s) for s in again), start))

        return info.language, _checked_chunks((_segment(s) for s in segments), bounds, redecode)


def _checked_chunks(segments: Iterable[Segment], bounds: list[tuple[float, float]], redecode) -> Iterator[Segment]:
    """Group segments by chunk; yield each chunk's, or its sequential re-decode when it looks broken."""
    pending = list(bounds)
    current: list[Segment] = []
    for segment in segments:
        while len(pending) > 1 and segment.start >= pending[1][0] - 0.01:
            yield from _verified(current, pending.pop(0), redecode)
            current = []
        current.append(segment)
    for chunk in pending:
        yield from _verified(current, chunk, redecode)
        current = []


def _verified(segments: list[Segment], chunk: tuple[float, float], redecode) -> list[Segment]:
    return redecode(*chunk) if chunk_looks_broken(segments, chunk) else segments


def chunk_looks_broken(segments: list[Segment], chunk: tuple[float, float]) -> bool:
    """A repetition loop, or a long stretch of (VAD-confirmed) speech with no words."""
    text = " ".join(s.text.strip() for s in segments)
    if len(text) > COMPRESSION_MIN_CHARS and compression_ratio(text) > COMPRESSION_RATIO_LIMIT:
        return True
    times = [chunk[0]] + [t for s in segments for w in s.words for t in (w.start, w.end)] + [chunk[1]]
    return max(b - a for a, b in zip(times, times[1:])) > LOST_SPEECH_GAP_SECONDS


def _segment(seg) -> Segment:
    words = tuple(Word(w.word, float(w.start), float(w.end), float(w.probability)) for w in seg.words or ())
    return Segment(float(seg.start), float(seg.end), seg.text, words)
