"""A migrated database per test (copied from a template with one signed-in admin), and published posts."""

from __future__ import annotations

import shutil

import pytest

from pipeline.store.db import Database
from tests.helpers.calendar import staff_identity


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("evergreen-template") / "castmill.db"
    database = Database(f"sqlite:///{path}")
    with database.session() as session:
        identity = staff_identity(session)
    database.dispose()
    return path, identity


@pytest.fixture
def db(settings, template) -> Database:
    target = settings.home / "castmill.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template[0], target)
    database = Database(settings.database_url)
    yield database
    database.dispose()


@pytest.fixture
def staff(template):
    return template[1]
