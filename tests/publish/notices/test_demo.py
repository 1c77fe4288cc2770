"""scripts/demo_notices.py: a scheduled post reworded by the VA waits for the client, and one pass mails the
client a reminder into the demo's mail sink."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

from pipeline import review
from pipeline.access import auth
from pipeline.calendar import schedule
from pipeline.core.clock import utcnow
from tests.review.conftest import add_client, add_draft, add_episode

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "demo_notices.py"


def run_demo(home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, CASTMILL_HOME=str(home))
    return subprocess.run([sys.executable, str(SCRIPT), "--client", "acme"], env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_demo_mails_a_reminder_once_per_period(fresh_db, castmill_home):
    with fresh_db.session() as session:
        client_id = add_client(session, "acme").id
        episode_id = add_episode(session, client_id, "Castmill Sample Episode").id
    draft_id = add_draft(fresh_db, client_id, episode_id)
    admin = auth.system_identity("test")
    with fresh_db.session() as session:
        review.approve(session, admin, draft_id, version=1)
        review.approve(session, admin, draft_id, version=1)
        schedule(session, admin, draft_id, at=utcnow() + timedelta(days=3))

    first = run_demo(castmill_home)
    assert first.returncode == 0, first.stderr
    assert f"draft {draft_id} waits for acme's approval" in first.stdout
    [path] = [line.split(": ", 1)[1] for line in first.stdout.splitlines() if line.startswith("reminder to ")]
    message = message_from_bytes(Path(path).read_bytes(), policy=policy.default)
    assert Path(path).parent == castmill_home / "mail-sink"
    assert message["To"] == "client@acme.test"
    assert message["Subject"] == "Reminder: 1 post(s) waiting for your approval"
    assert f"Subject: {message['Subject']}" in first.stdout
    assert f"&draft={draft_id}" in message.get_content()

    again = run_demo(castmill_home)
    assert again.returncode == 0, again.stderr
    assert "already reminded in this period" in again.stdout
