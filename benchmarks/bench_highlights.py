#!/usr/bin/env python3
"""Highlight mining speed on 10-, 60- and 180-minute transcripts built from the sample.

    .venv/bin/python benchmarks/bench_highlights.py           # 10, 60, 180 min
    .venv/bin/python benchmarks/bench_highlights.py --quick   # 10 and 60 min

The bundled sample is transcribed once (faster-whisper, product defaults; cached in
bench-data/) and its transcript and loudness envelope are tiled end to end, 0.5 s
apart, to the target length. Timed: ``mine_highlights`` from transcript + envelope
in memory (sentences, YAKE key phrases, every candidate, features, selection, the
explanations of the top 8). Not timed: transcription and audio decoding, which are
measured separately below (decoding the 60-minute episode's envelope from MP3).
Each length runs 5 times after a warm-up; the median is reported. Linearity is the
time per transcript minute at each length relative to the 60-minute figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    DATA_DIR, SAMPLE_MP3, busy_cpu_seconds, git_state, log, long_episode, machine_info, save_result,
)

RUNS = 5
GAP_SECONDS = 0.5
TARGET_60_MIN_SECONDS = 2.0


def sample_transcript():
    from pipeline.core.settings import load_settings
    from pipeline.transcribe import ModelStore, TranscribeOptions, TranscriptResult, transcribe_file

    cache = DATA_DIR / "sample_episode.transcript.json"
    if cache.is_file():
        return TranscriptResult.from_dict(json.loads(cache.read_text()))
    settings = load_settings(DATA_DIR / "home")
    result, _ = transcribe_file(SAMPLE_MP3, "faster-whisper", TranscribeOptions(),
                                ModelStore(settings.models_dir, settings.models))
    cache.write_text(json.dumps(result.to_dict()))
    return result


def tiled(transcript, envelope, minutes: float):
    """The transcript and envelope repeated back to back until ``minutes`` long."""
    import numpy as np

    from pipeline.highlights import EnergyEnvelope
    from pipeline.highlights.energy import FRAME_SECONDS
    from pipeline.transcribe.base import Segment, TranscriptResult, Word

    period = transcript.duration + GAP_SECONDS
    copies = int(np.ceil(minutes * 60 / period))
    segments = []
    for k in range(copies):
        shift = k * period
        for s in transcript.segments:
            words = tuple(Word(w.word, w.start + shift, w.end + shift, w.probability) for w in s.words)
            segments.append(Segment(s.start + shift, s.end + shift, s.text, words))
    frames = int(round(period / FRAME_SECONDS))
    padded = np.full(frames, envelope.db.min(), dtype=np.float32)
    padded[: min(frames, envelope.db.size)] = envelope.db[:frames]
    return (TranscriptResult(transcript.language, copies * period, tuple(segments)),
            EnergyEnvelope(np.tile(padded, copies)))


def time_mining(transcript, envelope) -> dict:
    from pipeline.highlights import HighlightOptions, mine_highlights

    mine_highlights(transcript, HighlightOptions(), energy=envelope)  # warm-up (imports, YAKE stopwords)
    seconds, other = [], []
    for _ in range(RUNS):
        busy, started = busy_cpu_seconds(), time.perf_counter()
        result = mine_highlights(transcript, HighlightOptions(), energy=envelope)
        elapsed = time.perf_counter() - started
        seconds.append(elapsed)
        other.append(max(0.0, (busy_cpu_seconds() - busy) / elapsed - 1.0))
    return {"median_s": statistics.median(seconds), "seconds": seconds, "other_cores": other,
            "candidates": result.candidates, "sentences": len(result.timeline.sentences),
            "words": len(result.timeline.words), "highlights": len(result.highlights)}


def time_envelope_decode() -> dict:
    from pipeline.highlights import envelope_from_file
    from pipeline.media.probe import probe

    mp3, _ = long_episode(34)
    started = time.perf_counter()
    envelope = envelope_from_file(mp3)
    return {"path": str(mp3.relative_to(DATA_DIR.parent)), "audio_s": probe(mp3).duration,
            "seconds": time.perf_counter() - started, "frames": int(envelope.db.size)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 and 60 minutes only")
    args = parser.parse_args()
    from pipeline.highlights import envelope_from_file

    git_start = git_state()
    transcript, envelope = sample_transcript(), envelope_from_file(SAMPLE_MP3)
    lengths = [10, 60] if args.quick else [10, 60, 180]
    results = []
    for minutes in lengths:
        tiled_transcript, tiled_envelope = tiled(transcript, envelope, minutes)
        log(f"{minutes} min: {len(tiled_transcript.words)} words")
        row = {"minutes": minutes, "transcript_s": tiled_transcript.duration, **time_mining(tiled_transcript, tiled_envelope)}
        row["seconds_per_minute"] = row["median_s"] / (row["transcript_s"] / 60)
        log(f"{minutes} min: median {row['median_s']:.3f} s, {row['candidates']} candidates")
        results.append(row)
    per_minute_60 = next(r["seconds_per_minute"] for r in results if r["minutes"] == 60)
    for row in results:
        row["per_minute_vs_60"] = row["seconds_per_minute"] / per_minute_60
    at_60 = next(r for r in results if r["minutes"] == 60)
    data = {
        "machine": machine_info(), "git_at_start": git_start, "git_at_end": git_state(), "runs": RUNS,
        "results": results, "envelope_decode": time_envelope_decode(),
        "target_60_min_s": TARGET_60_MIN_SECONDS, "target_met": at_60["median_s"] < TARGET_60_MIN_SECONDS,
    }
    save_result("highlights", data, quick=args.quick)
    for row in results:
        print(f"{row['minutes']:>4} min  {row['median_s']:.3f} s  ({row['seconds_per_minute'] * 1000:.1f} ms per "
              f"minute, ×{row['per_minute_vs_60']:.2f} of the 60-min rate)  {row['candidates']} candidates")
    return 0 if data["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
