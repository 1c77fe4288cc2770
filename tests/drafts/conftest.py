"""Fixtures for draft tests: clients with platforms and mined episodes."""

from __future__ import annotations

import pytest

from tests.helpers.cli import castmill
from tests.highlights.test_scoring import episode
from tests.highlights.test_stage_cli import add_transcribed_episode


@pytest.fixture
def mined(castmill_home, tmp_path):
    """Client acme (x, linkedin, instagram; English) and client budi (Indonesian, bluesky) with one episode each."""
    assert castmill("init").exit_code == 0
    profiles = {
        "acme": 'slug = "acme"\nname = "Acme"\nplatforms = ["x", "linkedin", "instagram"]\n'
                'hashtags = ["podcast", "smallbusiness"]\ncall_to_action = "Follow for more."\n',
        "budi": 'slug = "budi"\nname = "Budi"\nlanguage = "id"\nplatforms = ["bluesky", "threads"]\n',
        "empty": 'slug = "empty"\nname = "No Platforms"\n',
    }
    for slug, body in profiles.items():
        (tmp_path / f"{slug}.toml").write_text(body)
        assert castmill("client", "import", str(tmp_path / f"{slug}.toml")).exit_code == 0
    ids = {slug: add_transcribed_episode(castmill_home, slug, episode(strong_at=1, repeats=8), slug) for slug in profiles}
    for episode_id in ids.values():
        assert castmill("highlights", str(episode_id)).exit_code == 0
    return ids
