"""The default engine: faster-whisper (CTranslate2, int8 on CPU)."""

from __future__ import annotations

import numpy as np

from pipeline.errors import TranscribeError
from pipeline.transcribe.base import SAMPLE_RATE, Segment, TranscribeOptions, Word
from pipeline.transcribe.windows import WindowedTranscriber, window_bounds

# Whisper's context is 30 s; a little under it so no chunk is truncated by rounding.
CHUNK_SECONDS = 29.0


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


def _segment(seg) -> Segment:
    words = tuple(Word(w.word, float(w.start), float(w.end), float(w.probability)) for w in seg.words or ())
    return Segment(float(seg.start), float(seg.end), seg.text, words)
