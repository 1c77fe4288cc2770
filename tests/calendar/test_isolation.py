"""A client identity sees and changes only its own client's posts; another client's ids are "not found"."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pipeline.calendar import auto_schedule, cancel, entries, reschedule, schedule
from pipeline.core.errors import NotFoundError
from pipeline.store.models import ScheduledPost
from tests.helpers.calendar import NY_WEEKDAYS_0900, add_client, approved_draft, client_identity

UTC = timezone.utc
NOW = datetime(2030, 5, 30, 12, 0, tzinfo=UTC)
RANGE = {"start_utc": datetime(2030, 5, 1, tzinfo=UTC), "end_utc": datetime(2030, 7, 1, tzinfo=UTC)}


@pytest.fixture
def two_clients(db, staff):
    """acme and budi with one scheduled post and one approved, unscheduled draft each; acme's user signed in."""
    with db.session() as session:
        ids = {}
        for slug in ("acme", "budi"):
            client = add_client(session, slug, "America/New_York", NY_WEEKDAYS_0900)
            post = schedule(session, staff, approved_draft(session, staff, client).id, now=NOW)
            waiting = approved_draft(session, staff, client)
            ids[slug] = (post.id, waiting.id)
        acme_user = client_identity(session, "acme")
    return db, acme_user, ids


def test_a_client_lists_only_its_own_posts(two_clients, staff):
    db, acme_user, ids = two_clients
    with db.session() as session:
        assert [e.post_id for e in entries(session, acme_user, **RANGE)] == [ids["acme"][0]]
        assert entries(session, acme_user, client_slug="budi", **RANGE) == []
        assert {e.client_slug for e in entries(session, staff, **RANGE)} == {"acme", "budi"}


@pytest.mark.parametrize("action", [
    lambda s, who, post_id: reschedule(s, who, post_id, at=datetime(2030, 6, 10, 9, 0), now=NOW),
    lambda s, who, post_id: cancel(s, who, post_id, "not mine to cancel"),
], ids=["reschedule", "cancel"])
def test_another_clients_post_is_not_found_exactly_like_a_missing_one(two_clients, action):
    db, acme_user, ids = two_clients
    budi_post = ids["budi"][0]
    with db.session() as session:
        with pytest.raises(NotFoundError) as other:
            action(session, acme_user, budi_post)
        with pytest.raises(NotFoundError) as missing:
            action(session, acme_user, 999_999)
        assert str(other.value) == f"no scheduled post {budi_post}"
        assert str(missing.value) == "no scheduled post 999999"
    with db.session() as session:
        post = session.get(ScheduledPost, budi_post)
        assert (post.status, post.due_at.replace(tzinfo=UTC)) == ("scheduled", datetime(2030, 5, 31, 13, tzinfo=UTC))


def test_a_client_cannot_schedule_or_auto_schedule_another_clients_drafts(two_clients):
    db, acme_user, ids = two_clients
    with db.session() as session:
        with pytest.raises(NotFoundError, match=f"^no draft {ids['budi'][1]}$"):
            schedule(session, acme_user, ids["budi"][1], now=NOW)
        with pytest.raises(NotFoundError) as other:
            auto_schedule(session, acme_user, "budi", now=NOW)
        with pytest.raises(NotFoundError) as missing:
            auto_schedule(session, acme_user, "nobody", now=NOW)
        assert (str(other.value), str(missing.value)) == ("unknown client 'budi'", "unknown client 'nobody'")


def test_a_client_may_change_its_own_posts(two_clients):
    db, acme_user, ids = two_clients
    with db.session() as session:
        moved = reschedule(session, acme_user, ids["acme"][0], at=datetime(2030, 6, 10, 9, 0), now=NOW)
        assert moved.due_at.replace(tzinfo=UTC) == datetime(2030, 6, 10, 13, tzinfo=UTC)
        [placed] = auto_schedule(session, acme_user, "acme", now=NOW)
        assert placed.draft_id == ids["acme"][1]
        assert cancel(session, acme_user, ids["acme"][0], "changed our mind").status == "cancelled"
