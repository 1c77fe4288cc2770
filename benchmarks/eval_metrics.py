"""Metrics for highlight mining against the labelled set from scripts/make_eval_set.py.

Pure functions, no I/O: the caller loads the truth files and the miner's output.

    predictions = {"ep01": [Span(78.1, 111.0), ...]}   # ranked best-first per episode
    truths      = {"ep01": [Span(78.638, 110.7), ...]}  # the planted moments
    report = evaluate(predictions, truths)              # recall@5, recall@10, boundary error
    report.to_dict()

Matching: at cut-off k, every (prediction in the top k, moment) pair with IoU >= the
threshold is a candidate; candidates are taken greedily by IoU (ties: better-ranked
prediction first, then earlier moment), and each prediction and each moment is used
at most once.  A moment is found at k when it is matched that way.  The boundary
error uses the matches made at k = 10.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

@dataclass(frozen=True)
class Span:
    start: float
    end: float

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"span ends before it starts: {self.start} > {self.end}")

    @property
    def length(self) -> float:
        return self.end - self.start


def iou(a: Span, b: Span) -> float:
    """Intersection over union of two time spans (0.0 when they do not overlap)."""
    inter = min(a.end, b.end) - max(a.start, b.start)
    if inter <= 0:
        return 0.0
    union = a.length + b.length - inter
    return inter / union if union > 0 else 0.0


@dataclass
class Match:
    moment: int        # index into the episode's truth list
    rank: int          # 1-based rank of the prediction
    iou: float
    start_error: float  # prediction.start - moment.start (seconds, signed)
    end_error: float    # prediction.end - moment.end

    @property
    def boundary_error(self) -> float:
        return (abs(self.start_error) + abs(self.end_error)) / 2


@dataclass
class EpisodeEval:
    episode: str
    moments: int
    predictions: int
    found_at_5: int
    found_at_10: int
    matches: list[Match] = field(default_factory=list)  # made at k = 10, by moment index

    @property
    def mean_boundary_error(self) -> float | None:
        if not self.matches:
            return None
        return sum(m.boundary_error for m in self.matches) / len(self.matches)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mean_boundary_error"] = self.mean_boundary_error
        for m, md in zip(self.matches, d["matches"]):
            md["boundary_error"] = m.boundary_error
        return d


@dataclass
class EvalReport:
    recall_at_5: float
    recall_at_10: float
    mean_boundary_error: float | None  # seconds; None when nothing matched
    matched: int                       # moments found at k = 10
    moments: int
    clean_cut_share: float | None
    iou_threshold: float
    per_episode: list[EpisodeEval] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "recall_at_5": self.recall_at_5,
            "recall_at_10": self.recall_at_10,
            "mean_boundary_error": self.mean_boundary_error,
            "matched": self.matched,
            "moments": self.moments,
            "clean_cut_share": self.clean_cut_share,
            "iou_threshold": self.iou_threshold,
            "per_episode": [e.to_dict() for e in self.per_episode],
        }


def _greedy_match(predictions: list[Span], truths: list[Span], threshold: float) -> list[Match]:
    """One-to-one matches between PREDICTIONS (ranked) and TRUTHS, greedy by IoU."""
    candidates = []
    for p_idx, pred in enumerate(predictions):
        for t_idx, truth in enumerate(truths):
            score = iou(pred, truth)
            if score >= threshold:
                candidates.append((-score, p_idx, t_idx))
    candidates.sort()
    used_p: set[int] = set()
    used_t: set[int] = set()
    matches = []
    for neg_score, p_idx, t_idx in candidates:
        if p_idx in used_p or t_idx in used_t:
            continue
        used_p.add(p_idx)
        used_t.add(t_idx)
        pred, truth = predictions[p_idx], truths[t_idx]
        matches.append(Match(moment=t_idx, rank=p_idx + 1, iou=-neg_score,
                             start_error=pred.start - truth.start, end_error=pred.end - truth.end))
    return sorted(matches, key=lambda m: m.moment)


def evaluate(predictions: dict[str, list[Span]], truths: dict[str, list[Span]], *,
             iou_threshold: float = 0.5, clean_cut_share: float | None = None) -> EvalReport:
    """Score ranked PREDICTIONS against TRUTHS (both keyed by episode id).

    An episode missing from PREDICTIONS counts as predicting nothing; a prediction
    for an episode not in TRUTHS is an error (most likely a naming mismatch).
    """
    if not 0 < iou_threshold <= 1:
        raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold}")
    if clean_cut_share is not None and not 0 <= clean_cut_share <= 1:
        raise ValueError(f"clean_cut_share must be in [0, 1], got {clean_cut_share}")
    unknown = sorted(set(predictions) - set(truths))
    if unknown:
        raise ValueError(f"predictions for episodes without truth: {', '.join(unknown)}")

    per_episode = []
    for episode in sorted(truths):
        moments = list(truths[episode])
        ranked = list(predictions.get(episode, []))
        at_5 = _greedy_match(ranked[:5], moments, iou_threshold)
        at_10 = _greedy_match(ranked[:10], moments, iou_threshold)
        per_episode.append(EpisodeEval(
            episode=episode, moments=len(moments), predictions=len(ranked),
            found_at_5=len(at_5), found_at_10=len(at_10), matches=at_10,
        ))

    total = sum(e.moments for e in per_episode)
    if total == 0:
        raise ValueError("no truth moments to evaluate against")
    matches = [m for e in per_episode for m in e.matches]
    return EvalReport(
        recall_at_5=sum(e.found_at_5 for e in per_episode) / total,
        recall_at_10=sum(e.found_at_10 for e in per_episode) / total,
        mean_boundary_error=(sum(m.boundary_error for m in matches) / len(matches)) if matches else None,
        matched=len(matches),
        moments=total,
        clean_cut_share=clean_cut_share,
        iou_threshold=iou_threshold,
        per_episode=per_episode,
    )
