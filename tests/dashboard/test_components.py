"""Unit tests of the shared widgets' pure parts: escaping, diff HTML, colours, upload names, counts."""

from __future__ import annotations

import html
import re

import pytest

from dashboard.components import badge_colour, count_line, diff_html, md_escape
from dashboard.data import safe_filename
from pipeline.calendar import STATUS_COLOURS
from pipeline.review.diff import word_diff


def test_diff_html_escapes_user_text_and_marks_insertions_and_deletions():
    tokens = word_diff("hello <script>alert(1)</script> world", "hello <b>big</b> world")
    out = diff_html(tokens)
    assert "<script" not in out and "<b>" not in out
    assert '<del style="' in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert '<ins style="' in out and "&lt;b&gt;big&lt;/b&gt;" in out
    # Unescaping the text between tags gives back the new text plus the deleted words.
    visible = html.unescape(re.sub(r"<[^>]+>", "", out))
    assert visible == "hello <script>alert(1)</script><b>big</b> world"


def test_diff_html_keeps_line_breaks_between_thread_posts():
    out = diff_html(word_diff("one\n\ntwo", "one\n\nthree"))
    assert "white-space:pre-wrap" in out and "one\n\n" in out


@pytest.mark.parametrize("text", ["[click](javascript:alert(1))", "**bold** _it_ `code`", ":red[alarm] :material/home:",
                                  "# heading", "<img src=x onerror=alert(1)>", "a\\b"])
def test_md_escape_leaves_no_markdown_or_directive_syntax(text):
    escaped = md_escape(text)
    assert re.sub(r"\\(.)", r"\1", escaped) == text.replace("\n", " ")
    assert not re.search(r"(?<!\\)[\[\]*_`:<>#]", escaped)


def test_every_calendar_status_gets_the_badge_colour_its_hex_names():
    expected = {"scheduled": "blue", "publishing": "violet", "published": "green", "failed": "red",
                "missed": "orange", "unknown": "yellow", "cancelled": "gray"}
    assert {status: badge_colour(hex_) for status, hex_ in STATUS_COLOURS.items()} == expected


@pytest.mark.parametrize("name, expected", [
    ("episode 12.mp3", "episode_12.mp3"),
    ("../../etc/passwd", "etc_passwd"),
    ("..", "upload"),
    ("my <b>show</b>.m4a", "my_b_show_b_.m4a"),
    ("épisode.mp3", "épisode.mp3"),
])
def test_upload_names_become_one_safe_path_component(name, expected):
    assert safe_filename(name) == expected


def test_count_line_uses_the_platforms_own_counting():
    # X counts a URL as 23 and the limit is 280.
    assert count_line("x", ["see https://example.com/a/very/long/path/to/an/episode"]) == "27 / 280 characters (X)"
    assert count_line("bluesky", ["one", "two"]).startswith("post 1: 3 / 300 · post 2: 3 / 300")
