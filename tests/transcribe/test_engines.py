"""Both engines, same bundled weights, real speech: text, word timings, VAD offsets, exports."""

from __future__ import annotations

import jiwer
import numpy as np
import pytest
from whisper.normalizers import EnglishTextNormalizer

from pipeline.media.audio import SAMPLE_RATE, decode_audio
from pipeline.core.errors import TranscribeError
from pipeline.transcribe import ENGINES, ModelStore, TranscribeOptions, TranscriptResult, get_transcriber
from pipeline.transcribe.base import Segment, Word
from pipeline.transcribe.export import render
from tests.helpers.media import SAMPLE_SCRIPT

normalize = EnglishTextNormalizer()
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> ModelStore:
    return ModelStore(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def sample_audio(sample_episode) -> np.ndarray:
    return decode_audio(sample_episode)


@pytest.fixture(scope="module")
def results(store, sample_audio) -> dict[str, TranscriptResult]:
    options = TranscribeOptions(model="tiny.en", beam_size=5)
    return {engine: get_transcriber(engine, store).transcribe(sample_audio, options) for engine in ENGINES}


def wer(result: TranscriptResult) -> float:
    return jiwer.wer(normalize(SAMPLE_SCRIPT.read_text()), normalize(result.text))


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_recognises_the_sample_script(results, engine):
    result = results[engine]
    assert result.engine == engine and result.language == "en"
    assert abs(result.duration - 107.2) < 0.5
    assert wer(result) < 0.12, result.text


@pytest.mark.parametrize("engine", ENGINES)
def test_word_timestamps_are_ordered_and_inside_the_audio(results, engine):
    words = results[engine].words
    assert len(words) > 200
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert all(0 <= w.start <= w.end <= results[engine].duration + 0.5 for w in words)
    assert all(0.0 <= w.probability <= 1.0 for w in words)


def test_engines_agree_on_the_same_weights(results):
    a, b = (normalize(results[e].text).split() for e in ENGINES)
    assert jiwer.wer(" ".join(a), " ".join(b)) < 0.1
    assert abs(wer(results["faster-whisper"]) - wer(results["openai-whisper"])) < 0.03


@pytest.mark.parametrize("engine", ENGINES)
def test_vad_skips_leading_silence_and_keeps_original_times(store, sample_audio, engine):
    lead = 6.0
    padded = np.concatenate([np.zeros(int(lead * SAMPLE_RATE), np.float32), sample_audio[: 20 * SAMPLE_RATE]])
    result = get_transcriber(engine, store).transcribe(padded, TranscribeOptions(vad=True))
    first = result.words[0]
    assert first.word.strip().lower().startswith("welcome")
    assert lead - 0.6 <= first.start <= lead + 1.0


def test_progress_callback_reports_seconds(store, sample_audio):
    seen: list[float] = []
    get_transcriber("faster-whisper", store).transcribe(
        sample_audio[: 30 * SAMPLE_RATE], TranscribeOptions(), progress=seen.append
    )
    assert seen and seen == sorted(seen) and 20 < seen[-1] <= 30.5


def test_unknown_engine_and_model_are_clear_errors(store):
    with pytest.raises(TranscribeError, match="unknown engine 'whisperx'"):
        get_transcriber("whisperx", store)
    with pytest.raises(TranscribeError, match="not found"):
        get_transcriber("openai-whisper", store).transcribe(
            np.zeros(SAMPLE_RATE, np.float32), TranscribeOptions(model="/nowhere/model.pt")
        )


def test_json_round_trip_and_subtitle_timestamps():
    result = TranscriptResult(
        "en", 3725.5,
        (Segment(3661.25, 3662.5, " Hello there.", (Word(" Hello", 3661.25, 3661.8, 0.9),)),),
    )
    assert TranscriptResult.from_dict(result.to_dict()).to_dict() == result.to_dict()
    assert "01:01:01,250 --> 01:01:02,500\nHello there." in render(result, "srt")
    assert "01:01:01.250 --> 01:01:02.500\nHello there." in render(result, "vtt")
    assert render(result, "txt") == "Hello there.\n"


@pytest.mark.parametrize("engine", ENGINES)
def test_short_windows_keep_accuracy_and_original_times(store, sample_audio, results, monkeypatch, engine):
    """Forcing 40-second windows (three cuts in the sample) must not cost accuracy or shift times."""
    from pipeline.transcribe import windows

    monkeypatch.setattr(windows, "WINDOW_SECONDS", 40.0)
    windowed = get_transcriber(engine, store).transcribe(sample_audio, TranscribeOptions())
    assert wer(windowed) <= wer(results[engine]) + 0.02, windowed.text
    starts = [w.start for w in windowed.words]
    assert starts == sorted(starts)
    shifts = _matched_start_shifts(windowed.words, results[engine].words)
    assert len(shifts) > 0.9 * len(results[engine].words)
    assert np.mean(np.array(shifts) < 0.5) > 0.95, sorted(shifts)[-10:]


def _matched_start_shifts(a: list[Word], b: list[Word]) -> list[float]:
    """|start difference| of every word the two transcripts share, aligned in order."""
    import difflib

    key = lambda words: [w.word.strip().lower() for w in words]  # noqa: E731
    blocks = difflib.SequenceMatcher(a=key(a), b=key(b), autojunk=False).get_matching_blocks()
    return [abs(a[i + k].start - b[j + k].start) for i, j, n in blocks for k in range(n)]


def test_sequential_faster_whisper_matches_batched(store, sample_audio, results):
    sequential = get_transcriber("faster-whisper", store).transcribe(sample_audio, TranscribeOptions(batch_size=1))
    assert wer(sequential) < 0.12
    assert jiwer.wer(normalize(sequential.text), normalize(results["faster-whisper"].text)) < 0.08


def test_a_batched_chunk_that_lost_its_speech_is_decoded_again(store, sample_audio, results, monkeypatch):
    """BatchedInferencePipeline has no temperature fallback; a broken chunk is re-decoded sequentially."""
    import faster_whisper

    real = faster_whisper.BatchedInferencePipeline.transcribe

    def losing_the_second_chunk(self, audio, clip_timestamps, **kwargs):
        segments, info = real(self, audio, clip_timestamps=clip_timestamps, **kwargs)
        lost = clip_timestamps[1]
        return (s for s in segments if not lost["start"] <= s.start < lost["end"]), info

    monkeypatch.setattr(faster_whisper.BatchedInferencePipeline, "transcribe", losing_the_second_chunk)
    repaired = get_transcriber("faster-whisper", store).transcribe(sample_audio, TranscribeOptions(beam_size=5))
    assert wer(repaired) <= wer(results["faster-whisper"]) + 0.02
    gaps = [b.start - a.end for a, b in zip(repaired.words, repaired.words[1:])]
    assert max(gaps) < 4.0


def test_chunk_check_flags_loops_and_lost_speech_only():
    from pipeline.transcribe.faster_whisper import chunk_looks_broken

    def seg(text, start, end):
        tokens = text.split()
        step = (end - start) / len(tokens)
        words = tuple(Word(" " + t, start + k * step, start + (k + 1) * step, 0.9) for k, t in enumerate(tokens))
        return Segment(start, end, text, words)

    healthy = [seg("we answer emails twice a day at nine and at four", 0.2, 9.0),
               seg("every email gets an automatic reply that says when", 9.3, 18.0),
               seg("and nobody has complained since", 18.2, 28.5)]
    assert not chunk_looks_broken(healthy, (0.0, 29.0))
    assert chunk_looks_broken([seg("nap " * 40, 0.2, 28.0)], (0.0, 29.0))  # repetition loop
    assert chunk_looks_broken(healthy[:1], (0.0, 29.0))  # 20 s of speech with no words
    assert chunk_looks_broken([], (0.0, 29.0))
