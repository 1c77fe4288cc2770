"""Options layering: defaults < settings file < client profile < fitted weights < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.settings import load_client_profile, load_settings
from pipeline.core.errors import ConfigError
from pipeline.highlights.options import FeatureWeights
from pipeline.highlights.store import client_options, explain_weights
from pipeline.store.models import Client

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clients" / "example.toml"


def acme(fitted: dict | None = None) -> Client:
    profile = load_client_profile(EXAMPLE)
    return Client(slug=profile.slug, highlight_settings=profile.highlights.model_dump(exclude_defaults=True),
                  fitted_weights=fitted or {})


def test_layers_apply_in_order_and_explain_names_each_source(castmill_home):
    castmill_home.mkdir(parents=True)
    (castmill_home / "castmill.toml").write_text("[highlights]\ntop = 5\nweights = { quotability = 0.3, energy = 0.2 }\n")
    settings = load_settings(castmill_home)
    options = client_options(settings, acme({"weights": {"depth": 0.5}, "labels": 12}))
    assert options.top == 5 and options.max_seconds == 75 and options.min_seconds == 15
    assert (options.weights.quotability, options.weights.energy, options.weights.hook, options.weights.depth) == \
        (0.3, 0.08, 0.25, 0.5)
    sources = {w.name: w.source for w in explain_weights(settings, acme({"weights": {"depth": 0.5}, "labels": 12}))}
    assert sources == {**dict.fromkeys(FeatureWeights.names(), "default"), "quotability": "settings",
                       "energy": "client profile acme", "hook": "client profile acme", "depth": "fitted from 12 labels"}


def test_platform_bounds_come_from_the_client_then_flags_win(castmill_home):
    settings = load_settings(castmill_home)
    tiktok = client_options(settings, acme(), platform="tiktok")
    assert (tiktok.min_seconds, tiktok.max_seconds) == (20, 60)
    youtube = client_options(settings, acme(), platform="youtube")
    assert (youtube.min_seconds, youtube.max_seconds) == (15, 60)
    flagged = client_options(settings, acme(), platform="tiktok", max_seconds=40, top=2)
    assert (flagged.min_seconds, flagged.max_seconds, flagged.top) == (20, 40, 2)


def test_a_bad_weight_in_a_profile_is_a_config_error(castmill_home):
    client = acme()
    client.highlight_settings = {"weights": {"virality": 2}}
    with pytest.raises(ConfigError, match="client profile acme: unknown highlight feature"):
        client_options(load_settings(castmill_home), client)


def test_client_import_rejects_unknown_highlight_weights(castmill_home, tmp_path):
    from tests.helpers.cli import castmill

    profile = tmp_path / "bad.toml"
    profile.write_text('slug = "bad"\nname = "Bad"\n[highlights]\nweights = { virality = 1.0 }\n')
    result = castmill("client", "import", str(profile))
    assert result.exit_code == 1 and "client bad: unknown highlight feature(s) virality" in result.stderr
    assert "bad" not in castmill("client", "list").stdout
