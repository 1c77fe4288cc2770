"""Naming an episode's speakers: staff only, audited, scoped to the client, checked against the transcript."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pipeline.access.permissions import PermissionDenied
from pipeline.core.errors import ConfigError, NotFoundError
from pipeline.store.models import AuditEvent, Transcript
from pipeline.transcribe.speakers import episode_speakers, rename_speakers
from tests.helpers.cli import castmill, castmill_json
from tests.review.conftest import cheap_hashing, world  # noqa: F401  (fixtures)

SEGMENTS = [
    {"start": 0.0, "end": 6.0, "text": "Welcome.", "speaker": "S1", "words": []},
    {"start": 6.5, "end": 20.0, "text": "Thanks.", "speaker": "S2", "words": []},
    {"start": 20.5, "end": 24.0, "text": "Right.", "speaker": "S1", "words": []},
]


@pytest.fixture
def diarized(world):
    with world.db.session() as session:
        session.add(Transcript(episode_id=world.acme_episode, engine="faster-whisper", model="tiny.en",
                               language="en", duration=24.0, segments=SEGMENTS, input_key="k"))
    return world


def test_speakers_are_listed_most_first_with_their_share(diarized):
    with diarized.db.session() as session:
        speakers = episode_speakers(session, diarized.va, diarized.acme_episode)
    assert [(s.label, s.name, s.seconds) for s in speakers] == [("S2", "S2", 13.5), ("S1", "S1", 9.5)]
    assert sum(s.share for s in speakers) == pytest.approx(1.0)


def test_a_va_names_speakers_once_and_the_change_is_audited(diarized):
    with diarized.db.session() as session:
        names = rename_speakers(session, diarized.va, diarized.acme_episode, {"S1": "  Dinda  ", "S2": "Budi Santoso"})
    assert names == {"S1": "Dinda", "S2": "Budi Santoso"}
    with diarized.db.session() as session:
        assert [s.name for s in episode_speakers(session, diarized.acme_user, diarized.acme_episode)] == [
            "Budi Santoso", "Dinda"]
        rename_speakers(session, diarized.va, diarized.acme_episode, {"S2": ""})  # back to its label
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "episode.speakers_renamed")).all()
    assert [(e.before, e.after) for e in events] == [
        ({}, {"S1": "Dinda", "S2": "Budi Santoso"}), ({"S1": "Dinda", "S2": "Budi Santoso"}, {"S1": "Dinda"})]


def test_the_same_names_again_write_no_audit_event(diarized):
    with diarized.db.session() as session:
        rename_speakers(session, diarized.va, diarized.acme_episode, {"S1": "Dinda"})
        rename_speakers(session, diarized.va, diarized.acme_episode, {"S1": "Dinda"})
        assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "episode.speakers_renamed")).all()) == 1


def test_a_client_may_not_rename_and_never_sees_another_clients_episode(diarized):
    with diarized.db.session() as session:
        with pytest.raises(PermissionDenied, match="only a VA or an admin can rename speakers"):
            rename_speakers(session, diarized.acme_user, diarized.acme_episode, {"S1": "Eve"})
        with pytest.raises(NotFoundError, match=f"no episode {diarized.acme_episode}"):
            episode_speakers(session, diarized.budi_user, diarized.acme_episode)


@pytest.mark.parametrize("names, message", [
    ({"S7": "Ghost"}, "no speaker 'S7' in this episode \\(speakers: S1, S2\\)"),
    ({"S1": "x" * 41}, "longer than 40 characters"),
])
def test_bad_names_are_refused_with_the_reason(diarized, names, message):
    with diarized.db.session() as session:
        with pytest.raises(ConfigError, match=message):
            rename_speakers(session, diarized.va, diarized.acme_episode, names)


def test_an_episode_without_speaker_labels_says_so(world):
    with world.db.session() as session:
        assert episode_speakers(session, world.va, world.budi_episode) == []
        with pytest.raises(ConfigError, match="none: the episode was not diarized"):
            rename_speakers(session, world.va, world.budi_episode, {"S1": "Budi"})


def test_the_command_names_speakers_and_refuses_a_malformed_pair(diarized):
    result, rows = castmill_json("episodes", "speakers", str(diarized.acme_episode), "--name", "S1=Dinda")
    assert [(r["label"], r["name"]) for r in rows] == [("S2", "S2"), ("S1", "Dinda")]
    bad = castmill("episodes", "speakers", str(diarized.acme_episode), "--name", "Dinda")
    assert bad.exit_code != 0 and "write LABEL=NAME" in bad.output
    table = castmill("episodes", "speakers", str(diarized.acme_episode), "--name", "S2=Budi")
    assert f"castmill drafts generate {diarized.acme_episode}" in table.output and "Budi" in table.output


def test_one_progress_bar_covers_transcription_then_diarization():
    from pipeline.transcribe.stage import TRANSCRIBE_SHARE, phased_progress

    seen: list[float] = []
    transcribing, diarizing = phased_progress(seen.append, 100.0, diarizing=True)
    for seconds in (0, 50, 100):
        transcribing(seconds)
    for seconds in (0, 40, 90):  # seconds of speech embedded (less than the episode: silences)
        diarizing(seconds)
    assert seen == sorted(seen) and seen[2] == pytest.approx(100 * TRANSCRIBE_SHARE) and seen[-1] <= 100.0
    assert seen[-1] == pytest.approx(100 * TRANSCRIBE_SHARE + 90 * (1 - TRANSCRIBE_SHARE))
    assert phased_progress(seen.append, 100.0, diarizing=False) == (seen.append, None)
    assert phased_progress(None, 100.0, diarizing=True) == (None, None)
