"""A client with a known best time: posts at Tue 09:00 and Thu 17:00 (New York) get twice the engagement."""

from __future__ import annotations

import pytest

from tests.helpers.calendar import add_client
from tests.helpers.engagement import seed_history
from tests.review.conftest import cheap_hashing  # noqa: F401  (fixture: cheap argon2 for every sign-in)

CURRENT = [{"platform": "linkedin", "days": ["mon", "wed", "fri"], "time": "12:00"},
           {"platform": "x", "days": ["tue"], "time": "10:00"}]
# A VA trying times around the client's slots: ten posts a week on LinkedIn.
TRIED = [("mon", "12:00"), ("wed", "12:00"), ("fri", "12:00"), ("tue", "09:00"), ("thu", "17:00"),
         ("tue", "14:00"), ("thu", "09:00"), ("sat", "10:00"), ("mon", "18:00"), ("wed", "08:00")]
BEST = {("tue", "09:00"), ("thu", "17:00")}
BASE_RATE = 0.02


def true_rate(day: str, hhmm: str) -> float:
    return 2 * BASE_RATE if (day, hhmm) in BEST else BASE_RATE


def seed_truth(db, *, slug: str = "acme", tz: str = "America/New_York", weeks: int = 12, seed: int = 7,
               shuffle: int | None = None) -> None:
    with db.session() as session:
        client = add_client(session, slug, tz, CURRENT)
        seed_history(session, client, platform="linkedin", times=TRIED, weeks=weeks, rate=true_rate, seed=seed,
                     shuffle=shuffle)


@pytest.fixture
def truth(fresh_db):
    seed_truth(fresh_db)
    return fresh_db
