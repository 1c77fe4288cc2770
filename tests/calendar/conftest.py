"""A migrated database per test, copied from a template made once per session.

Migrating takes ~1 s and an argon2 sign-in ~1 s on this machine kind, so the template also
holds one admin user (anna@example.com), signed in once through ``pipeline.access.auth.login``:
``staff`` is that identity, valid in every copy (same user row, same id).
"""

from __future__ import annotations

import shutil

import pytest

from pipeline.store.db import Database
from tests.helpers.calendar import staff_identity


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("calendar-template") / "castmill.db"
    database = Database(f"sqlite:///{path}")
    with database.session() as session:
        identity = staff_identity(session)
    database.dispose()
    return path, identity


@pytest.fixture
def db(settings, template) -> Database:
    """Like ``fresh_db``: the database of the test's CASTMILL_HOME, at the newest revision, one admin in it."""
    target = settings.home / "castmill.db"
    assert settings.database_url == f"sqlite:///{target}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template[0], target)
    database = Database(settings.database_url)
    yield database
    database.dispose()


@pytest.fixture
def staff(template):
    """The template's admin, signed in (12-hour session)."""
    return template[1]
