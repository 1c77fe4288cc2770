"""Settings precedence and client profiles."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pipeline.core.settings import Settings, load_client_profile, load_settings
from pipeline.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_shipped_defaults_file_matches_the_code_defaults(tmp_path):
    shipped = tomllib.loads((REPO / "config" / "castmill.toml").read_text())
    assert Settings(home=tmp_path, **shipped).model_dump() == Settings(home=tmp_path).model_dump()


def test_home_file_then_environment_override(castmill_home, monkeypatch):
    castmill_home.mkdir(parents=True)
    (castmill_home / "castmill.toml").write_text('[transcribe]\nbeam_size = 2\n[storage]\ndatabase_url = "sqlite:///x.db"\n')
    settings = load_settings()
    assert settings.transcribe.beam_size == 2 and settings.database_url == "sqlite:///x.db"
    monkeypatch.setenv("CASTMILL_DATABASE_URL", "sqlite:///y.db")
    assert load_settings().database_url == "sqlite:///y.db"


def test_default_database_lives_in_home(castmill_home):
    assert load_settings().database_url == f"sqlite:///{castmill_home.resolve() / 'castmill.db'}"


def test_invalid_setting_names_the_file_and_key(castmill_home):
    castmill_home.mkdir(parents=True)
    (castmill_home / "castmill.toml").write_text('[transcribe]\nengine = "whisperx"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"{castmill_home.resolve() / 'castmill.toml'}: transcribe.engine:")
    assert "whisperx" in str(caught.value)


def test_example_client_profile_is_valid():
    profile = load_client_profile(REPO / "config" / "clients" / "example.toml")
    assert profile.slug == "acme" and profile.timezone == "America/New_York"


def test_profile_that_is_not_utf8(tmp_path):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('name = "Caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="latin1.toml"):
        load_client_profile(bad)


def test_profile_cover_is_made_absolute_and_a_missing_one_is_an_error(tmp_path):
    (tmp_path / "art").mkdir()
    (tmp_path / "art" / "cover.png").write_bytes(b"png")
    good = tmp_path / "good.toml"
    good.write_text('slug = "a"\nname = "A"\n[clips]\ncover = "art/cover.png"\ncaption_style = { font = "DejaVu Sans" }\n')
    assert load_client_profile(good).clips.cover == str((tmp_path / "art" / "cover.png").resolve())
    bad = tmp_path / "bad.toml"
    bad.write_text('slug = "b"\nname = "B"\n[clips]\ncover = "missing.png"\n')
    with pytest.raises(ConfigError, match=r"clips.cover 'missing.png' does not exist"):
        load_client_profile(bad)


def test_profile_rejects_bad_caption_colours_and_stray_clip_keys(tmp_path):
    colour = tmp_path / "colour.toml"
    colour.write_text('slug = "c"\nname = "C"\n[clips]\ncaption_style = { highlight = "yellow" }\n')
    with pytest.raises(ConfigError, match="clips.caption_style.highlight"):
        load_client_profile(colour)
    stray = tmp_path / "stray.toml"
    stray.write_text('slug = "d"\nname = "D"\n[clips]\nkinds = ["audio"]\napproval_stages = 1\n')
    with pytest.raises(ConfigError, match="clips.approval_stages"):
        load_client_profile(stray)
