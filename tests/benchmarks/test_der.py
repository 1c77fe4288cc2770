"""benchmarks/der.py: missed speech, false alarm, confusion, label mapping and the collar."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from tests.helpers.der import ROOT as _ROOT
from tests.helpers.der import der_module as dm

Turn, der, DerScore = dm.Turn, dm.der, dm.DerScore

TWO = [Turn(0, 10, "A"), Turn(10, 20, "B")]


def test_perfect_hypothesis_scores_zero():
    for collar in (0.0, 0.25):
        score = der(TWO, [Turn(0, 10, "S1"), Turn(10, 20, "S2")], collar=collar)
        assert score.rate == 0.0
        assert score.missed == score.false_alarm == score.confusion == 0.0
    assert der(TWO, TWO, collar=0).total == 20.0


def test_empty_hypothesis_misses_everything():
    score = der(TWO, [], collar=0)
    assert score.rate == 1.0
    assert score.missed == score.total == 20.0


def test_swapped_labels_cost_nothing_after_mapping():
    score = der(TWO, [Turn(0, 10, "B"), Turn(10, 20, "A")], collar=0)
    assert score.rate == 0.0
    assert score.mapping == {"B": "A", "A": "B"}


def test_late_speaker_change_is_confusion():
    """The change is placed 2 s late: 2 of 20 s go to the wrong speaker."""
    score = der(TWO, [Turn(0, 12, "x"), Turn(12, 20, "y")], collar=0)
    assert score.confusion == pytest.approx(2.0)
    assert score.missed == score.false_alarm == 0.0
    assert score.rate == pytest.approx(0.1)


def test_one_label_for_two_speakers_confuses_the_smaller_one():
    score = der([Turn(0, 15, "A"), Turn(15, 20, "B")], [Turn(0, 20, "S1")], collar=0)
    assert score.mapping == {"S1": "A"}
    assert score.confusion == pytest.approx(5.0) and score.rate == pytest.approx(0.25)


def test_one_speaker_split_in_two_labels():
    score = der([Turn(0, 20, "A")], [Turn(0, 12, "S1"), Turn(12, 20, "S2")], collar=0)
    assert score.mapping == {"S1": "A"}
    assert score.confusion == pytest.approx(8.0) and score.rate == pytest.approx(0.4)


def test_speech_where_nobody_talks_is_false_alarm():
    score = der([Turn(0, 10, "A")], [Turn(0, 10, "S1"), Turn(12, 14, "S1")], collar=0)
    assert score.false_alarm == pytest.approx(2.0)
    assert score.rate == pytest.approx(0.2)


def test_collar_forgives_boundaries_within_it():
    shifted = [Turn(0, 10.2, "x"), Turn(10.2, 20, "y")]
    assert der(TWO, shifted, collar=0).rate == pytest.approx(0.2 / 20)
    assert der(TWO, shifted, collar=0.25).rate == 0.0


def test_collar_removes_its_span_around_every_reference_boundary():
    """±0.25 s around 0, 10 and 20 is not scored: 19 s remain, and a change placed 0.5 s late
    is wrong for the 0.25 s outside the collar."""
    score = der(TWO, [Turn(0, 10.5, "x"), Turn(10.5, 20, "y")], collar=0.25)
    assert score.total == pytest.approx(19.0)
    assert score.confusion == pytest.approx(0.25)
    assert score.rate == pytest.approx(0.25 / 19)


def test_collar_is_not_applied_around_hypothesis_boundaries():
    """A 0.3-s false alarm far from any true boundary is scored whatever the collar."""
    score = der([Turn(0, 10, "A")], [Turn(0, 10, "S1"), Turn(15, 15.3, "S1")], collar=0.25)
    assert score.false_alarm == pytest.approx(0.3)


def test_cross_talk_is_missed_by_a_one_label_hypothesis():
    reference = [Turn(0, 10, "A"), Turn(5, 10, "B")]
    score = der(reference, [Turn(0, 10, "S1")], collar=0)
    assert score.total == pytest.approx(15.0)
    assert score.missed == pytest.approx(5.0) and score.rate == pytest.approx(1 / 3)
    assert der(reference, [Turn(0, 10, "S1")], collar=0, skip_overlap=True).rate == 0.0


def test_a_speaker_counts_once_where_their_own_turns_overlap():
    score = der([Turn(0, 6, "A"), Turn(4, 10, "A")], [Turn(0, 10, "S1")], collar=0)
    assert score.total == pytest.approx(10.0) and score.rate == 0.0


def test_no_collar_where_a_speaker_goes_on_talking():
    """A's turns 0-5 and 5-10 join: collars only around 0, 10 and 20."""
    reference = [Turn(0, 5, "A"), Turn(5, 10, "A"), Turn(10, 20, "B")]
    assert der(reference, [Turn(0, 10, "S1"), Turn(10, 20, "S2")], collar=0.25).total == pytest.approx(19.0)


def test_no_reference_speech():
    assert der([], [], collar=0).rate == 0.0
    assert der([], [Turn(0, 1, "S1")], collar=0).rate == 1.0


def test_pool_sums_seconds_before_dividing():
    short = der([Turn(0, 10, "A")], [], collar=0)                     # 10 of 10 s missed
    long_ = der([Turn(0, 90, "A")], [Turn(0, 90, "S1")], collar=0)   # perfect on 90 s
    pooled = DerScore.pool([short, long_])
    assert pooled.total == 100.0 and pooled.rate == pytest.approx(0.1)
    assert pooled.to_dict()["der"] == pytest.approx(0.1)


def test_invalid_input_is_refused():
    with pytest.raises(ValueError):
        Turn(5, 4, "A")
    with pytest.raises(ValueError):
        der(TWO, TWO, collar=-1)


def test_truth_rows_become_turns():
    rows = [{"speaker": "A", "start": 0.5, "end": 2.0, "text": "Hello."}]
    assert dm.turns_from_dicts(rows) == [Turn(0.5, 2.0, "A")]


# ---------------------------------------------------------------- against pyannote.metrics


def _bench_extra() -> list[str]:
    with open(_ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]["optional-dependencies"].get("bench", [])


def _pyannote():
    """pyannote.core and the DER class; skipped only when the bench extra does not ask for it."""
    try:
        from pyannote import core
        from pyannote.metrics.diarization import DiarizationErrorRate
    except ImportError:
        if any(req.startswith("pyannote.metrics") for req in _bench_extra()):
            pytest.fail("pyannote.metrics is in the bench extra but not installed: run make setup")
        pytest.skip("pyannote.metrics is not installed")
    return core, DiarizationErrorRate


def _random_turns(rng: np.random.Generator, speakers: list[str], count: int, overlap: bool) -> list:
    """Turns with millisecond times; each speaker's own turns never overlap each other."""
    turns, t = [], 0.0
    for _ in range(count):
        t += float(rng.choice([0.0, 0.1, 0.3, 0.8, 2.0]))
        length = round(float(rng.uniform(0.2, 6.0)), 3)
        start = round(t - (float(rng.uniform(0, 1.5)) if overlap and turns and rng.random() < 0.3 else 0), 3)
        speaker = str(rng.choice(speakers))
        if turns and turns[-1].speaker == speaker:
            start = max(start, turns[-1].end)
        turns.append(Turn(max(0.0, start), round(max(0.0, start) + length, 3), speaker))
        t = turns[-1].end
    return turns


def _annotation(core, turns: list):
    annotation = core.Annotation()
    for i, turn in enumerate(turns):
        annotation[core.Segment(turn.start, turn.end), i] = turn.speaker
    return annotation.support()  # one track per stretch of a speaker, as der() counts them


@pytest.mark.parametrize("seed", range(12))
def test_agrees_with_pyannote_metrics(seed):
    core, DiarizationErrorRate = _pyannote()
    rng = np.random.default_rng(seed)
    reference = _random_turns(rng, ["A", "B", "C"][: 2 + seed % 2], 30, overlap=seed % 3 == 0)
    hypothesis = _random_turns(rng, ["S1", "S2", "S3", "S4"][: 1 + seed % 4], 35, overlap=seed % 4 == 1)
    ref, hyp = _annotation(core, reference), _annotation(core, hypothesis)
    uem = core.Timeline([core.Segment(0, max(t.end for t in reference + hypothesis) + 1)])
    for collar in (0.0, 0.25, 0.5):
        for skip_overlap in (False, True):
            ours = der(reference, hypothesis, collar=collar, skip_overlap=skip_overlap)
            # pyannote's collar is the whole width of the unscored zone, ours is each side of it
            theirs = DiarizationErrorRate(collar=2 * collar, skip_overlap=skip_overlap)(ref, hyp, uem=uem,
                                                                                      detailed=True)
            assert ours.total == pytest.approx(theirs["total"], abs=1e-6)
            assert ours.missed == pytest.approx(theirs["missed detection"], abs=1e-6)
            assert ours.false_alarm == pytest.approx(theirs["false alarm"], abs=1e-6)
            assert ours.confusion == pytest.approx(theirs["confusion"], abs=1e-6)
            assert ours.rate == pytest.approx(theirs["diarization error rate"], abs=1e-9)
