"""``db``: the same scheduler tests on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import pytest

from pipeline.store.db import Database


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, castmill_home):
    if request.param == "sqlite":
        database = Database(f"sqlite:///{castmill_home / 'castmill.db'}")
    else:
        database = Database(request.getfixturevalue("postgres_url"))
    yield database
    database.dispose()
