"""scripts/demo_evergreen.py: marks the demo's published post evergreen and puts a reviewed copy on the calendar
after the posts already scheduled there (a copy never directly follows the original)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from sqlalchemy import select

from pipeline.core.clock import as_utc
from pipeline.store.models import DraftVersion, EvergreenRepost, ScheduledPost
from tests.helpers.calendar import add_client, add_draft, add_post, approve
from tests.helpers.scripts import load_script
from tests.publish.evergreen.helpers import EVERY_DAY, published


def load_demo(monkeypatch):
    return load_script("demo_evergreen", monkeypatch)


def test_the_demo_marks_a_published_post_and_schedules_its_copy_after_the_filled_calendar(db, staff, monkeypatch):
    now = datetime.now(timezone.utc)
    with db.session() as session:
        client = add_client(session, "acme", slots=[{"platform": "linkedin", "days": EVERY_DAY, "time": "09:00"}],
                            approval_stages=2)
        original = published(session, staff, client, "New episode: small shows win. #podcast", now - timedelta(hours=1),
                             platform="linkedin", hashtags=["podcast", "marketing"])
        filled = [add_post(session, approve(session, staff, add_draft(session, client, "linkedin", f"Post {n}")),
                           now.replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=n + 1))
                  for n in range(20)]  # the next 20 daily slots: past the default 14-day horizon
        session.commit()
        original_id, last_filled = original.id, max(as_utc(post.due_at) for post in filled)

    result = CliRunner().invoke(load_demo(monkeypatch).main, ["--client", "acme"])

    assert result.exit_code == 0, result.output
    assert f"marked post {original_id} evergreen" in result.output
    assert re.search(r"acme evergreen \d+: scheduled: copy 1 \(draft \d+\) is post \d+", result.output), result.output
    assert "repost scheduled at" in result.output and "on linkedin:" in result.output
    with db.session() as session:
        [copy] = session.scalars(select(EvergreenRepost)).all()
        post = session.get(ScheduledPost, copy.post_id)
        assert post.status == "scheduled" and as_utc(post.due_at) > last_filled
        copy_text = session.get(DraftVersion, post.version_id).text
        assert copy_text != "New episode: small shows win. #podcast", "LinkedIn refuses a repeated text"
