"""The transcription contract shared by every engine.

Engines take 16 kHz mono float32 audio (see ``pipeline.media.audio``) and return a
``TranscriptResult`` with word timestamps. Everything here is plain data so a
result can be stored as JSON and compared across engines.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Protocol, runtime_checkable

import numpy as np

from pipeline.core.errors import ConfigError
from pipeline.core.vocab import is_english_only
from pipeline.core.settings import TranscribeSettings

SAMPLE_RATE = 16_000  # Whisper's fixed input rate (openai/whisper audio.py)
TRANSLATE = "translate"
TASKS = ("transcribe", TRANSLATE)
# Bumped when decoding changes its output for the same options, so stored transcripts are redone.
# 2: broken batched chunks are decoded again sequentially (faster_whisper.py).
# 3: the temperature fallback's sampling is seeded (same input, same settings: same transcript).
# 4: the language is detected per stretch and each stretch is decoded in its own language.
# 5: a switch between two windows is placed again from pieces of about 8 s (stretches.py).
DECODER_REVISION = 5

# Called with the number of seconds of audio transcribed so far.
ProgressCallback = Callable[[float], None]


@dataclass(frozen=True)
class TranscribeOptions:
    # Model name ("tiny.en", "base", "small" …) or a path to a model directory/file.
    model: str = "tiny.en"
    # Spoken language code; None lets the model detect it per stretch (".en" models are English only).
    language: str | None = None
    # When detecting: the show's languages (the client profile's); a stretch is heard as one of them
    # unless another language is far more likely. Empty: any language.
    languages: tuple[str, ...] = ()
    # Beam width; 5 is both engines' documented default for accuracy.
    beam_size: int = 5
    # Skip long silences with a voice activity detector before decoding.
    vad: bool = True
    # CPU threads per engine instance; 0 lets the engine decide.
    threads: int = 0
    # Compute type for CTranslate2 (int8 is fastest on CPU with no measured WER loss).
    compute_type: str = "int8"
    # Sampling temperature for the first pass; both engines fall back to higher ones on failure.
    temperature: float = 0.0
    # faster-whisper only: 30-second chunks decoded together (BatchedInferencePipeline).
    # 8 measured 1.3x faster than sequential decoding on 2 cores at the same WER; 1 = sequential.
    batch_size: int = 8
    # The batch for a multilingual model (its larger decoder state): at most this many chunks at once.
    multilingual_batch_size: int = 4
    # Seed of the sampling that the temperature fallback does (both engines), set before each window,
    # so the same audio with the same options always gives the same transcript.
    seed: int = 0
    # "transcribe", or "translate": Whisper's own translate task writes English text for speech in any
    # language (multilingual models only), a caption track for a client who posts in English.
    task: str = "transcribe"

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ConfigError(f"unknown transcription task {self.task!r}; use one of: {', '.join(TASKS)}")
        if self.task == TRANSLATE and is_english_only(self.model):
            raise ConfigError(f"{self.model} hears only English and cannot translate: use a multilingual model "
                              "(--model base)")

    @classmethod
    def from_settings(cls, settings: TranscribeSettings, *, model: str | None = None, language: str | None = None,
                      beam_size: int | None = None, vad: bool | None = None) -> "TranscribeOptions":
        """The options the settings file gives, with any argument that is not None laid over them."""
        return cls(model=model or settings.model, language=language, beam_size=beam_size or settings.beam_size,
                   vad=settings.vad if vad is None else vad, compute_type=settings.compute_type,
                   batch_size=settings.batch_size, multilingual_batch_size=settings.multilingual_batch_size)

    @property
    def effective_batch_size(self) -> int:
        """The batch the engine uses: ``batch_size``, capped for a multilingual model."""
        if is_english_only(self.model):
            return self.batch_size
        return min(self.batch_size, self.multilingual_batch_size)

    @property
    def temperatures(self) -> tuple[float, ...]:
        """Both engines' default fallback ladder, starting at ``temperature``."""
        return tuple(t for t in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0) if t >= self.temperature) or (self.temperature,)

    def cache_key(self, engine: str) -> str:
        """A stable string naming everything that changes the output."""
        return (
            f"{engine}|{self.model}|{self.language}|{','.join(self.languages)}|beam={self.beam_size}|vad={self.vad}"
            f"|ct={self.compute_type}|t={self.temperature}|batch={self.effective_batch_size}|seed={self.seed}|task={self.task}|rev={DECODER_REVISION}"
        )


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    probability: float
    # Who said it: "S1", "S2" … from diarization (``diarize.py``); "" when speakers were not asked for.
    speaker: str = ""


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = field(default_factory=tuple)
    # The language this stretch was heard and decoded in ("" before it is known).
    language: str = ""
    # What is doubtful about its decoding: "repetitive", "low confidence" (see quality.py).
    flags: tuple[str, ...] = ()
    # Who said most of it ("S1" …; "" when speakers were not asked for).
    speaker: str = ""


@dataclass(frozen=True)
class TranscriptResult:
    language: str
    duration: float
    segments: tuple[Segment, ...]
    engine: str = ""
    model: str = ""
    # "translate": the text is Whisper's English translation of speech in ``language`` (see TranscribeOptions).
    task: str = "transcribe"

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    def language_shares(self) -> dict[str, float]:
        """Each language's share of the transcribed speech (by segment time), largest first."""
        seconds: dict[str, float] = {}
        for s in self.segments:
            language = s.language or self.language
            seconds[language] = seconds.get(language, 0.0) + max(s.end - s.start, 0.0)
        total = sum(seconds.values())
        if not total:
            return {self.language: 1.0} if self.segments else {}
        return {k: round(v / total, 3) for k, v in sorted(seconds.items(), key=lambda kv: (-kv[1], kv[0]))}

    @property
    def speakers(self) -> list[str]:
        """The speaker labels found, in order of first appearance (empty when not diarized)."""
        return list(dict.fromkeys(s.speaker for s in self.segments if s.speaker))

    def to_dict(self) -> dict:
        """The public JSON shape: language, languages (shares), duration, segments[start,end,text,language,
        flags,speaker?,words[word,start,end,probability,speaker?]]; speaker keys only once diarized."""
        return {
            "language": self.language,
            "languages": self.language_shares(),
            **({"translated_to": "en"} if self.task == TRANSLATE else {}),
            "duration": round(self.duration, 3),
            "segments": [
                {
                    "start": round(s.start, 3),
                    "end": round(s.end, 3),
                    "text": s.text.strip(),
                    "language": s.language or self.language,
                    "flags": list(s.flags),
                    **({"speaker": s.speaker} if s.speaker else {}),
                    "words": [
                        {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(w).items()
                         if k != "speaker" or v}
                        for w in s.words
                    ],
                }
                for s in self.segments
            ],
        }

    @classmethod
    def from_dict(cls, data: dict, *, engine: str = "", model: str = "") -> "TranscriptResult":
        segments = tuple(
            Segment(
                start=float(s["start"]),
                end=float(s["end"]),
                text=s["text"],
                words=tuple(Word(**w) for w in s.get("words", [])),
                language=s.get("language") or data["language"],
                flags=tuple(s.get("flags", ())),
                speaker=s.get("speaker", ""),
            )
            for s in data["segments"]
        )
        task = TRANSLATE if data.get("translated_to") else "transcribe"
        return cls(data["language"], float(data["duration"]), segments, engine, model, task)


@runtime_checkable
class Transcriber(Protocol):
    """One speech-to-text engine. Implementations load their model lazily."""

    name: str

    def transcribe(
        self, audio: np.ndarray, options: TranscribeOptions, progress: ProgressCallback | None = None
    ) -> TranscriptResult:
        """Transcribe 16 kHz mono float32 samples with word timestamps."""
        ...
