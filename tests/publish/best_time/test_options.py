"""[best_time] settings and BestTimeOptions: impossible values are refused naming the field."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline.core.errors import ConfigError
from pipeline.core.settings import BestTimeSettings, load_settings
from pipeline.publish.options import BestTimeOptions


@pytest.mark.parametrize("changes, field", [
    ({"block_hours": 5}, "block_hours"),
    ({"min_bin_posts": 0}, "min_bin_posts"),
    ({"min_posts": 3, "min_bin_posts": 4}, "min_bin_posts"),
    ({"prior_posts": 0}, "prior_posts"),
    ({"confidence": 1.0}, "confidence"),
    ({"new_slots": 0}, "new_slots"),
])
def test_an_impossible_option_is_refused_naming_its_field(changes, field):
    with pytest.raises(ConfigError, match=field):
        BestTimeOptions(**changes)


def test_the_options_are_frozen_and_come_from_the_settings_file(castmill_home):
    with pytest.raises(dataclasses.FrozenInstanceError):
        BestTimeOptions().margin = 0.5
    assert BestTimeOptions.from_settings(BestTimeSettings()) == BestTimeOptions()  # one set of defaults
    castmill_home.mkdir(parents=True)
    (castmill_home / "castmill.toml").write_text("[best_time]\nmin_posts = 50\nblock_hours = 4\n")
    options = BestTimeOptions.from_settings(load_settings().best_time)
    assert (options.min_posts, options.block_hours, options.margin) == (50, 4, BestTimeOptions().margin)
    (castmill_home / "castmill.toml").write_text("[best_time]\nblock_hours = 5\n")
    with pytest.raises(ConfigError, match="best_time.block_hours: block_hours must divide 24"):
        load_settings()
