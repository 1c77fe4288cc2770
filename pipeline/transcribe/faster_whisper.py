"""The default engine: faster-whisper (CTranslate2, int8 on CPU)."""

from __future__ import annotations

import numpy as np

from pipeline.errors import TranscribeError
from pipeline.transcribe.base import SAMPLE_RATE, ProgressCallback, Segment, TranscribeOptions, TranscriptResult, Word
from pipeline.transcribe.weights import ModelStore


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

    def transcribe(
        self, audio: np.ndarray, options: TranscribeOptions, progress: ProgressCallback | None = None
    ) -> TranscriptResult:
        model = self._model(options)
        segments_iter, info = model.transcribe(
            audio,
            language=options.language,
            beam_size=options.beam_size,
            temperature=list(options.temperatures),
            word_timestamps=True,
            vad_filter=options.vad,
        )
        segments = []
        for seg in segments_iter:  # lazy: decoding happens while we iterate
            words = tuple(Word(w.word, float(w.start), float(w.end), float(w.probability)) for w in seg.words or ())
            segments.append(Segment(float(seg.start), float(seg.end), seg.text, words))
            if progress:
                progress(float(seg.end))
        return TranscriptResult(
            language=info.language,
            duration=audio.size / SAMPLE_RATE,
            segments=tuple(segments),
            engine=self.name,
            model=options.model,
        )
