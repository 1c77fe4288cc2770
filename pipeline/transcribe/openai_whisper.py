"""openai-whisper engine (PyTorch, fp32 on CPU), behind the same protocol.

It runs the same tiny.en weights as faster-whisper: ``weights.ModelStore``
converts the CTranslate2 model into an openai-whisper checkpoint.
"""

from __future__ import annotations

import numpy as np

from pipeline.core.errors import TranscribeError
from pipeline.transcribe.base import Segment, TranscribeOptions, Word
from pipeline.core.vocab import is_english_only
from pipeline.transcribe.windows import WindowedTranscriber, trial_score


class OpenAIWhisperTranscriber(WindowedTranscriber):
    name = "openai-whisper"

    def _load(self, options: TranscribeOptions):
        try:
            import torch
            import whisper  # noqa: F401
        except ImportError as exc:
            raise TranscribeError(
                "openai-whisper is not installed: run `make setup` (pip install '.[openai]')"
            ) from exc
        from pipeline.transcribe.convert import load_openai_model

        path = self.store.openai_checkpoint(options.model)

        def load():
            if options.threads:
                torch.set_num_threads(options.threads)
            return load_openai_model(path)

        return str(path), load

    def _detect(self, audio: np.ndarray, options: TranscribeOptions) -> list[tuple[str, float]]:
        import whisper

        model = self._model(options)
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), n_mels=model.dims.n_mels).to(model.device)
        _tokens, probabilities = whisper.detect_language(model, mel)
        return sorted(((language, float(p)) for language, p in probabilities.items()), key=lambda lp: -lp[1])

    def _score(self, audio: np.ndarray, language: str, options: TranscribeOptions) -> float:
        result = self._model(options).transcribe(
            audio, language=language, temperature=0.0, without_timestamps=True, condition_on_previous_text=False,
            fp16=False, verbose=None)
        return trial_score([(s["text"], s["avg_logprob"], len(s["tokens"])) for s in result["segments"]])

    def _decode(self, audio: np.ndarray, options: TranscribeOptions):
        language = options.language or ("en" if is_english_only(options.model) else None)
        model = self._model(options)
        import torch  # loaded by _load already

        torch.manual_seed(options.seed)  # the fallback samples: the same window decodes the same
        result = model.transcribe(
            audio,
            language=language,
            task=options.task,
            beam_size=options.beam_size,
            temperature=options.temperatures,
            word_timestamps=True,
            fp16=False,
            verbose=None,
        )
        return result.get("language") or language, [_segment(s) for s in result["segments"]]


def _segment(raw: dict) -> Segment:
    words = tuple(
        Word(w["word"], float(w["start"]), float(w["end"]), float(w.get("probability", 0.0)))
        for w in raw.get("words", [])
    )
    return Segment(float(raw["start"]), float(raw["end"]), raw["text"], words)
