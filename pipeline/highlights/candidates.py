"""Candidate windows from sentence boundaries, with clean cut points.

A candidate runs from the first word of one sentence to the last word of a
later one. Its cut points sit in the pauses around those words: at least
``lead_min`` before the first word and ``tail_min`` after the last when the
pause is that long, at the quietest frame of the allowed stretch when audio
energy is known, and never inside any word. ``clean_cut_violations`` states
the invariants; tests and the evaluation harness both check them.

Whisper's word times are often 0.1–0.3 s early or late, so with the audio at hand a cut is
placed from the audio's own pause at that boundary: the longest quiet run whose edge (where
speech resumes, for a start; where it stops, for an end) lies within ``WORD_TIME_ERROR`` of
the word time. The cut keeps its lead or tail inside that pause and ``EDGE_GUARD`` away from
the speech; a pause too short for both is split rather than crossed. Such an edge is "heard":
the word-time rules do not apply to it, the audio decides. A sentence boundary where the audio
shows no pause at all (the ASR ended a sentence at a comma said in one breath) is not a cut
point. Without trustworthy pauses anywhere (no audio, a music bed) the word times decide as
before.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from pipeline.highlights.energy import EnergyEnvelope
from pipeline.highlights.options import HighlightOptions
from pipeline.highlights.timeline import Timeline, TimedWord

# Timings are stored to the millisecond; comparisons allow for that rounding.
EPSILON = 1e-3
# How far Whisper's word times may be from the audio's own speech edges.
WORD_TIME_ERROR = 0.35
# A cut keeps this far from the pause's edge: the clip's edge fade (20 ms) covers only silence, with
# room for the 10 ms loudness frames and the quiet decay of the last syllable.
EDGE_GUARD = 0.05
START, END = "start", "end"


@dataclass(frozen=True)
class Cut:
    start: float
    end: float
    # The edges ("start", "end") placed from the audio's own pause rather than from the word times.
    heard: frozenset[str] = frozenset()

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Candidate:
    first: int  # index of the first sentence
    last: int  # index of the last sentence (inclusive)
    cut: Cut


def heard_start(first_word: float, options: HighlightOptions, energy: EnergyEnvelope | None) -> float | None:
    """Start cut from the audio's pause before the first word, or None when the audio shows none."""
    return _heard_cut(START, first_word, options.lead_min, options.lead_max, energy)


def heard_end(last_word: float, options: HighlightOptions, energy: EnergyEnvelope | None) -> float | None:
    """End cut from the audio's pause after the last word, or None when the audio shows none."""
    return _heard_cut(END, last_word, options.tail_min, options.tail_max, energy)


def _heard_cut(side: str, word_time: float, keep_min: float, keep_max: float, energy: EnergyEnvelope | None):
    """A cut inside the pause where speech resumes (``side`` START) or stops (END), keeping ``keep_min``–
    ``keep_max`` of it, split in two when it is too short, and EDGE_GUARD away from the speech."""
    edge = "end" if side == START else "start"  # the end of the pause before a start, the start of one after an end
    pause = None if energy is None else energy.pause_near(edge, word_time, WORD_TIME_ERROR)
    if pause is None:
        return None
    length = pause[1] - pause[0]
    keep = min((keep_min + keep_max) / 2, max(length / 2, min(keep_min, length - EDGE_GUARD)))
    # Rounded to the millisecond towards the pause's inside.
    if side == START:
        return float(np.ceil((pause[1] - keep) * 1000) / 1000)
    return float(np.floor((pause[0] + keep) * 1000) / 1000)


def place_start(first_word: float, previous_end: float, options: HighlightOptions, energy: EnergyEnvelope | None) -> float:
    """Start cut in the pause before the first word (``previous_end`` is 0 at the episode start)."""
    gap = first_word - previous_end
    if gap >= options.lead_min:
        low, high = max(previous_end, first_word - options.lead_max), first_word - options.lead_min
        target = max(low, first_word - (options.lead_min + options.lead_max) / 2)
    else:
        low, high = previous_end, first_word
        target = previous_end + gap / 2
    return _snap(low, high, target, energy)


def place_end(last_word: float, next_start: float, options: HighlightOptions, energy: EnergyEnvelope | None) -> float:
    """End cut in the pause after the last word (``next_start`` is the duration at the episode end)."""
    gap = next_start - last_word
    if gap >= options.tail_min:
        low, high = last_word + options.tail_min, min(next_start, last_word + options.tail_max)
        target = min(high, last_word + (options.tail_min + options.tail_max) / 2)
    else:
        low, high = last_word, max(last_word, next_start)
        target = last_word + max(gap, 0.0) / 2
    return _snap(low, high, target, energy)


def _snap(low: float, high: float, target: float, energy: EnergyEnvelope | None) -> float:
    if energy is None or high - low < 0.02:
        return round(target, 3)
    # Round inwards so millisecond storage cannot push a cut outside its pause.
    return float(np.clip(round(energy.quietest(low, high, target), 3), np.ceil(low * 1000) / 1000, np.floor(high * 1000) / 1000))


def cut_points(timeline: Timeline, options: HighlightOptions, energy: EnergyEnvelope | None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Start cut before each sentence and end cut after each sentence, and whether each was heard."""
    s = timeline.sentences
    heard_starts = [_within(heard_start(s[i].start, options, energy), timeline.duration) for i in range(len(s))]
    heard_ends = [_within(heard_end(s[i].end, options, energy), timeline.duration) for i in range(len(s))]
    starts = np.array([
        heard if heard is not None else place_start(s[i].start, s[i - 1].end if i else 0.0, options, energy)
        for i, heard in enumerate(heard_starts)
    ])
    ends = np.array([
        heard if heard is not None
        else place_end(s[i].end, s[i + 1].start if i + 1 < len(s) else timeline.duration, options, energy)
        for i, heard in enumerate(heard_ends)
    ])
    return starts, ends, np.array([h is not None for h in heard_starts]), np.array([h is not None for h in heard_ends])


def _within(cut: float | None, duration: float) -> float | None:
    """A heard cut inside the episode, or None (a pause found past either end is no cut point)."""
    return cut if cut is not None and 0.0 <= cut <= duration else None


def enumerate_candidates(timeline: Timeline, options: HighlightOptions, energy: EnergyEnvelope | None) -> list[Candidate]:
    """Every sentence-bounded window whose cut length is within [min_seconds, max_seconds]."""
    sentences = timeline.sentences
    if not sentences:
        return []
    starts, ends, start_heard, end_heard = cut_points(timeline, options, energy)
    can_start = np.array([not s.continues_previous for s in sentences])
    can_end = np.array([not s.continues_next for s in sentences])
    if energy is not None and energy.pauses[0].size:  # the audio shows pauses: cut only where it has one
        inner = np.arange(len(sentences))
        can_start &= start_heard | (inner == 0)
        can_end &= end_heard | (inner == len(sentences) - 1)
    # Heard ends can be a little out of order (two short sentences, one pause): search a running maximum.
    rising = np.maximum.accumulate(ends)
    out: list[Candidate] = []
    for i, start in enumerate(starts):
        if not can_start[i]:
            continue
        low = np.searchsorted(rising, start + options.min_seconds, side="left")
        high = np.searchsorted(rising, start + options.max_seconds, side="right")
        for j in range(max(low, i), high):
            if can_end[j] and options.min_seconds <= ends[j] - start <= options.max_seconds:
                heard = frozenset(edge for edge, yes in ((START, start_heard[i]), (END, end_heard[j])) if yes)
                out.append(Candidate(i, j, Cut(float(start), float(ends[j]), heard)))
    return out


def clean_cut_violations(cut: Cut, first: int, last: int, timeline: Timeline, options: HighlightOptions) -> list[str]:
    """Every clean-cut rule ``cut`` breaks for sentences ``first..last`` (empty when clean)."""
    sentences, problems = timeline.sentences, []
    first_word, last_word = sentences[first].words[0], sentences[last].words[-1]
    previous_end = sentences[first - 1].end if first else 0.0
    next_start = sentences[last + 1].start if last + 1 < len(sentences) else timeline.duration
    by_words = {START: START not in cut.heard, END: END not in cut.heard}  # heard edges follow the audio instead
    if by_words[START] and cut.start > first_word.start + EPSILON:
        problems.append(f"starts at {cut.start:.3f} s, after its first word ({first_word.start:.3f} s)")
    if by_words[END] and cut.end < last_word.end - EPSILON:
        problems.append(f"ends at {cut.end:.3f} s, before its last word ends ({last_word.end:.3f} s)")
    problems += [f"cuts inside the word {w.text!r} at {t:.3f} s" for edge, t in ((START, cut.start), (END, cut.end))
                 if by_words[edge] for w in _words_spanning(timeline.words, t)]
    if by_words[START] and first_word.start - previous_end >= options.lead_min \
            and first_word.start - cut.start < options.lead_min - EPSILON:
        problems.append(f"lead {first_word.start - cut.start:.3f} s is below {options.lead_min} s although the pause allows it")
    if by_words[END] and next_start - last_word.end >= options.tail_min and cut.end - last_word.end < options.tail_min - EPSILON:
        problems.append(f"tail {cut.end - last_word.end:.3f} s is below {options.tail_min} s although the pause allows it")
    if sentences[first].continues_previous:
        problems.append("starts in the middle of a sentence")
    if sentences[last].continues_next:
        problems.append("ends before its sentence ends")
    if cut.start < -EPSILON or cut.end > timeline.duration + EPSILON:
        problems.append(f"cut {cut.start:.3f}–{cut.end:.3f} s falls outside the episode (0–{timeline.duration:.3f} s)")
    if not options.min_seconds - EPSILON <= cut.seconds <= options.max_seconds + EPSILON:
        problems.append(f"length {cut.seconds:.2f} s is outside {options.min_seconds:g}–{options.max_seconds:g} s")
    return problems


def _words_spanning(words: list[TimedWord], t: float) -> list[TimedWord]:
    # Words are monotonic, so only the last word starting before t can span it.
    index = bisect.bisect_left([w.start for w in words], t - EPSILON) - 1
    return [w for w in words[max(index, 0) : index + 1] if w.start + EPSILON < t < w.end - EPSILON]
