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


def test_the_scheduler_pass_recycles_and_a_client_profile_sets_auto_approve(settings):
    now = datetime.now(timezone.utc)
    profile = settings.home / "acme.toml"
    profile.parent.mkdir(parents=True, exist_ok=True)
    profile.write_text('slug = "acme"\nname = "Acme"\napproval_stages = 2\n'
                       '[[posting_slots]]\nplatform = "x"\ndays = ["mon","tue","wed","thu","fri","sat","sun"]\n'
                       'time = "09:00"\n[evergreen]\nauto_approve = true\nmin_interval_days = 7\n')
    imported = castmill("client", "import", str(profile))
    assert imported.exit_code == 0, imported.output
    db = Database(settings.database_url)
    with db.session() as session:
        from pipeline.store.clients import get_client

        staff = staff_identity(session)
        client = get_client(session, "acme")
        assert client.evergreen_settings == {"auto_approve": True, "min_interval_days": 7}
        post_id = published(session, staff, client, "A keeper", now - timedelta(days=10)).id
        published(session, staff, client, "Filler", now - timedelta(days=1))
    db.dispose()
    assert castmill("evergreen", "mark", str(post_id)).exit_code == 0

    result = castmill("scheduler", "run", "--once", "--json", "--worker-id", "evergreen-test")
    assert result.exit_code == 0, result.output
    [outcome] = json.loads(result.stdout)["evergreen"]
    assert outcome["action"] == "scheduled" and datetime.fromisoformat(outcome["due_at"]) > now
    again = castmill("scheduler", "run", "--once", "--json", "--worker-id", "evergreen-test")
    assert [o["action"] for o in json.loads(again.stdout)["evergreen"]] == ["waiting"]
