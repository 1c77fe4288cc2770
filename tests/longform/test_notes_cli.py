"""`castmill notes` on a stored episode: the show-notes template's Markdown, or HTML; short episodes say why."""

from __future__ import annotations

from tests.helpers.cli import castmill
from tests.highlights.test_stage_cli import add_transcribed_episode
from tests.longform.test_chapters import by_name
from tests.longform.test_chapters_cli import clients, stored  # noqa: F401 (fixtures)


def test_notes_list_the_chapters_and_the_highlights(stored):
    assert castmill("highlights", str(stored)).exit_code == 0
    result = castmill("notes", str(stored))
    assert result.exit_code == 0, result.stderr
    markdown = result.stdout
    assert markdown.startswith("Title: four-topics\n\n") and "## Chapters" in markdown
    for chapter in by_name("tuned_b")[1]:
        assert f" {chapter.title}\n" in markdown
    assert "## Key takeaways" in markdown and "## Quotes" in markdown
    html = castmill("notes", str(stored), "--format", "html").stdout
    assert html.startswith("<h1>four-topics</h1>") and "<h2>Chapters</h2>" in html and "<li>0:00 " in html


def test_an_episode_too_short_for_chapters_still_gets_notes_without_them(clients):
    words = by_name("tuned_b")[0].transcript
    short = type(words)(**{**words.__dict__, "segments": words.segments[:6],
                           "duration": words.segments[5].end})
    episode_id = add_transcribed_episode(clients, "acme", short, "short")
    result = castmill("notes", str(episode_id))
    assert result.exit_code == 0, result.stderr
    assert "## Chapters" not in result.stdout and result.stdout.startswith("Title: short")
    denied = castmill("notes", "999")
    assert denied.exit_code == 1 and denied.stderr.strip() == "error: no episode 999"
