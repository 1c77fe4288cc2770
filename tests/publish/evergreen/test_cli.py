"""`castmill evergreen mark|list|run|unmark` end to end on the home's database."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from pipeline.store.db import Database
from tests.helpers.calendar import staff_identity
from tests.helpers.cli import castmill
from tests.publish.evergreen.helpers import daily_client, published


def test_mark_then_one_pass_schedules_a_copy_in_a_future_free_slot(settings):
    now = datetime.now(timezone.utc)
    db = Database(settings.database_url)
    with db.session() as session:
        staff = staff_identity(session)
        client = daily_client(session, auto_approve=True)
        post_id = published(session, staff, client, "A keeper from the archive", now - timedelta(days=60)).id
        published(session, staff, client, "Filler", now - timedelta(days=1))
    db.dispose()

    marked = castmill("evergreen", "mark", str(post_id))
    assert marked.exit_code == 0, marked.output
    listed = castmill("evergreen", "list", "--client", "acme")
    assert f"acme post {post_id} (x): active, 0 copies" in listed.output

    ran = castmill("evergreen", "run", "--client", "acme", "--json")
    assert ran.exit_code == 0, ran.output
    [outcome] = json.loads(ran.stdout)
    assert outcome["action"] == "scheduled"
    assert datetime.fromisoformat(outcome["due_at"]) > now

    unknown = castmill("evergreen", "run", "--client", "nobody")
    assert unknown.exit_code != 0 and "unknown client 'nobody'" in unknown.output
    assert castmill("evergreen", "unmark", str(post_id)).exit_code == 0
    assert "unmarked" in castmill("evergreen", "list").output
