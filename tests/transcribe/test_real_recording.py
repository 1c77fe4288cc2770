"""The diarizer on a real conversation, not a generated one.

pyannote.audio's wheel ships 30 s of two people talking with hand-made reference turns (cross-talk
included); `make test` takes the recording and its turns out of the wheel into eval-data/real/
(scripts/fetch_real_speech.py). The truth is the reference annotation, not anything the diarizer
produced; DER is scored with the benchmarks' scorer (collar 0.25 s, overlap scored).
"""

from __future__ import annotations

import json

import pytest

from pipeline.media.audio import decode_audio
from pipeline.transcribe.diarize import DiarizeOptions, diarize
from tests.helpers.der import ROOT, der_module

REAL = ROOT / "eval-data" / "real"


@pytest.fixture(scope="module")
def recording():
    if not (REAL / "truth.json").is_file():
        pytest.fail(f"{REAL} is missing: `make test` fetches it (python scripts/fetch_real_speech.py {REAL})")
    truth = json.loads((REAL / "truth.json").read_text())
    audio = decode_audio(REAL / "sample.wav", expected_seconds=truth["duration"])
    return audio, der_module.turns_from_dicts(truth["turns"])


@pytest.mark.parametrize("speakers", [2, None], ids=["number given", "number estimated"])
def test_a_real_two_person_conversation_is_told_apart(recording, speakers):
    audio, reference = recording
    turns = diarize(audio, DiarizeOptions(speakers=speakers))
    assert len({t.speaker for t in turns}) == 2, turns
    score = der_module.der(reference, turns)
    assert score.rate <= 0.15, score
