"""benchmarks/eval_metrics.py: IoU, greedy matching, recall@k and boundary error."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "eval_metrics.py"
_spec = importlib.util.spec_from_file_location("castmill_eval_metrics", _PATH)
em = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = em  # dataclasses look their module up while the class is built
_spec.loader.exec_module(em)
Span, iou, evaluate = em.Span, em.iou, em.evaluate


def far(n: int) -> list:
    """N predictions that overlap nothing near 0-1000 s."""
    return [Span(5000.0 + 10 * i, 5005.0 + 10 * i) for i in range(n)]


# ---------------------------------------------------------------- iou


def test_iou_identical_disjoint_touching():
    assert iou(Span(10, 20), Span(10, 20)) == 1.0
    assert iou(Span(0, 10), Span(20, 30)) == 0.0
    assert iou(Span(0, 10), Span(10, 20)) == 0.0


def test_iou_partial_and_contained():
    assert iou(Span(0, 10), Span(5, 15)) == pytest.approx(5 / 15)
    assert iou(Span(0, 10), Span(2, 6)) == pytest.approx(4 / 10)
    assert iou(Span(2, 6), Span(0, 10)) == iou(Span(0, 10), Span(2, 6))


def test_iou_zero_length_and_invalid_span():
    assert iou(Span(5, 5), Span(5, 5)) == 0.0
    assert iou(Span(5, 5), Span(0, 10)) == 0.0
    with pytest.raises(ValueError):
        Span(10, 5)


# ---------------------------------------------------------------- evaluate


def test_exact_matches_give_full_recall_and_zero_error():
    truths = {"ep01": [Span(10, 40), Span(100, 130)], "ep02": [Span(50, 80)]}
    report = evaluate({k: list(v) for k, v in truths.items()}, truths)
    assert report.recall_at_5 == report.recall_at_10 == 1.0
    assert report.mean_boundary_error == 0.0
    assert (report.matched, report.moments) == (3, 3)
    assert [e.episode for e in report.per_episode] == ["ep01", "ep02"]
    assert all(m.iou == 1.0 for e in report.per_episode for m in e.matches)


def test_partial_overlap_below_threshold_does_not_count():
    truths = {"ep01": [Span(0, 30)]}
    # overlap 10 s, union 40 s -> IoU 0.25
    report = evaluate({"ep01": [Span(20, 40)]}, truths)
    assert report.recall_at_10 == 0.0
    assert report.matched == 0
    assert report.mean_boundary_error is None


def test_partial_overlap_above_threshold_counts():
    truths = {"ep01": [Span(0, 30)]}
    # overlap 25 s, union 35 s -> IoU ~0.71
    report = evaluate({"ep01": [Span(5, 35)]}, truths)
    assert report.recall_at_5 == report.recall_at_10 == 1.0
    assert report.per_episode[0].matches[0].iou == pytest.approx(25 / 35)


def test_threshold_is_inclusive_and_configurable():
    truths = {"ep01": [Span(0, 20)]}
    pred = {"ep01": [Span(0, 10)]}  # IoU exactly 0.5
    assert evaluate(pred, truths).recall_at_5 == 1.0
    assert evaluate(pred, truths, iou_threshold=0.6).recall_at_5 == 0.0
    with pytest.raises(ValueError):
        evaluate(pred, truths, iou_threshold=0.0)


def test_rank_seven_counts_for_recall_at_10_not_at_5():
    truths = {"ep01": [Span(100, 130)]}
    ranked = far(6) + [Span(100, 130)] + far(3)
    report = evaluate({"ep01": ranked}, truths)
    assert report.recall_at_5 == 0.0
    assert report.recall_at_10 == 1.0
    episode = report.per_episode[0]
    assert (episode.found_at_5, episode.found_at_10, episode.predictions) == (0, 1, 10)
    assert episode.matches[0].rank == 7


def test_rank_eleven_does_not_count():
    truths = {"ep01": [Span(100, 130)]}
    report = evaluate({"ep01": far(10) + [Span(100, 130)]}, truths)
    assert report.recall_at_10 == 0.0


def test_one_prediction_cannot_match_two_moments():
    # [0, 2] has IoU exactly 0.5 with both halves
    truths = {"ep01": [Span(0, 1), Span(1, 2)]}
    report = evaluate({"ep01": [Span(0, 2)]}, truths)
    assert report.recall_at_10 == 0.5
    assert report.matched == 1
    # with a lower threshold a wide prediction overlaps both, still only one match
    truths = {"ep01": [Span(0, 10), Span(12, 22)]}
    report = evaluate({"ep01": [Span(0, 22)]}, truths, iou_threshold=0.3)
    assert report.matched == 1


def test_greedy_gives_each_moment_its_best_prediction():
    truths = {"ep01": [Span(0, 10), Span(20, 30)]}
    # rank 1 overlaps both moments loosely (IoU 8/28 each); rank 2 is exact for the first,
    # so the first goes to rank 2 and rank 1 is left for the second
    ranked = [Span(2, 28), Span(0, 10)]
    report = evaluate({"ep01": ranked}, truths, iou_threshold=0.25)
    matches = report.per_episode[0].matches
    assert [(m.moment, m.rank) for m in matches] == [(0, 2), (1, 1)]
    assert matches[1].iou == pytest.approx(8 / 28)
    # two moments, one prediction each, even if the better one is ranked lower
    ranked = [Span(1, 11), Span(0, 10), Span(20, 31)]
    report = evaluate({"ep01": ranked}, truths)
    assert [(m.moment, m.rank) for m in report.per_episode[0].matches] == [(0, 2), (1, 3)]
    assert report.recall_at_5 == 1.0


def test_boundary_error_arithmetic():
    truths = {"ep01": [Span(10, 40)], "ep02": [Span(100, 130)]}
    predictions = {
        "ep01": [Span(12, 39)],   # |+2| and |-1| -> 1.5
        "ep02": [Span(97, 136)],  # |-3| and |+6| -> 4.5
    }
    report = evaluate(predictions, truths)
    assert report.matched == 2
    assert report.mean_boundary_error == pytest.approx((1.5 + 4.5) / 2)
    match = report.per_episode[0].matches[0]
    assert (match.start_error, match.end_error) == (pytest.approx(2), pytest.approx(-1))
    assert report.per_episode[1].mean_boundary_error == pytest.approx(4.5)


def test_boundary_error_uses_best_iou_prediction_in_top_10():
    truths = {"ep01": [Span(10, 40)]}
    ranked = [Span(14, 40), Span(10, 41)]  # rank 2 has the higher IoU
    report = evaluate({"ep01": ranked}, truths)
    assert report.per_episode[0].matches[0].rank == 2
    assert report.mean_boundary_error == pytest.approx(0.5)


def test_empty_predictions():
    truths = {"ep01": [Span(10, 40), Span(60, 90)], "ep02": [Span(5, 35)]}
    for predictions in ({}, {"ep01": [], "ep02": []}):
        report = evaluate(predictions, truths)
        assert report.recall_at_5 == report.recall_at_10 == 0.0
        assert report.matched == 0 and report.moments == 3
        assert report.mean_boundary_error is None
        assert [e.predictions for e in report.per_episode] == [0, 0]


def test_recall_pools_moments_over_episodes():
    truths = {"ep01": [Span(0, 10), Span(20, 30), Span(40, 50)], "ep02": [Span(0, 10)]}
    report = evaluate({"ep01": [Span(0, 10)], "ep02": [Span(0, 10)]}, truths)
    assert report.recall_at_10 == pytest.approx(2 / 4)


def test_bad_inputs():
    with pytest.raises(ValueError):
        evaluate({"ep09": [Span(0, 1)]}, {"ep01": [Span(0, 1)]})
    with pytest.raises(ValueError):
        evaluate({}, {"ep01": []})
    with pytest.raises(ValueError):
        evaluate({}, {"ep01": [Span(0, 1)]}, clean_cut_share=1.5)


def test_to_dict_is_json_ready():
    truths = {"ep01": [Span(10, 40)]}
    report = evaluate({"ep01": [Span(11, 40)]}, truths, clean_cut_share=0.8)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["clean_cut_share"] == 0.8
    assert data["recall_at_5"] == 1.0 and data["matched"] == 1 and data["moments"] == 1
    assert data["mean_boundary_error"] == pytest.approx(0.5)
    episode = data["per_episode"][0]
    assert episode["episode"] == "ep01" and episode["found_at_10"] == 1
    assert episode["matches"][0]["rank"] == 1
    assert episode["matches"][0]["boundary_error"] == pytest.approx(0.5)
