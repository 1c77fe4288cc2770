"""benchmarks/eval_highlights.py: cuts checked against the generator's truth, WER per spoken language,
and BENCHMARKS.md sections rewritten in place."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import _common  # noqa: E402
import eval_highlights  # noqa: E402

from pipeline.transcribe.base import Segment, TranscriptResult, Word  # noqa: E402

TRUTH = {"sentences": [{"text": "Halo semua.", "start": 1.0, "end": 2.0, "language": "id"},
                       {"text": "Hello everyone.", "start": 2.5, "end": 3.5, "language": "en"}]}


def highlight(rank, start, end):
    return SimpleNamespace(rank=rank, start=start, end=end)


def test_a_cut_in_speech_or_within_the_fade_of_it_is_not_clean():
    result = SimpleNamespace(highlights=[highlight(1, 0.5, 2.2), highlight(2, 0.99, 3.6), highlight(3, 1.5, 4.0)])
    problems = eval_highlights.true_pause_failures(result, TRUTH)
    assert problems == ["#2: start 0.990 s is 10 ms from speech", "#3: start 1.500 s is 0 ms from speech"]


def test_words_are_scored_against_the_sentences_of_their_language():
    words = (Word(" Halo", 1.0, 1.4, 0.9), Word(" semua.", 1.5, 1.9, 0.9), Word(" Hello", 2.6, 3.0, 0.9),
             Word(" everybody.", 3.0, 3.4, 0.9))
    transcript = TranscriptResult("id", 4.0, (Segment(1.0, 3.4, "", words),))
    texts = eval_highlights.words_per_language(transcript, TRUTH)
    assert texts == {"id": ("Halo semua.", " Halo  semua."), "en": ("Hello everyone.", " Hello  everybody.")}
    assert eval_highlights.basic_wer(*texts["id"]) == 0.0 and eval_highlights.basic_wer(*texts["en"]) == 0.5


def test_a_section_and_its_target_rows_are_replaced_in_place(tmp_path):
    md = tmp_path / "B.md"
    md.write_text("# B\n\n| Highlights: recall@5 | 96 % |\n| other | x |\n\n## 3. Eval\n\nold\n\n## 4. Next\n\nkept\n")
    _common.replace_section(md, "## 3. Eval", "## 3. Eval\n\nnew\n")
    _common.replace_lines(md, ["| Highlights:"], ["| Highlights: recall@5 | 85 % |", "| Highlights: cuts | 100 % |"])
    assert md.read_text() == ("# B\n\n| Highlights: recall@5 | 85 % |\n| Highlights: cuts | 100 % |\n| other | x |\n\n"
                              "## 3. Eval\n\nnew\n\n## 4. Next\n\nkept\n")
