"""The default engine: faster-whisper (CTranslate2, int8 on CPU)."""

from __future__ import annotations

import numpy as np

from pipeline.errors import TranscribeError
from pipeline.transcribe.base import SAMPLE_RATE, ProgressCallback, Segment, TranscribeOptions, TranscriptResult, Word
from pipeline.transcribe.weights import ModelStore
from pipeline.transcribe.windows import transcribe_in_windows


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

    def _decode(self, audio: np.ndarray, options: TranscribeOptions, prompt: str | None):
        segments, info = self._model(options).transcribe(
            audio,
            language=options.language,
            beam_size=options.beam_size,
            temperature=list(options.temperatures),
            word_timestamps=True,
            initial_prompt=prompt,
            vad_filter=False,  # VAD already ran in transcribe_in_windows, once for the whole episode
        )
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
