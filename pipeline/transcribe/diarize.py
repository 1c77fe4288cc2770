"""Who is speaking: speaker turns from voice embeddings, offline.

Resemblyzer's voice encoder (its weights ship inside the PyPI wheel, so nothing is fetched; run with
numpy by ``voice_encoder``) embeds
a 1.6-s window of speech every ``hop`` seconds. Neighbouring windows are averaged into points, the
points are clustered by spectral clustering (Google's ``spectralcluster`` in the configuration of
its "Turn-to-Diarize" paper: row-wise thresholding with the threshold auto-tuned per episode and a
graph-cut Laplacian), every window goes to its nearest speaker centroid, and short flickers are
smoothed away before the windows become turns. Measured on the generated shows, this configuration
told one voice in two registers from two voices, where the fixed-threshold one split it in two.

The number of speakers is the client profile's when it gives one. Otherwise it is estimated a step at a
time, each step a measured criterion: one voice unless splitting the points in two raises their mean
similarity to their own centroid by ``one_voice_gain``; then the eigengap's count (2 or more), brought
down while the points' labels change faster than every ``min_voice_run`` seconds on average (on half a
minute of real speech the eigengap gave every few seconds a speaker of its own); then one
more voice while splitting into one more cluster raises that similarity by ``more_voices_gain`` and the
points' labels still run for ``min_voice_run`` seconds on average (the eigengap alone heard two similar
voices as one beside a third that differs from both). ``label_speakers`` then gives every word and
segment of a transcript the speaker of the turn it overlaps most.

Labels are "S1", "S2" … in order of first appearance, so the same audio always gets the same labels.
"""

from __future__ import annotations

import copy
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from pipeline.core.errors import ConfigError
from pipeline.transcribe.base import SAMPLE_RATE, Segment, TranscriptResult, Word
from pipeline.transcribe.vad import speech_chunks
from pipeline.transcribe.voice_encoder import load_encoder, mel_frames

# Resemblyzer's fixed framing (its hparams.py): 10-ms mel frames, 160 of them per embedding window.
MEL_STEP_SECONDS = 0.01
WINDOW_FRAMES = 160
WINDOW_SECONDS = WINDOW_FRAMES * MEL_STEP_SECONDS
# Windows sent through the encoder at once: bounds its scratch memory (~40 MB) on a long episode.
ENCODER_BATCH = 64
# Bumped when diarization changes its turns for the same audio and options, so transcripts are redone.
DIARIZE_REVISION = 3
# The most speakers a profile may declare or an estimate may find.
MAX_LABELS = 20
# spectralcluster's auto-tuner cannot work on fewer clustering points than this (about 4 s of speech): fewer
# are one voice when the number is estimated (too little to tell voices apart), else one speaker each.
MIN_POINTS_TO_COUNT = 3

ProgressCallback = Callable[[float], None]


@dataclass(frozen=True)
class DiarizeOptions:
    # How many people speak; None estimates it from the voices (1 to ``max_speakers``).
    speakers: int | None = None
    # The most speakers an estimate may find.
    max_speakers: int = 6
    # Seconds between two embedding windows: how finely a change of speaker is placed.
    hop: float = 0.4
    # Consecutive windows averaged into one clustering point (smoother voices, a smaller affinity matrix).
    block_windows: int = 3
    # Clustering points at most: a longer episode averages more windows per point, so the affinity
    # matrix (points²) stays a few tens of MB however long the episode is.
    max_points: int = 1500
    # Windows on each side that vote on a window's label: a one-window flicker is outvoted.
    smoothing_windows: int = 2
    # A turn shorter than this is given to its neighbour (seconds); shorter interjections are lost.
    min_turn: float = 0.6
    # When estimating: one voice unless splitting the points in two raises their mean similarity to their
    # own centroid by at least this much. Measured on the generated shows: one voice +0.008, two distinct
    # voices +0.03 to +0.06 (two near-identical male espeak voices +0.007: heard as one).
    one_voice_gain: float = 0.02
    # When estimating and two or more voices are found (the eigengap's count), one more voice while both of
    # the next two hold. Splitting the points into one more cluster raises their mean similarity to their own
    # centroid by at least this much. Measured on the tuned generated shows, 2 → 3: three voices +0.013 and
    # +0.013; two voices +0.008, +0.007 and -0.006 (a 25-s two-voice clip +0.022: see ``min_voice_run``);
    # 3 → 4 on the three-voice shows +0.004 and +0.009.
    more_voices_gain: float = 0.01
    # And the points' labels, in time order, stay the same for at least this many seconds on average: a
    # speaker holds the floor for a while, whereas splitting one voice in two (its registers, or the points
    # that straddle a change of speaker) flickers from point to point. Measured, 2 → 3: three voices 5.6 and
    # 5.2 s; two voices 3.4, 2.8 and 2.4 s (the 25-s clip 2.3 s); 3 → 4 on the three-voice shows 4.2 and 3.9 s.
    min_voice_run: float = 4.5

    def __post_init__(self) -> None:
        if self.speakers is not None and not 1 <= self.speakers <= MAX_LABELS:
            raise ConfigError(f"speakers must be between 1 and {MAX_LABELS}, not {self.speakers}")
        if not 1 <= self.max_speakers <= MAX_LABELS:
            raise ConfigError(f"max_speakers must be between 1 and {MAX_LABELS}, not {self.max_speakers}")
        if not 0.1 <= self.hop <= WINDOW_SECONDS:
            raise ConfigError(f"hop must be between 0.1 and {WINDOW_SECONDS} seconds, not {self.hop}")
        if self.block_windows < 1 or self.max_points < 10 or self.smoothing_windows < 0 or self.min_turn < 0:
            raise ConfigError("block_windows ≥ 1, max_points ≥ 10, smoothing_windows ≥ 0 and min_turn ≥ 0")
        if not 0 <= self.one_voice_gain < 1:
            raise ConfigError(f"one_voice_gain must be between 0 and 1, not {self.one_voice_gain}")
        if not 0 <= self.more_voices_gain < 1:
            raise ConfigError(f"more_voices_gain must be between 0 and 1, not {self.more_voices_gain}")
        if not self.min_voice_run >= 0:
            raise ConfigError(f"min_voice_run must be at least 0 seconds, not {self.min_voice_run}")


@dataclass(frozen=True)
class SpeakerTurn:
    start: float  # seconds
    end: float
    speaker: str  # "S1", "S2" …

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Windows:
    """Embedding windows over the speech: each window's centre, the speech chunk it belongs to, its embedding."""

    centres: np.ndarray  # seconds
    chunks: np.ndarray  # index into the speech chunks
    embeddings: np.ndarray  # (n, 256), L2-normed


def diarize(audio: np.ndarray, options: DiarizeOptions = DiarizeOptions(),
            progress: ProgressCallback | None = None, *, chunks: Sequence[dict] | None = None) -> list[SpeakerTurn]:
    """Speaker turns over 16 kHz mono float32 ``audio``; [] when nothing is said.

    ``chunks`` are speech spans in samples ([{"start", "end"}], as ``vad.speech_chunks`` gives);
    found here when not given. ``progress`` gets the seconds of speech embedded so far.
    """
    spans = [c for c in (speech_chunks(audio) if chunks is None else chunks) if c["end"] > c["start"]]
    if not spans:
        return []
    windows = embed_windows(audio, spans, options.hop, progress)
    labels = smooth(assign_speakers(windows, options), windows.chunks, options.smoothing_windows)
    return merge_short(to_turns(windows, labels, spans, options.hop), options.min_turn)


def embed_windows(audio: np.ndarray, spans: Sequence[dict], hop: float,
                  progress: ProgressCallback | None = None) -> Windows:
    """One embedding every ``hop`` seconds of each speech chunk (a chunk shorter than a window gets one)."""
    centres, owners, embeddings = [], [], []
    done = 0.0
    for index, span in enumerate(spans):
        piece = audio[span["start"]:span["end"]]
        starts = _window_starts(piece.size, hop)
        embeddings.append(_embed(piece, starts))
        offset = span["start"] / SAMPLE_RATE
        half = min(WINDOW_SECONDS, piece.size / SAMPLE_RATE) / 2
        centres.extend(offset + s * MEL_STEP_SECONDS + half for s in starts)
        owners.extend([index] * len(starts))
        done += piece.size / SAMPLE_RATE
        if progress:
            progress(done)
    return Windows(np.asarray(centres), np.asarray(owners), np.concatenate(embeddings))


def _window_starts(samples: int, hop: float) -> list[int]:
    """First mel frame of each window; the last window ends at the chunk's end."""
    frames = int(samples / (SAMPLE_RATE * MEL_STEP_SECONDS)) + 1
    step = max(1, round(hop / MEL_STEP_SECONDS))
    last = max(0, frames - WINDOW_FRAMES)
    starts = list(range(0, last + 1, step))
    if starts[-1] != last:
        starts.append(last)
    return starts


def _embed(piece: np.ndarray, starts: list[int]) -> np.ndarray:
    encoder = load_encoder()
    out = []
    # A batch at a time: the mel frames of one batch's stretch only, so a chunk of speech an hour
    # long never has its whole spectrogram (or STFT, 2 GB for an hour) in memory.
    for first in range(0, len(starts), ENCODER_BATCH):
        batch_starts = starts[first:first + ENCODER_BATCH]
        mel = mel_frames(piece, batch_starts[0], batch_starts[-1] - batch_starts[0] + WINDOW_FRAMES)
        out.append(encoder(np.stack([mel[s - batch_starts[0]:s - batch_starts[0] + WINDOW_FRAMES]
                                     for s in batch_starts])))
    return np.concatenate(out)


def assign_speakers(windows: Windows, options: DiarizeOptions) -> np.ndarray:
    """A speaker index per window: cluster averaged points, then each window to its nearest centroid."""
    points = _points(windows, options)
    point_labels = _cluster(points, options, _block(windows, options) * options.hop)
    centroids = np.stack([_normed(points[point_labels == k].mean(axis=0)) for k in np.unique(point_labels)])
    return np.argmax(windows.embeddings @ centroids.T, axis=1)


def _block(windows: Windows, options: DiarizeOptions) -> int:
    """Windows averaged into one point: ``block_windows``, more on an episode long enough to pass ``max_points``."""
    return max(options.block_windows, int(np.ceil(len(windows.centres) / options.max_points)))


def _points(windows: Windows, options: DiarizeOptions) -> np.ndarray:
    """Windows averaged in runs of ``_block`` inside one chunk (never across a silence), in time order."""
    block = _block(windows, options)
    members: list[np.ndarray] = []
    for chunk in np.unique(windows.chunks):
        indices = np.flatnonzero(windows.chunks == chunk)
        members.extend(indices[i:i + block] for i in range(0, indices.size, block))
    return np.stack([_normed(windows.embeddings[m].mean(axis=0)) for m in members])


def _cluster(points: np.ndarray, options: DiarizeOptions, point_seconds: float | None = None) -> np.ndarray:
    """A cluster index per point; ``points`` in time order, each ``point_seconds`` of speech
    (``block_windows`` × ``hop`` when not given)."""
    if options.speakers == 1 or len(points) < 2:
        return np.zeros(len(points), int)
    wanted = options.speakers
    most = min(wanted or options.max_speakers, len(points))
    if wanted and (wanted > most or len(points) < MIN_POINTS_TO_COUNT):
        return np.arange(len(points)) % wanted  # too few points to cluster: each point its own speaker
    if wanted:
        return _spectral(points, wanted, wanted)
    one = np.zeros(len(points), int)
    if len(points) < MIN_POINTS_TO_COUNT or most < 2 \
            or _cohesion(points, _spectral(points, 2, 2)) - _cohesion(points, one) < options.one_voice_gain:
        return one
    labels = _spectral(points, 2, most)
    if point_seconds is None:
        point_seconds = options.block_windows * options.hop
    # On a short stretch of real speech the eigengap can give every few seconds a speaker of its own: fewer
    # voices while the labels change faster than people hold the floor.
    while (found := len(np.unique(labels))) > 2 and _mean_run(labels) * point_seconds < options.min_voice_run:
        labels = _spectral(points, found - 1, found - 1)
    # The eigengap hears two similar voices as one when a third differs from both: one more voice at a time
    # while splitting into one more cluster both tightens the clusters and leaves speakers holding the floor.
    while (found := len(np.unique(labels))) < most:
        more = _spectral(points, found + 1, found + 1)
        if (len(np.unique(more)) <= found
                or _cohesion(points, more) - _cohesion(points, labels) < options.more_voices_gain
                or _mean_run(more) * point_seconds < options.min_voice_run):
            break
        labels = more
    return labels


def _mean_run(labels: np.ndarray) -> float:
    """Mean length, in points, of the runs of one label in ``labels``."""
    return labels.size / (1 + np.count_nonzero(labels[1:] != labels[:-1]))


def _cohesion(points: np.ndarray, labels: np.ndarray) -> float:
    """Mean cosine similarity of each point to its own cluster's centroid."""
    names, index = np.unique(labels, return_inverse=True)
    centroids = np.stack([_normed(points[labels == k].mean(axis=0)) for k in names])
    return float(np.mean(np.sum(points * centroids[index], axis=1)))


def _spectral(points: np.ndarray, fewest: int, most: int) -> np.ndarray:
    from spectralcluster import configs

    # Fresh copies: the auto-tuner writes the threshold it tries into the options object, so sharing the
    # package's module-level objects would make one call's result depend on the calls before it.
    clusterer = configs.SpectralClusterer(
        min_clusters=fewest, max_clusters=most, refinement_options=copy.deepcopy(configs.turntodiarize_refinement_options),
        autotune=copy.deepcopy(configs.turntodiarize_auto_tune), laplacian_type=configs.LaplacianType.GraphCut,
        row_wise_renorm=True, custom_dist="cosine")
    return np.asarray(clusterer.predict(points.astype(np.float64)))


def smooth(labels: np.ndarray, chunks: np.ndarray, radius: int) -> np.ndarray:
    """Each window takes the most common label within ``radius`` windows of it in its own chunk (ties keep
    its own), so one stray window does not make a turn."""
    if radius == 0:
        return labels
    out = labels.copy()
    for i in range(labels.size):
        lo, hi = max(0, i - radius), min(labels.size, i + radius + 1)
        votes = labels[lo:hi][chunks[lo:hi] == chunks[i]]
        counts = np.bincount(votes)
        if counts[labels[i]] < counts.max():
            out[i] = int(np.argmax(counts))
    return out


def to_turns(windows: Windows, labels: np.ndarray, spans: Sequence[dict], hop: float) -> list[SpeakerTurn]:
    """Windows become turns: a change of label is placed halfway between the two windows' centres,
    and turns never reach outside their speech chunk."""
    names = _names_by_appearance(labels)
    turns: list[SpeakerTurn] = []
    for chunk in np.unique(windows.chunks):
        indices = np.flatnonzero(windows.chunks == chunk)
        start = spans[chunk]["start"] / SAMPLE_RATE
        chunk_end = spans[chunk]["end"] / SAMPLE_RATE
        for position, i in enumerate(indices):
            last = position == indices.size - 1
            if not last and labels[indices[position + 1]] == labels[i]:
                continue
            end = chunk_end if last else (windows.centres[i] + windows.centres[indices[position + 1]]) / 2
            _append(turns, SpeakerTurn(round(float(start), 3), round(float(end), 3), names[labels[i]]))
            start = end
    return turns


def _names_by_appearance(labels: np.ndarray) -> dict[int, str]:
    order = list(dict.fromkeys(int(k) for k in labels))
    return {k: f"S{n}" for n, k in enumerate(order, start=1)}


def _append(turns: list[SpeakerTurn], turn: SpeakerTurn) -> None:
    if turns and turns[-1].speaker == turn.speaker and turn.start - turns[-1].end < 1e-6:
        turns[-1] = replace(turns[-1], end=turn.end)
    elif turn.end > turn.start:
        turns.append(turn)


def merge_short(turns: list[SpeakerTurn], min_turn: float) -> list[SpeakerTurn]:
    """A turn shorter than ``min_turn`` that touches a neighbour joins the longer touching neighbour;
    a short turn alone between silences stays (a one-word answer is still someone's)."""
    turns = list(turns)
    while True:
        shortest = min((i for i, t in enumerate(turns) if t.seconds < min_turn and _neighbours(turns, i)),
                       key=lambda i: turns[i].seconds, default=None)
        if shortest is None:
            break
        host = max(_neighbours(turns, shortest), key=lambda j: turns[j].seconds)
        merged = replace(turns[host], start=min(turns[host].start, turns[shortest].start),
                         end=max(turns[host].end, turns[shortest].end))
        turns[host] = merged
        del turns[shortest]
        turns = _joined(turns)
    return _relabelled(turns)


def _neighbours(turns: list[SpeakerTurn], i: int) -> list[int]:
    """Indices of the turns that touch turn ``i`` (no silence between them)."""
    out = []
    if i > 0 and turns[i].start - turns[i - 1].end < 1e-6:
        out.append(i - 1)
    if i + 1 < len(turns) and turns[i + 1].start - turns[i].end < 1e-6:
        out.append(i + 1)
    return out


def _joined(turns: list[SpeakerTurn]) -> list[SpeakerTurn]:
    out: list[SpeakerTurn] = []
    for turn in turns:
        _append(out, turn)
    return out


def _relabelled(turns: list[SpeakerTurn]) -> list[SpeakerTurn]:
    """Labels renumbered by first appearance (a merge can remove the first turn of a speaker)."""
    order = {old: f"S{n}" for n, old in enumerate(dict.fromkeys(t.speaker for t in turns), start=1)}
    return [replace(t, speaker=order[t.speaker]) for t in turns]


def _normed(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    return vector / norm if norm else vector


# ---------------------------------------------------------------- transcript labelling


def label_speakers(result: TranscriptResult, turns: Sequence[SpeakerTurn]) -> TranscriptResult:
    """The transcript with a speaker on every word, and segments split where the speaker changes."""
    if not turns:
        return result
    segments: list[Segment] = []
    for segment in result.segments:
        segments.extend(_split_by_speaker(segment, turns))
    return replace(result, segments=tuple(segments))


def speaker_at(turns: Sequence[SpeakerTurn], start: float, end: float) -> str:
    """The speaker of the turn overlapping [start, end] most (the earliest of equals); the nearest turn
    when none overlaps.

    ``turns`` are sorted by start and do not overlap (as ``diarize`` gives them), so their ends are sorted
    too: bisecting finds the turns near [start, end] in O(log turns), and only those are looked at."""
    # Only turns that end after ``start`` and begin before ``end`` can overlap [start, end].
    first = bisect_right(turns, start, key=_turn_end)
    stop = bisect_left(turns, end, lo=first, key=_turn_start)
    best, best_overlap = None, 0.0
    for turn in turns[first:stop]:
        overlap = min(end, turn.end) - max(start, turn.start)
        if overlap > best_overlap:
            best, best_overlap = turn, overlap
    if best is None:
        # The turn nearest the middle is the last one starting at or before it or one of its two neighbours:
        # every turn further away has both edges further from the middle.
        middle = (start + end) / 2
        here = bisect_right(turns, middle, key=_turn_start) - 1
        near = turns[max(0, here - 1):here + 2]
        best = min(near, key=lambda t: min(abs(middle - t.start), abs(middle - t.end)))
    return best.speaker


def _turn_start(turn: SpeakerTurn) -> float:
    return turn.start


def _turn_end(turn: SpeakerTurn) -> float:
    return turn.end


def _split_by_speaker(segment: Segment, turns: Sequence[SpeakerTurn]) -> list[Segment]:
    if not segment.words:
        return [replace(segment, speaker=speaker_at(turns, segment.start, segment.end))]
    words = [replace(w, speaker=speaker_at(turns, w.start, w.end)) for w in segment.words]
    runs: list[list[Word]] = []
    for word in words:
        if runs and runs[-1][-1].speaker == word.speaker:
            runs[-1].append(word)
        else:
            runs.append([word])
    if len(runs) == 1:
        return [replace(segment, words=tuple(words), speaker=words[0].speaker)]
    return [replace(segment, start=run[0].start if i else segment.start,
                    end=run[-1].end if i < len(runs) - 1 else segment.end,
                    text="".join(w.word for w in run), words=tuple(run), speaker=run[0].speaker)
            for i, run in enumerate(runs)]
