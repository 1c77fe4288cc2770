"""`castmill chapters` on stored episodes: the three formats, and one client never sees another's episode."""

from __future__ import annotations

import json

import pytest

from tests.helpers.cli import castmill
from tests.highlights.test_stage_cli import add_transcribed_episode
from tests.longform.test_chapters import by_name


@pytest.fixture
def clients(castmill_home):
    assert castmill("init").exit_code == 0
    for slug in ("acme", "other"):
        assert castmill("client", "add", slug, "--name", slug.title()).exit_code == 0
    return castmill_home


@pytest.fixture
def stored(clients):
    """An 18-minute episode of four topics, stored for acme."""
    return add_transcribed_episode(clients, "acme", by_name("tuned_b")[0].transcript, "four-topics")


def chapters_of(*args):
    result = castmill("chapters", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def test_the_three_formats(stored):
    titles = [c.title for c in by_name("tuned_b")[1]]
    youtube = chapters_of(str(stored), "--format", "youtube").splitlines()
    assert len(youtube) == 4 and youtube[0] == f"0:00 {titles[0]}"
    assert [line.split(" ", 1)[1] for line in youtube] == titles
    data = json.loads(chapters_of(str(stored), "--format", "json"))
    assert data["version"] == "1.2.0" and [c["title"] for c in data["chapters"]] == titles
    assert data["chapters"][0]["startTime"] == 0
    markdown = chapters_of(str(stored), "--format", "md", "--client", "acme").splitlines()
    assert markdown == [f"- {line}" for line in youtube]


def test_another_clients_episode_is_not_found(stored):
    denied = castmill("chapters", str(stored), "--client", "other")
    assert denied.exit_code == 1 and denied.stderr.strip() == f"error: no episode {stored} for client other"
    assert denied.stdout == ""
    missing = castmill("chapters", "999")
    assert missing.exit_code == 1 and "no episode 999" in missing.stderr


def test_errors_are_one_line_and_a_non_zero_exit(clients):
    two_topics = add_transcribed_episode(clients, "acme", by_name("tuned_d")[0].transcript, "two-topics")
    refused = castmill("chapters", str(two_topics), "--format", "youtube")
    assert refused.exit_code == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert "YouTube needs at least 3 chapters and this episode has 2" in refused.stderr
    assert chapters_of(str(two_topics)).count("\n") == 1  # the Markdown list still works
