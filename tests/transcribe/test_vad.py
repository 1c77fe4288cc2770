"""The speech view: slicing equals the concatenated speech, and piecewise VAD matches whole-file VAD."""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import get_speech_timestamps
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.media.audio import decode_audio
from pipeline.transcribe import vad
from pipeline.transcribe.base import SAMPLE_RATE


@st.composite
def audio_and_chunks(draw):
    size = draw(st.integers(100, 5000))
    cuts = sorted(draw(st.sets(st.integers(0, size), max_size=12)))
    pairs = [(a, b) for a, b in zip(cuts[::2], cuts[1::2]) if b > a]
    return np.arange(size, dtype=np.float32), [{"start": a, "end": b} for a, b in pairs]


@settings(max_examples=200, deadline=None)
@given(data=audio_and_chunks(), lo=st.integers(0, 6000), length=st.integers(0, 6000))
def test_slicing_the_view_equals_slicing_the_concatenated_speech(data, lo, length):
    audio, chunks = data
    view = vad.SpeechOnly(audio, chunks)
    whole = np.concatenate([audio[c["start"] : c["end"]] for c in chunks]) if chunks else np.zeros(0, np.float32)
    assert view.size == whole.size
    np.testing.assert_array_equal(view[lo : lo + length], whole[lo : lo + length])


def test_piecewise_vad_matches_whole_file_vad(sample_episode, monkeypatch):
    audio = decode_audio(sample_episode)
    whole = get_speech_timestamps(audio, vad.VAD_OPTIONS, sampling_rate=SAMPLE_RATE)
    monkeypatch.setattr(vad, "VAD_PIECE_SECONDS", 25)  # four piece boundaries inside the sample
    pieces = vad.speech_chunks(audio)
    speech = lambda chunks: sum(c["end"] - c["start"] for c in chunks)  # noqa: E731
    assert abs(speech(pieces) - speech(whole)) < 0.03 * speech(whole)
    assert all(a["end"] < b["start"] for a, b in zip(pieces, pieces[1:]))  # sorted, merged, disjoint
