"""A second truth, written after the model and run as it stood (no setting changed for it): a Jakarta
client on X whose Wednesday-evening posts get 1.8 times the engagement of every other time."""

from __future__ import annotations

from pipeline.publish.best_time import analyse_client
from tests.helpers.calendar import add_client
from tests.helpers.engagement import NOW, seed_history

SLOTS = [{"platform": "x", "days": ["tue", "thu"], "time": "08:00"},
         {"platform": "x", "days": ["sat"], "time": "10:00"}]
TRIED = [("tue", "08:00"), ("thu", "08:00"), ("sat", "10:00"), ("mon", "19:30"), ("wed", "19:30"),
         ("fri", "12:00"), ("sun", "20:00"), ("wed", "07:00")]


def test_the_one_better_evening_is_found_and_nothing_else_moves(fresh_db):
    with fresh_db.session() as session:
        client = add_client(session, "budi", "Asia/Jakarta", SLOTS)
        seed_history(session, client, platform="x", times=TRIED, weeks=9, views=800, seed=2024,
                     rate=lambda day, hhmm: 0.054 if (day, hhmm) == ("wed", "19:30") else 0.03)
    with fresh_db.session() as session:
        [analysis] = analyse_client(session, "budi", now=NOW, platform="x")
    assert analysis.posts == 72
    assert [(s.day, s.time, s.bin) for s in analysis.new_slots] == [("wed", "19:30", "wed 18-21")]
    assert len(analysis.slots) == 3
