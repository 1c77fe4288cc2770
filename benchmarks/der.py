"""Diarization error rate (DER) of speaker turns against the true turns.

Pure functions, no I/O, no optional packages (scipy only, which scikit-learn brings):

    reference  = [Turn(0.5, 7.2, "A"), Turn(7.6, 8.1, "B"), ...]     # the truth
    hypothesis = [Turn(0.4, 7.5, "S1"), Turn(7.5, 8.3, "S2"), ...]   # the diarizer's turns
    score = der(reference, hypothesis)          # collar 0.25 s, overlap scored
    score.rate, score.missed, score.false_alarm, score.confusion, score.total
    pooled = DerScore.pool([score1, score2])    # seconds summed over episodes, then divided

    DER = (missed speech + false alarm + speaker confusion) / total reference speech

all in seconds of the scored time.  The timeline is cut at every turn boundary; within each
piece, R reference and H hypothesis speakers talk, and the piece (of length d) adds
    d · R                        to the total reference speech,
    d · max(0, R - H)            to missed speech,
    d · max(0, H - R)            to false alarm,
    d · (min(R, H) - correct)    to speaker confusion,
where correct counts the hypothesis speakers in the piece whose mapped reference speaker is
also in it.  The mapping is the one-to-one assignment of hypothesis to reference labels that
maximises the total time they talk together (the Hungarian algorithm,
``scipy.optimize.linear_sum_assignment``); labels left without a partner are never correct.
So a diarizer is not penalised for naming speakers differently, and a reference speaker
split into two hypothesis labels is confused wherever the unmapped label is used.
Overlapping speech counts once per speaker, so a diarizer that gives one label at a time
misses the second voice of cross-talk.

Collar: true boundaries are uncertain by a few hundred milliseconds (here the truth is
sample-exact, but a diarizer that works on 0.4-s hops cannot be), so the time within
``collar`` seconds on either side of every reference turn's start and end is not scored at
all, as NIST's md-eval does with ``-c 0.25``.  A speaker's own turns that touch or overlap
are joined first: there is no boundary where the same person goes on talking (pyannote.metrics
counts such a speaker twice; tests/benchmarks/test_der.py joins them before comparing).
pyannote.metrics takes the collar's whole width instead: ``der(ref, hyp, collar=0.25)``
equals its ``DiarizationErrorRate(collar=0.5)``.  ``collar=0`` scores every instant.
``skip_overlap=True`` leaves out the time where two or more reference speakers talk.

With no reference speech at all, the rate is 0 when the hypothesis is silent too and 1 when
it is not (as pyannote.metrics does).
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass
from typing import Iterable, Protocol, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

DEFAULT_COLLAR = 0.25


class TurnLike(Protocol):
    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: str

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"turn ends before it starts: {self.start} > {self.end}")


def turns_from_dicts(rows: Iterable[dict]) -> list[Turn]:
    """``[{"speaker", "start", "end", ...}]`` (as in a truth file) to turns."""
    return [Turn(float(r["start"]), float(r["end"]), str(r["speaker"])) for r in rows]


@dataclass(frozen=True)
class DerScore:
    """Seconds of each kind of error, and of scored reference speech."""
    missed: float
    false_alarm: float
    confusion: float
    total: float
    mapping: dict[str, str]  # hypothesis label -> reference label

    @property
    def errors(self) -> float:
        return self.missed + self.false_alarm + self.confusion

    @property
    def rate(self) -> float:
        if self.total == 0:
            return 0.0 if self.errors == 0 else 1.0
        return self.errors / self.total

    @staticmethod
    def pool(scores: Sequence[DerScore]) -> DerScore:
        """One score over several episodes: every kind of error summed, then divided by the summed
        total, so a long episode weighs more than a short one (not a mean of rates)."""
        return DerScore(sum(s.missed for s in scores), sum(s.false_alarm for s in scores),
                        sum(s.confusion for s in scores), sum(s.total for s in scores), {})

    def to_dict(self) -> dict:
        return {**asdict(self), "der": self.rate}


# --------------------------------------------------------------------------- intervals


def _merged(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, non-overlapping union of the spans (empty ones dropped)."""
    out: list[tuple[float, float]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _by_speaker(turns: Sequence[TurnLike]) -> dict[str, list[tuple[float, float]]]:
    spans: dict[str, list[tuple[float, float]]] = {}
    for turn in turns:
        spans.setdefault(turn.speaker, []).append((float(turn.start), float(turn.end)))
    return {speaker: _merged(s) for speaker, s in spans.items()}


def _covers(spans: list[tuple[float, float]], starts: list[float], t: float) -> bool:
    """Whether T lies inside one of the merged SPANS (STARTS: their start times)."""
    i = bisect.bisect_right(starts, t) - 1
    return i >= 0 and spans[i][0] <= t < spans[i][1]


class _Speakers:
    """Who talks at an instant, for one side (reference or hypothesis)."""

    def __init__(self, turns: Sequence[TurnLike]):
        self.labels = sorted({t.speaker for t in turns})
        self._spans = _by_speaker(turns)
        self._starts = {s: [a for a, _ in spans] for s, spans in self._spans.items()}

    def at(self, t: float) -> list[int]:
        """Indexes into ``labels`` of the speakers talking at T."""
        return [i for i, s in enumerate(self.labels) if _covers(self._spans[s], self._starts[s], t)]


def _pieces(reference: Sequence[TurnLike], hypothesis: Sequence[TurnLike],
            collar: float) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """The timeline cut at every boundary into (start, end) pieces, and the unscored collar zones."""
    ref_edges = [t for spans in _by_speaker(reference).values() for span in spans for t in span]
    zones = _merged((t - collar, t + collar) for t in ref_edges) if collar > 0 else []
    cuts = sorted({*ref_edges, *(t for turn in hypothesis for t in (float(turn.start), float(turn.end))),
                   *(t for zone in zones for t in zone)})
    return list(zip(cuts, cuts[1:])), zones


# --------------------------------------------------------------------------- DER


def der(reference: Sequence[TurnLike], hypothesis: Sequence[TurnLike], collar: float = DEFAULT_COLLAR,
        skip_overlap: bool = False) -> DerScore:
    """Score HYPOTHESIS against REFERENCE (any objects with start, end and speaker); see the module doc."""
    if collar < 0:
        raise ValueError(f"collar must be >= 0, not {collar}")
    ref, hyp = _Speakers(reference), _Speakers(hypothesis)
    pieces, zones = _pieces(reference, hypothesis, collar)
    zone_starts = [a for a, _ in zones]
    scored: list[tuple[float, list[int], list[int]]] = []  # (seconds, ref speakers, hyp speakers)
    together = np.zeros((len(ref.labels), len(hyp.labels)))  # seconds each pair talks at once
    for start, end in pieces:
        middle = (start + end) / 2
        if _covers(zones, zone_starts, middle):
            continue
        r, h = ref.at(middle), hyp.at(middle)
        if (skip_overlap and len(r) > 1) or not (r or h):
            continue
        scored.append((end - start, r, h))
        together[np.ix_(r, h)] += end - start
    mapping = _optimal_mapping(together)
    missed = false_alarm = confusion = total = 0.0
    for seconds, r, h in scored:
        correct = sum(1 for j in h if mapping.get(j) in r)
        total += seconds * len(r)
        missed += seconds * max(0, len(r) - len(h))
        false_alarm += seconds * max(0, len(h) - len(r))
        confusion += seconds * (min(len(r), len(h)) - correct)
    labels = {hyp.labels[j]: ref.labels[i] for j, i in mapping.items()}
    return DerScore(missed, false_alarm, confusion, total, labels)


def _optimal_mapping(together: np.ndarray) -> dict[int, int]:
    """Hypothesis index -> reference index, one to one, maximising the time matched; pairs that
    never talk together are left out (they would match nothing)."""
    if together.size == 0:
        return {}
    rows, cols = linear_sum_assignment(together, maximize=True)
    return {int(j): int(i) for i, j in zip(rows, cols) if together[i, j] > 0}
