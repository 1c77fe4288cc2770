"""The options objects of calendar, review, access and publishing: defaults the CLI shows, and the
cross-checks that refuse impossible combinations with a message naming the field."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline.access.options import AccessOptions
from pipeline.calendar.options import CalendarOptions
from pipeline.core.errors import ConfigError
from pipeline.core.vocab import DEFAULT_LATE_MINUTES
from pipeline.publish.options import PublishOptions, SchedulerOptions
from pipeline.review.options import ReviewOptions
from pipeline.store.models import ScheduledPost
from tests.helpers.cli import castmill


@pytest.mark.parametrize("make, field", [
    (lambda: CalendarOptions(late_minutes=-1), "late_minutes"),
    (lambda: CalendarOptions(horizon_days=400), "horizon_days"),
    (lambda: CalendarOptions(list_days=0), "list_days"),
    (lambda: ReviewOptions(max_comment_chars=0), "max_comment_chars"),
    (lambda: AccessOptions(min_password_length=4), "min_password_length"),
    (lambda: AccessOptions(session_hours=0), "session_hours"),
    (lambda: PublishOptions(backoff_base_seconds=900, backoff_max_seconds=60), "backoff_base_seconds"),
    (lambda: PublishOptions(max_attempts=0), "max_attempts"),
    (lambda: SchedulerOptions(worker="w", batch_size=0), "batch_size"),
])
def test_an_impossible_option_is_refused_naming_its_field(make, field):
    with pytest.raises(ConfigError, match=field):
        make()


def test_every_option_is_frozen():
    for options in (CalendarOptions(), ReviewOptions(), AccessOptions(), PublishOptions(), SchedulerOptions()):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(options, dataclasses.fields(options)[0].name, None)


def test_the_late_limit_is_one_number_for_the_model_the_calendar_and_the_cli(castmill_home):
    assert CalendarOptions().late_minutes == DEFAULT_LATE_MINUTES
    assert ScheduledPost.__table__.c.late_minutes.default.arg == DEFAULT_LATE_MINUTES
    help_text = castmill("schedule", "draft", "--help").stdout
    assert f"[default: {DEFAULT_LATE_MINUTES}" in " ".join(help_text.split())


def test_the_scheduler_flags_default_to_the_options(castmill_home):
    help_text = " ".join(castmill("scheduler", "run", "--help").stdout.split())
    defaults = SchedulerOptions()
    assert f"--batch-size INTEGER RANGE Posts claimed per atomic claim. [default: {defaults.batch_size};" in help_text
    assert f"[default: {defaults.publish.max_attempts};" in help_text
