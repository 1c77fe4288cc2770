"""The speakers of an episode: the labels diarization found, and the names the VA gives them once.

A transcript says "S1", "S2" …; the episode keeps a map to names ("S1" → "Dinda"). Highlights,
drafts, captions and exports read names through ``speaker_names`` so a rename reaches them all
without redoing any stage. Renaming is staff work and is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pipeline.access.audit import record
from pipeline.access.identity import Identity
from pipeline.access.permissions import require_staff, visible_episode
from pipeline.core.errors import ConfigError
from pipeline.store.episodes import latest_transcript
from pipeline.store.models import Episode

# A name is shown in captions and posts: keep it to what fits a caption line.
MAX_NAME_CHARS = 40
# A speaker label as diarization writes it into reasons and captions.
LABEL = re.compile(r"\bS([1-9][0-9]?)\b")


@dataclass(frozen=True)
class SpeakerInfo:
    label: str  # "S1"
    name: str  # the VA's name for it, or the label
    seconds: float  # how long this speaker talks in the latest transcript
    share: float  # of all labelled speech, 0-1


def transcript_speakers(segments: list[dict]) -> dict[str, float]:
    """Seconds spoken by each label, in order of first appearance."""
    seconds: dict[str, float] = {}
    for segment in segments:
        label = segment.get("speaker")
        if label:
            seconds[label] = seconds.get(label, 0.0) + max(segment["end"] - segment["start"], 0.0)
    return seconds


def speaker_names(episode: Episode, labels: list[str] | None = None) -> dict[str, str]:
    """Label -> display name for ``labels`` (default: every label the VA named)."""
    names = dict(episode.speaker_names or {})
    if labels is None:
        return names
    return {label: names.get(label) or label for label in labels}


def with_names(text: str, names: dict[str, str]) -> str:
    """``text`` (a highlight's reason or caveat) with every speaker label the VA named replaced by the name."""
    return LABEL.sub(lambda m: names.get(m.group(0)) or m.group(0), text) if names else text


def episode_speakers(session: Session, identity: Identity, episode_id: int) -> list[SpeakerInfo]:
    """Who speaks in the episode, most first; [] when it was not diarized."""
    episode = visible_episode(session, identity, episode_id)
    transcript = latest_transcript(session, episode.id)
    seconds = transcript_speakers(transcript.segments if transcript else [])
    total = sum(seconds.values()) or 1.0
    names = speaker_names(episode, list(seconds))
    return sorted((SpeakerInfo(label, names[label], round(s, 2), round(s / total, 3)) for label, s in seconds.items()),
                  key=lambda info: -info.seconds)


def rename_speakers(session: Session, identity: Identity, episode_id: int, names: dict[str, str]) -> dict[str, str]:
    """Give diarized speakers names ({"S1": "Dinda"}); an empty name gives a speaker its label back.
    Returns the episode's whole map. Staff only; audited."""
    require_staff(identity, "rename speakers")
    episode = visible_episode(session, identity, episode_id)
    transcript = latest_transcript(session, episode.id)
    known = transcript_speakers(transcript.segments if transcript else [])
    before = dict(episode.speaker_names or {})
    after = dict(before)
    for label, name in names.items():
        after.pop(label, None)
        if clean := _checked_name(label, name, known):
            after[label] = clean
    if after != before:
        episode.speaker_names = after
        record(session, actor=identity.email, action="episode.speakers_renamed", entity_type="episode",
               entity_id=episode.id, client_id=episode.client_id, user_id=identity.user_id,
               before=before, after=after)
    return after


def _checked_name(label: str, name: str, known: dict[str, float]) -> str:
    if label not in known:
        listed = ", ".join(known) or "none: the episode was not diarized"
        raise ConfigError(f"no speaker {label!r} in this episode (speakers: {listed})")
    clean = " ".join(name.split())
    if len(clean) > MAX_NAME_CHARS:
        raise ConfigError(f"speaker name {clean[:20]!r}… is longer than {MAX_NAME_CHARS} characters")
    return clean
