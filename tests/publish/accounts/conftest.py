"""Account tests use the calendar tests' database and staff identity."""

from tests.calendar.conftest import db, staff, template  # noqa: F401  (fixtures)
