"""Short espeak-ng conversations with known speaker turns, for diarization tests.

    talk = conversation(2)       # or conversation(3): about 30 s, built once per test session
    talk.path                    # 16 kHz mono 16-bit WAV
    talk.turns                   # (TrueTurn(start, end, speaker), ...) in seconds, speakers "A", "B", "C"
    talk.samples()               # float32 samples in [-1, 1), as pipeline.media.audio.decode_audio gives

The audio is made by scripts/make_speaker_set.py's ``render``, so the turns are measured the
same way as in the evaluation set: each turn synthesised alone, trimmed to its speech, and
placed after a known gap.  The files live in a temporary folder removed when the session ends.
"""

from __future__ import annotations

import atexit
import importlib.util
import shutil
import sys
import tempfile
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from tests.helpers.media import REPO, ffmpeg

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class TrueTurn:
    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class Conversation:
    path: Path
    turns: tuple[TrueTurn, ...]
    speakers: int
    duration: float

    def samples(self) -> np.ndarray:
        with wave.open(str(self.path), "rb") as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return pcm.astype(np.float32) / 32768.0


@lru_cache(maxsize=1)
def _speaker_set():
    """scripts/make_speaker_set.py as a module (scripts/ is not a package)."""
    path = REPO / "scripts" / "make_speaker_set.py"
    spec = importlib.util.spec_from_file_location("castmill_make_speaker_set", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _scripts() -> dict[int, tuple[dict, tuple]]:
    """Voices and turns of the two- and three-voice conversations."""
    mss = _speaker_set()
    voices = {"A": mss.Voice("en-us+m3", pitch=45, speed=165), "B": mss.Voice("en-us+f3", pitch=58, speed=170),
              "C": mss.Voice("en-gb+m7", pitch=52, speed=155)}
    T = mss.T
    two = (
        T("A", "Welcome back to the show. Today my guest tells us how she turned a hobby into a small bakery."),
        T("B", "Thanks for having me. It started with one loaf of bread for my neighbours, every Saturday."),
        T("A", "Right."),
        T("B", "After a year, I was baking forty loaves a week in a kitchen the size of a cupboard."),
        T("A", "And when did you decide to open a shop?"),
        T("B", "When my landlord asked me to stop using the oven at four in the morning."),
        T("A", "That is a very good reason."),
    )
    three = (
        T("A", "This week I have two guests who run a repair cafe together, once a month, in a church hall."),
        T("B", "Hello. We fix lamps, toasters, and a surprising number of bicycles."),
        T("C", "And clothes. The sewing table always has the longest queue."),
        T("A", "What breaks most often?"),
        T("C", "Zips, honestly. Everyone has a jacket with a broken zip at the back of a cupboard."),
        T("B", "Exactly."),
        T("A", "And what can you not fix?"),
        T("B", "Anything glued shut. If we cannot open it, we cannot save it."),
    )
    return {2: ({k: voices[k] for k in "AB"}, two), 3: (voices, three)}


@lru_cache(maxsize=1)
def _folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="castmill-conversations-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


@lru_cache(maxsize=None)
def conversation(speakers: int = 2) -> Conversation:
    """A two- or three-voice conversation of about 30 s, synthesised on the first call."""
    scripts = _scripts()
    if speakers not in scripts:
        raise ValueError(f"speakers must be one of {sorted(scripts)}, not {speakers}")
    mss = _speaker_set()
    voices, turns = scripts[speakers]
    talk = mss.Conversation(f"test{speakers}", "test conversation", voices, turns)
    mss.check_conversation(talk)
    folder = _folder()
    work = Path(tempfile.mkdtemp(dir=folder))
    samples, truth = mss.render(talk, str(work))
    raw = work / "raw.wav"
    mss._write_wav(str(raw), samples)
    path = folder / f"conversation{speakers}.wav"
    ffmpeg("-i", str(raw), "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", str(path))
    shutil.rmtree(work)
    return Conversation(path, tuple(TrueTurn(t["start"], t["end"], t["speaker"]) for t in truth), speakers,
                        round(samples.size / mss.SAMPLE_RATE, 3))
