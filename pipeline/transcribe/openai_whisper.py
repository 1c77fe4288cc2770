"""openai-whisper engine (PyTorch, fp32 on CPU), behind the same protocol.

It runs the same tiny.en weights as faster-whisper: ``weights.ModelStore``
converts the CTranslate2 model into an openai-whisper checkpoint.
"""

from __future__ import annotations

import numpy as np

from pipeline.errors import TranscribeError
from pipeline.transcribe.base import SAMPLE_RATE, ProgressCallback, Segment, TranscribeOptions, TranscriptResult, Word
from pipeline.transcribe.vad import keep_speech, restore_times
from pipeline.transcribe.weights import ModelStore


class OpenAIWhisperTranscriber:
    name = "openai-whisper"

    def __init__(self, store: ModelStore):
        self.store = store
        self._models: dict[str, object] = {}

    def _model(self, options: TranscribeOptions):
        try:
            import torch
            import whisper  # noqa: F401
        except ImportError as exc:
            raise TranscribeError(
                "openai-whisper is not installed: run `make setup` (pip install '.[openai]')"
            ) from exc
        from pipeline.transcribe.convert import load_openai_model

        path = self.store.openai_checkpoint(options.model)
        if str(path) not in self._models:
            if options.threads:
                torch.set_num_threads(options.threads)
            self._models[str(path)] = load_openai_model(path)
        return self._models[str(path)]

    def transcribe(
        self, audio: np.ndarray, options: TranscribeOptions, progress: ProgressCallback | None = None
    ) -> TranscriptResult:
        model = self._model(options)
        speech = keep_speech(audio) if options.vad else None
        decode_audio = speech.audio if speech else audio
        language = options.language or ("en" if options.model.endswith(".en") else None)
        if decode_audio.size == 0:
            return TranscriptResult(language or "en", audio.size / SAMPLE_RATE, (), self.name, options.model)
        result = model.transcribe(
            decode_audio,
            language=language,
            beam_size=options.beam_size,
            temperature=options.temperatures,
            word_timestamps=True,
            fp16=False,
            verbose=None,
        )
        segments = tuple(_segment(s) for s in result["segments"])
        if speech:
            segments = tuple(restore_times(s, speech) for s in segments)
        if progress:
            progress(audio.size / SAMPLE_RATE)
        return TranscriptResult(result.get("language") or "en", audio.size / SAMPLE_RATE, segments, self.name, options.model)


def _segment(raw: dict) -> Segment:
    words = tuple(
        Word(w["word"], float(w["start"]), float(w["end"]), float(w.get("probability", 0.0)))
        for w in raw.get("words", [])
    )
    return Segment(float(raw["start"]), float(raw["end"]), raw["text"], words)
