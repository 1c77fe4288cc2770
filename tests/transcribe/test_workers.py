"""Transcription worker sizing: cores, free memory and the number of episodes bound the pool."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipeline.transcribe import workers


@pytest.mark.parametrize(
    "requested, available_gb, durations, cores, expected",
    [
        (1, 16, [3600, 60], 2, 1),
        (4, 16, [3600, 60, 60], 2, 2),      # capped by cores
        (2, 1.0, [3600, 3600], 2, 1),       # capped by memory: one 60-min worker needs ~1.3 GB
        (8, 64, [60], 8, 1),                # never more workers than episodes
        (3, 0.1, [60, 60, 60], 4, 1),       # never below one
    ],
)
def test_effective_jobs(monkeypatch, requested, available_gb, durations, cores, expected):
    monkeypatch.setattr(workers.psutil, "virtual_memory", lambda: SimpleNamespace(available=available_gb * 1024**3))
    monkeypatch.setattr(workers.os, "cpu_count", lambda: cores)
    assert workers.effective_jobs(requested, durations) == expected
