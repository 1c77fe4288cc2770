"""Input resolution: folders searched by media type, duplicates and empty folders."""

from __future__ import annotations

from pipeline.ingest.sources import resolve_inputs
from tests.helpers import media as mf


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
