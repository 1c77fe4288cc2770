"""Transcript in, explained highlights out: the one entry point of the highlights stage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pipeline.core.settings import LLMSettings
from pipeline.core.errors import HighlightError
from pipeline.highlights.candidates import enumerate_candidates
from pipeline.highlights.energy import EnergyEnvelope
from pipeline.highlights.features import analyse
from pipeline.highlights.options import HighlightOptions
from pipeline.highlights.scoring import ScoredCandidates, score_candidates
from pipeline.highlights.select import Highlight, build_highlight, select
from pipeline.highlights.timeline import Timeline, build_timeline
from pipeline.transcribe.base import TranscriptResult


@dataclass
class MiningResult:
    highlights: list[Highlight]
    candidates: int
    language: str
    timing: str  # "words" or "segments"
    duration: float
    keywords: list[str]
    notes: list[str] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)
    timeline: Timeline | None = None

    def to_dict(self) -> dict:
        return {
            "language": self.language, "timing": self.timing, "duration": round(self.duration, 3),
            "candidates": self.candidates, "keywords": self.keywords, "notes": self.notes,
            "weights": {k: round(v, 4) for k, v in self.weights.items()},
            "highlights": [h.to_dict() for h in self.highlights],
        }


def mine_highlights(transcript: TranscriptResult, options: HighlightOptions | None = None, *,
                    energy: EnergyEnvelope | None = None, llm: LLMSettings | None = None,
                    source: str | None = None) -> MiningResult:
    """Score every sentence-bounded window of ``transcript`` and pick the best, spread out."""
    options = options or HighlightOptions()
    timeline = build_timeline(transcript, options)
    if not timeline.sentences:
        raise HighlightError("transcript has no words to mine (empty transcript)", source=source)
    facts = analyse(timeline, energy)
    candidates = enumerate_candidates(timeline, options, energy)
    scored = score_candidates(candidates, facts, options)
    result = MiningResult([], len(candidates), timeline.language, timeline.timing, timeline.duration,
                          facts.keywords, timeline.warnings + facts.notes, options.weights.normalized(), timeline)
    if not candidates:
        result.notes.append(_no_candidates_message(timeline, options))
        return result
    if llm is not None and llm.enabled:
        result.highlights = _with_llm(scored, facts, options, timeline, llm, result.notes)
    else:
        picks = select(scored, options, timeline.duration, options.top)
        result.highlights = [build_highlight(r + 1, i, scored, facts, options.weights, timeline.language)
                             for r, i in enumerate(picks)]
    return result


def _no_candidates_message(timeline: Timeline, options: HighlightOptions) -> str:
    speech = timeline.sentences[-1].end - timeline.sentences[0].start
    if speech < options.min_seconds:
        return (f"no highlights: the episode has {speech:.1f} s of speech, less than the "
                f"{options.min_seconds:g} s minimum clip length")
    return (f"no highlights: no run of whole sentences fits {options.min_seconds:g}–{options.max_seconds:g} s "
            "(try a different --min/--max)")


def _with_llm(scored: ScoredCandidates, facts, options: HighlightOptions, timeline: Timeline,
              llm: LLMSettings, notes: list[str]) -> list[Highlight]:
    """Let the model re-rank a diverse shortlist; any failure falls back to the feature ranking."""
    from pipeline.highlights.llm import LLMCandidate, LLMScorerError, rerank

    shortlist = select(scored, options, timeline.duration, max(options.top, llm.max_candidates))
    built = [build_highlight(0, i, scored, facts, options.weights, timeline.language) for i in shortlist]
    try:
        verdicts = rerank([LLMCandidate(k, h.text, h.start, h.end, h.score) for k, h in enumerate(built)],
                          llm, language=timeline.language)
    except LLMScorerError as exc:
        notes.append(f"LLM scorer not used ({exc}); ranked by explained features only")
        verdicts = []
    for verdict in verdicts:
        highlight = built[verdict.id]
        highlight.llm = asdict(verdict)
        highlight.score = (1 - llm.weight) * highlight.score + llm.weight * verdict.score
        highlight.title = verdict.title or highlight.title
        if verdict.reason:
            highlight.reasons = [f"LLM: {verdict.reason}"] + highlight.reasons[:-1]
    ranked = sorted(built, key=lambda h: -h.score)[: options.top]
    for rank, highlight in enumerate(ranked, 1):
        highlight.rank = rank
    return ranked
