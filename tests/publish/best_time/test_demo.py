"""scripts/demo_best_time.py: seeds labelled DEMO history only while it is needed, proposes, writes the report."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from pipeline.store.models import DraftVersion, Episode, ScheduledPost, SlotProposal
from tests.helpers.calendar import add_client
from tests.helpers.scripts import load_script

SLOTS = [{"platform": "linkedin", "days": ["tue", "thu"], "time": "09:00"},
         {"platform": "x", "days": ["mon", "wed", "fri"], "time": "12:30"}]


def load_demo(monkeypatch):
    return load_script("demo_best_time", monkeypatch)


def test_the_demo_seeds_once_proposes_and_writes_the_report(fresh_db, settings, monkeypatch):
    with fresh_db.session() as session:
        add_client(session, "acme", "America/New_York", SLOTS)
    demo = load_demo(monkeypatch)
    first = CliRunner().invoke(demo.main, ["--client", "acme"])
    assert first.exit_code == 0, first.output
    assert "seeded 72 DEMO posts with synthetic engagement on linkedin" in first.output
    [path] = re.findall(r"weekly report with the best-time heatmaps: (\S+\.html)", first.output)
    assert Path(path).parent == settings.home / "reports"
    assert Path(path).read_text().count('src="data:image/png;base64,') == 2
    assert re.search(r"linkedin: proposal \d+: .*wed 17:00", first.output)
    with fresh_db.session() as session:
        assert session.scalar(select(Episode.title)) == demo.DEMO_TITLE
        texts = list(session.scalars(select(DraftVersion.parts)))
        assert texts and all(parts[0].startswith("[demo] ") for parts in texts)
        assert set(session.scalars(select(ScheduledPost.remote_id))) == {""}  # never sent to a platform for numbers
        posts = session.scalar(select(func.count()).select_from(ScheduledPost))
    second = CliRunner().invoke(demo.main, ["--client", "acme"])
    assert second.exit_code == 0 and "seeded" not in second.output and "(already open)" in second.output
    with fresh_db.session() as session:
        assert session.scalar(select(func.count()).select_from(ScheduledPost)) == posts
        assert session.scalar(select(func.count()).select_from(SlotProposal)) == 2
