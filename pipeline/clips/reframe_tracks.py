"""Faces followed through a shot, the speakers' turns, and which face is whose.

Face tracks are built shot by shot from position alone: a face in a sampled frame
continues the nearest track of the same shot. A speaker is matched to a face when
that face's mouth moves clearly more than the others' while the speaker talks;
a shot with one face gives every speaker in it that face.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from statistics import median

from pipeline.clips.reframe_data import Face, ReframeOptions, VideoAnalysis
from pipeline.clips.spec import CaptionWord

# A face continues a track when its centre is within this many face heights of the track's last one.
MAX_STEP_FACES = 0.75
# The camera cuts to a new speaker this long before their first word, when the pause allows it.
TURN_LEAD_SECONDS = 0.2
# A speaker needs mouth movement measured in at least this many sampled frames to be matched.
MIN_EVIDENCE_SAMPLES = 2
# Words are timed a little inside the sound: a turn counts as covering a stretch this close to its ends.
EDGE_SLACK_SECONDS = 0.1


@dataclass(frozen=True)
class Track:
    """One face through one shot, as the sampled frames saw it."""

    index: int  # unique in the clip, in order of first sight
    shot: int
    times: tuple[float, ...]  # seconds from the start of the clip, one per sighting
    xs: tuple[float, ...]  # face centre, source pixels
    ys: tuple[float, ...]
    sizes: tuple[float, ...]
    activity: tuple[float, ...]  # mouth movement at each sighting (Face.activity)

    @property
    def x(self) -> float:
        return median(self.xs)

    @property
    def y(self) -> float:
        return median(self.ys)

    @property
    def size(self) -> float:
        return median(self.sizes)

    @cached_property
    def steady_xs(self) -> tuple[float, ...]:
        """The centres with single stray detections smoothed out (a running median of three)."""
        return _median3(self.xs)

    def x_at(self, t: float) -> float:
        """The face's centre at ``t``: between sightings linear, outside them the nearest one."""
        xs = self.steady_xs
        if t <= self.times[0]:
            return xs[0]
        for (t0, x0), (t1, x1) in zip(zip(self.times, xs), zip(self.times[1:], xs[1:])):
            if t <= t1:
                return x0 + (x1 - x0) * (t - t0) / (t1 - t0)
        return xs[-1]

    def activity_at(self, t: float) -> float:
        for when, value in zip(self.times, self.activity):
            if abs(when - t) < 1e-6:
                return value
        return 0.0


@dataclass(frozen=True)
class Turn:
    speaker: str  # "S1" …; "" when the words carry no speakers
    start: float  # first word's start, seconds from the start of the clip
    end: float  # last word's end


@dataclass(frozen=True)
class Aim:
    speaker: str  # whom the camera shows …
    start: float  # … from this time on (a cut time between two words)


def build_tracks(analysis: VideoAnalysis, options: ReframeOptions) -> tuple[tuple[Track, ...], float]:
    """(tracks of faces big enough to follow, the largest face that was too small or 0)."""
    tracks: list[Track] = []
    too_small = 0.0
    for shot, (start, end) in enumerate(analysis.shots()):
        samples = [s for s in analysis.samples if start <= s.t < end]
        needed = max(1, math.ceil(options.min_track_share * len(samples) - 1e-9))
        for sightings in _follow_faces(samples):
            if len(sightings) < needed:
                continue
            track = _track(len(tracks), shot, sightings)
            if track.size >= options.min_face_share * analysis.height:
                tracks.append(track)
            else:
                too_small = max(too_small, track.size)
    return tuple(tracks), too_small


def _follow_faces(samples) -> list[list[tuple[float, Face]]]:
    """Sightings grouped by position: each face continues the nearest open group, biggest faces first."""
    groups: list[list[tuple[float, Face]]] = []
    for sample in samples:
        free = list(range(len(groups)))
        for face in sorted(sample.faces, key=lambda f: (-f.size, f.x, f.y)):
            nearest = min(((_distance(groups[g][-1][1], face), g) for g in free), default=None)
            if nearest and nearest[0] <= MAX_STEP_FACES * max(face.size, groups[nearest[1]][-1][1].size):
                groups[nearest[1]].append((sample.t, face))
                free.remove(nearest[1])
            else:
                groups.append([(sample.t, face)])
    return groups


def _distance(a: Face, b: Face) -> float:
    return math.hypot(a.x - b.x, a.y - b.y)


def _track(index: int, shot: int, sightings: list[tuple[float, Face]]) -> Track:
    faces = [f for _, f in sightings]
    return Track(index, shot, tuple(t for t, _ in sightings), tuple(f.x for f in faces), tuple(f.y for f in faces),
                 tuple(f.size for f in faces), tuple(f.activity for f in faces))


def _median3(values: tuple[float, ...]) -> tuple[float, ...]:
    if len(values) < 3:
        return values
    inner = tuple(median(values[k - 1:k + 2]) for k in range(1, len(values) - 1))
    return (values[0], *inner, values[-1])


# --- turns ----------------------------------------------------------------------------------------

def speaker_turns(words: tuple[CaptionWord, ...]) -> list[Turn]:
    """Runs of words by one speaker. Unlabelled words join the turn around them; no labels at all: one speaker ""."""
    labelled = [w for w in words if w.speaker]
    turns: list[Turn] = []
    for word in words:
        speaker = word.speaker or (turns[-1].speaker if turns else (labelled[0].speaker if labelled else ""))
        if turns and turns[-1].speaker == speaker:
            turns[-1] = Turn(speaker, turns[-1].start, max(turns[-1].end, word.end))
        else:
            turns.append(Turn(speaker, word.start, word.end))
    return turns


def aim_speakers(turns: list[Turn], min_turn_seconds: float) -> list[Aim]:
    """Whom the camera shows from when. A turn shorter than ``min_turn_seconds`` keeps the camera where it is."""
    aims: list[Aim] = []
    for k, turn in enumerate(turns):
        if aims and (turn.speaker == aims[-1].speaker or turn.end - turn.start < min_turn_seconds):
            continue
        aims.append(Aim(turn.speaker, 0.0 if not aims else turn_cut(turns[k - 1].end, turn.start)))
    return aims


def turn_cut(previous_end: float, start: float) -> float:
    """Where a cut to the next speaker goes: in the pause, just before their first word (never inside a word)."""
    if start <= previous_end:
        return start
    return max(previous_end, start - TURN_LEAD_SECONDS)


def speaker_at(aims: list[Aim], t: float) -> str | None:
    current = None
    for aim in aims:
        if aim.start > t:
            break
        current = aim.speaker
    return current


# --- who is who -----------------------------------------------------------------------------------

def match_speakers(tracks: tuple[Track, ...], shots: list[tuple[float, float]], turns: list[Turn],
                   analysis: VideoAnalysis, options: ReframeOptions) -> dict[int, dict[str, int]]:
    """Shot -> speaker -> track index, for the speakers whose face could be told in that shot."""
    matches: dict[int, dict[str, int]] = {}
    for shot, (start, end) in enumerate(shots):
        faces = [t for t in tracks if t.shot == shot]
        talk = _talk_seconds(turns, start, end)
        if not faces or not talk:
            continue
        if len(faces) == 1:
            matches[shot] = {speaker: faces[0].index for speaker in talk}
            continue
        sample_times = [s.t for s in analysis.samples if start <= s.t < end]
        matches[shot] = _assign(_leads(faces, talk, turns, sample_times), options.min_activity_lead)
    return {shot: found for shot, found in matches.items() if found}


def _talk_seconds(turns: list[Turn], start: float, end: float) -> dict[str, float]:
    talk: dict[str, float] = {}
    for turn in turns:
        overlap = min(end, turn.end) - max(start, turn.start)
        if overlap > 0:
            talk[turn.speaker] = talk.get(turn.speaker, 0.0) + overlap
    return talk


def _leads(faces: list[Track], talk: dict[str, float], turns: list[Turn], sample_times: list[float]):
    """(lead, talk seconds, speaker, track index) for every speaker and face: lead = the face's share of the
    mouth movement while the speaker talks, times the number of faces (1 = average).

    A sampled frame's movement happened since the frame before, so it counts for a speaker only when
    that speaker talked all that time: a mouth closing after its turn is not evidence for the next one.
    """
    for speaker, seconds in talk.items():
        times = [t for before, t in zip(sample_times, sample_times[1:]) if _talks_throughout(turns, speaker, before, t)]
        sums = [sum(face.activity_at(t) for t in times) for face in faces]
        total = sum(sums)
        if len(times) < MIN_EVIDENCE_SAMPLES or total <= 1e-9:
            continue
        for face, moved in zip(faces, sums):
            yield moved / total * len(faces), seconds, speaker, face.index


def _talks_throughout(turns: list[Turn], speaker: str, start: float, end: float) -> bool:
    return any(u.speaker == speaker and u.start <= start + EDGE_SLACK_SECONDS and u.end >= end - EDGE_SLACK_SECONDS
               for u in turns)


def _assign(leads, min_lead: float) -> dict[str, int]:
    """Greedy, strongest evidence first: each speaker gets at most one face and each face one speaker."""
    found: dict[str, int] = {}
    taken: set[int] = set()
    for lead, _seconds, speaker, index in sorted(leads, key=lambda c: (-c[0], -c[1], c[2], c[3])):
        if lead >= min_lead and speaker not in found and index not in taken:
            found[speaker] = index
            taken.add(index)
    return found


def speech_coverage(tracks: tuple[Track, ...], shots: list[tuple[float, float]], turns: list[Turn],
                    matches: dict[int, dict[str, int]]) -> float:
    """The share of the speech during which the speaker's face is matched in the shot on screen.

    Without speech: 1 when every shot shows exactly one face (there is nobody else to show), else 0.
    """
    total = matched = 0.0
    for shot, (start, end) in enumerate(shots):
        for speaker, seconds in _talk_seconds(turns, start, end).items():
            total += seconds
            matched += seconds if speaker in matches.get(shot, {}) else 0.0
    if total <= 0:
        return 1.0 if all(sum(t.shot == s for t in tracks) == 1 for s in range(len(shots))) else 0.0
    return matched / total
