"""Batch runner rules that need no model: worker sizing and input resolution."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipeline import runner
from pipeline.ingest import resolve_inputs
from tests import media_factory as mf


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
    monkeypatch.setattr(runner.psutil, "virtual_memory", lambda: SimpleNamespace(available=available_gb * 1024**3))
    monkeypatch.setattr(runner.os, "cpu_count", lambda: cores)
    assert runner.effective_jobs(requested, durations) == expected


def test_folder_is_searched_recursively_by_media_type(settings, tmp_path):
    root = tmp_path / "show"
    (root / "season1").mkdir(parents=True)
    mf.empty_file(root / "season1" / "ep1.mp3")
    mf.empty_file(root / "ep2.M4A")
    mf.empty_file(root / "clip.webm")
    (root / "notes.txt").write_text("not media")
    (root / "cover.jpg").write_bytes(b"\xff\xd8")
    sources, failures = resolve_inputs([str(root)], settings)
    assert failures == []
    assert [s.local_path.name for s in sources] == ["clip.webm", "ep2.M4A", "ep1.mp3"]


def test_same_path_twice_is_one_source_and_empty_folder_is_an_error(settings, tmp_path):
    one = mf.empty_file(tmp_path / "one.mp3")
    (tmp_path / "empty").mkdir()
    sources, failures = resolve_inputs([str(one), str(one), str(tmp_path / "empty")], settings)
    assert len(sources) == 1
    assert failures[0].error == f"{tmp_path / 'empty'}: folder holds no audio or video files"
