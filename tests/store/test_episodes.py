"""Episode listings: the newest transcript's warnings, read without the transcript itself."""

from __future__ import annotations

from pipeline.store.episodes import latest_transcript, list_episodes
from pipeline.store.models import Transcript
from tests.review.conftest import add_client, add_episode


def _transcript(episode_id: int, warnings: list[str]) -> Transcript:
    return Transcript(episode_id=episode_id, engine="faster-whisper", model="tiny.en", language="en", duration=1.0,
                      segments=[], input_key="k", warnings=warnings)


def test_the_listing_shows_the_newest_transcripts_warnings(fresh_db):
    with fresh_db.session() as session:
        client = add_client(session, "acme")
        first, second, untranscribed = (add_episode(session, client.id, title) for title in ("One", "Two", "Three"))
        session.add_all([_transcript(first.id, ["old warning"]), _transcript(first.id, ["newest warning"]),
                         _transcript(second.id, [])])
        session.flush()
        rows = {row.title: row.warnings for row in list_episodes(session, "acme")}
        assert rows == {"One": ["newest warning"], "Two": [], "Three": []}
        assert latest_transcript(session, first.id).warnings == ["newest warning"]
        assert latest_transcript(session, untranscribed.id) is None
