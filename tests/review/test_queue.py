"""The review queue: what a card carries, filters, and a bounded number of SQL statements."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, insert

from pipeline import review
from pipeline.core.clock import utcnow
from pipeline.store.models import Clip, Draft, DraftVersion
from tests.review.conftest import add_client, add_draft, add_episode

VIDEO = [{"kind": "video", "clip": "highlight 12.00-41.50", "status": "planned", "seconds": 29.5,
          "width": 1080, "height": 1920}]


def run(world, call, /, *args, **kwargs):
    with world.db.session() as session:
        return call(session, *args, **kwargs)


@contextmanager
def counted_statements(engine):
    statements: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_card_carries_the_latest_version_the_highlight_the_media_and_the_rules(world):
    draft = add_draft(world.db, world.acme, world.acme_episode, platform="instagram", parts=["Reel caption"],
                      media=VIDEO, highlight_id=world.acme_highlight, key="12.00-41.50")
    with world.db.session() as session:
        session.add(Clip(episode_id=world.acme_episode, highlight_key="12.00-41.50", kind="thumbnail", format="jpg",
                         path="/media/thumb.jpg", sha256="0" * 64, input_key="k"))
        session.add(Clip(episode_id=world.acme_episode, highlight_key="12.00-41.50", kind="video", aspect="9:16",
                         format="mp4", path="/media/broken.mp4", sha256="1" * 64, input_key="k", status="failed"))
    run(world, review.edit, world.va, draft, ["Reel caption, edited"], base_version=1)
    card = run(world, review.draft_detail, world.acme_user, draft)
    assert (card.client_slug, card.episode_id, card.episode_title, card.platform) == \
        ("acme", world.acme_episode, "Pricing with Budi", "instagram")
    assert (card.status, card.version_number, card.text, card.parts) == \
        ("draft", 2, "Reel caption, edited", ["Reel caption, edited"])
    assert card.media == VIDEO and card.violations == [] and card.needs_action_by == "va"
    assert (card.highlight_title, card.highlight_reasons) == ("Double your price", ["a clear claim", "laughter"])
    assert (card.highlight_start, card.highlight_end, card.highlight_key) == (12.0, 41.5, "12.00-41.50")
    assert card.clips == [{"kind": "thumbnail", "aspect": "", "format": "jpg", "path": "/media/thumb.jpg",
                           "framing": ""}]
    assert card.updated_at.tzinfo is not None
    assert card.version_hash == run(world, review.versions, world.va, draft)[-1].hash


def test_an_episode_post_has_no_highlight(world):
    draft = add_draft(world.db, world.acme, world.acme_episode, key="episode")
    card = run(world, review.draft_detail, world.va, draft)
    assert (card.highlight_title, card.highlight_reasons, card.highlight_start, card.clips) == (None, [], None, [])


def test_a_missing_video_is_a_violation_on_the_card(world):
    draft = add_draft(world.db, world.acme, world.acme_episode, platform="tiktok", parts=["caption"])
    assert run(world, review.draft_detail, world.va, draft).violations == ["TikTok posts need an image or a video"]


def test_the_queue_filters_by_client_episode_platform_and_status(world):
    x = add_draft(world.db, world.acme, world.acme_episode)
    linkedin = add_draft(world.db, world.acme, world.acme_episode, platform="linkedin")
    other_episode = add_episode_draft(world)
    budi = add_draft(world.db, world.budi, world.budi_episode, platform="bluesky")
    run(world, review.approve, world.va, x, version=1)
    ids = lambda **kw: {c.draft_id for c in run(world, review.queue, world.va, **kw)}  # noqa: E731
    assert ids() == {x, linkedin, other_episode, budi}
    assert ids(client_slug="acme") == {x, linkedin, other_episode}
    assert ids(episode_id=world.acme_episode) == {x, linkedin}
    assert ids(platform="LinkedIn") == {linkedin}
    assert ids(statuses=["client_review"]) == {x}
    assert ids(statuses=("draft",), client_slug="budi") == {budi}
    cards = run(world, review.queue, world.va)
    assert [c.episode_id for c in cards] == sorted((c.episode_id for c in cards), reverse=True)
    assert {c.draft_id: c.needs_action_by for c in cards}[budi] == "client"  # one-stage client


def add_episode_draft(world) -> int:
    with world.db.session() as session:
        episode = add_episode(session, world.acme, "Second episode")
    return add_draft(world.db, world.acme, episode.id)


def test_the_queue_for_a_thousand_drafts_across_twenty_clients_takes_two_statements(world):
    with world.db.session() as session:
        owners = [world.acme] + [add_client(session, f"client-{n}").id for n in range(19)]
        episodes = [(add_episode(session, client_id).id, client_id) for client_id in owners]
    now = utcnow()
    with world.db.engine.begin() as connection:  # bulk rows: 1,000 drafts with 2 versions each
        connection.execute(insert(Draft), [
            {"id": 10_000 + n, "client_id": episodes[n % 20][1], "episode_id": episodes[n % 20][0],
             "highlight_key": f"{n}.00-{n + 30}.00", "platform": "x", "language": "en", "status": "draft",
             "created_at": now, "updated_at": now} for n in range(1000)])
        connection.execute(insert(DraftVersion), [
            {"draft_id": 10_000 + n, "number": v, "parts": [f"post {n} v{v}"], "hashtags": [], "media": [],
             "author": "castmill", "source": "template", "created_at": now} for n in range(1000) for v in (1, 2)])
    with counted_statements(world.db.engine) as statements:
        cards = run(world, review.queue, world.va)
    assert len(cards) == 1000 and len({c.client_slug for c in cards}) == 20
    assert all(c.version_number == 2 and c.text.endswith("v2") for c in cards)
    assert len(statements) <= 3, statements  # the drafts with their latest version, then the clips
    with counted_statements(world.db.engine) as statements:
        mine = run(world, review.queue, world.acme_user)
    assert len(mine) == 50 and {c.client_slug for c in mine} == {"acme"} and len(statements) <= 3
