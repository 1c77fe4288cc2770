"""A migrated database per test (copied from a template with one signed-in admin): the calendar tests' fixtures."""

from tests.calendar.conftest import db, staff, template  # noqa: F401  (fixtures, shared with the calendar tests)
