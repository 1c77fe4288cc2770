"""The default engine: faster-whisper (CTranslate2, int8 on CPU)."""

from __future__ import annotations

import numpy as np

from pipeline.errors import TranscribeError
from pipeline.transcribe.base import SAMPLE_RATE, ProgressCallback, Segment, TranscribeOptions, TranscriptResult, Word
from pipeline.transcribe.weights import ModelStore
from pipeline.transcribe.windows import transcribe_in_windows, window_bounds

# Whisper's context is 30 s; a little under it so no chunk is truncated by rounding.
CHUNK_SECONDS = 29.0


class FasterWhisperTranscriber:
    name = "faster-whisper"

    def __init__(self, store: ModelStore):
        self.store = store
        self._models: dict[tuple, object] = {}

    def _model(self, options: TranscribeOptions):
        from faster_whisper import WhisperModel

        path = self.store.ct2_model(options.model)
        key = (str(path), options.compute_type, options.threads)
        if key not in self._models:
            try:
                self._models[key] = WhisperModel(
                    str(path), device="cpu", compute_type=options.compute_type, cpu_threads=options.threads
                )
            except (RuntimeError, ValueError) as exc:
                raise TranscribeError(f"cannot load CTranslate2 model: {exc}", source=path) from exc
        return self._models[key]

    def _decode(self, audio: np.ndarray, options: TranscribeOptions):
        common = dict(
            language=options.language,
            beam_size=options.beam_size,
            temperature=list(options.temperatures),
            word_timestamps=True,
        )
        model = self._model(options)
        if options.batch_size > 1:
            from faster_whisper import BatchedInferencePipeline

            # Chunks cut at quiet points; each is decoded on its own, so no cross-chunk prompt.
            clips = [{"start": s / SAMPLE_RATE, "end": e / SAMPLE_RATE} for s, e in window_bounds(audio, CHUNK_SECONDS)]
            segments, info = BatchedInferencePipeline(model).transcribe(
                audio, clip_timestamps=clips, batch_size=options.batch_size, **common
            )
        else:
            # VAD already ran once for the whole episode in transcribe_in_windows.
            segments, info = model.transcribe(audio, vad_filter=False, **common)
        return info.language, (_segment(s) for s in segments)  # lazy: decoding happens on iteration

    def transcribe(
        self, audio: np.ndarray, options: TranscribeOptions, progress: ProgressCallback | None = None
    ) -> TranscriptResult:
        self._model(options)  # a bad model name fails now, even for audio with no speech
        language, segments = transcribe_in_windows(audio, options, self._decode, progress)
        return TranscriptResult(language or "en", audio.size / SAMPLE_RATE, tuple(segments), self.name, options.model)


def _segment(seg) -> Segment:
    words = tuple(Word(w.word, float(w.start), float(w.end), float(w.probability)) for w in seg.words or ())
    return Segment(float(seg.start), float(seg.end), seg.text, words)
