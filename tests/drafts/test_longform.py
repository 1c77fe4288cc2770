"""Show notes, newsletter and blog drafts: one per episode, a header the platform checks, Markdown below."""

from __future__ import annotations

import json

from pipeline.platforms import get_platform
from pipeline.platforms.base import PostContent
from pipeline.platforms.document import parse
from tests.helpers.cli import castmill

LONG_FORM = ("shownotes", "newsletter", "wordpress")


def _generate(episode_id: int, *platforms: str) -> list[dict]:
    args = [a for p in platforms for a in ("--platform", p)]
    result = castmill("drafts", "generate", str(episode_id), *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _texts(client: str) -> dict[str, str]:
    rows = json.loads(castmill("drafts", "list", "--client", client, "--json").stdout)
    return {r["platform"]: r["parts"][0] for r in rows if r["platform"] in LONG_FORM}


def test_each_long_form_kind_is_one_episode_draft_that_passes_its_rules(mined):
    outcomes = _generate(mined["acme"], *LONG_FORM)
    assert sorted(o["platform"] for o in outcomes) == sorted(LONG_FORM)
    assert all(o["subject"] == "episode" and o["violations"] == [] for o in outcomes)
    texts = _texts("acme")
    notes, newsletter, blog = (parse(texts[k]) for k in LONG_FORM)
    assert notes.get("title") and "## Chapters" in notes.body and "- 0:00 " in notes.body
    assert newsletter.get("subject") and newsletter.get("preheader")
    assert blog.get("slug") and len(blog.get("description")) <= 155 and blog.body.count("\n## ") >= 2
    assert "#podcast" not in texts["wordpress"]  # no hashtags appended to long-form text
    assert "Follow for more." in notes.body


def test_an_indonesian_client_gets_indonesian_headings(mined):
    _generate(mined["budi"], "shownotes")
    assert "## Bab" in _texts("budi")["shownotes"]


def test_a_broken_header_or_a_long_description_is_reported_by_the_platform():
    blog = get_platform("wordpress")
    long_description = "x " * 100
    problems = blog.validate([PostContent(f"Title: T\nSlug: Bad Slug\nDescription: {long_description}\n\nBody")])
    assert {v.rule for v in problems} == {"slug", "description_length"}
    problems = get_platform("newsletter").validate([PostContent("Subject: Hi\nno colon here\n\nBody")])
    assert [v.rule for v in problems] == ["header"] and "line 2" in problems[0].message
    assert [v.rule for v in get_platform("shownotes").validate([PostContent("Body only")])] == ["missing_field"]


def test_a_highlight_with_quote_cards_becomes_an_image_post_with_alt_text(mined):
    highlights = json.loads(castmill("highlights", str(mined["acme"]), "--format", "json").stdout)["highlights"]
    made = castmill("clips", "card", str(highlights[0]["id"]), "--json")
    assert made.exit_code == 0, made.stderr
    outcomes = _generate(mined["acme"], "x", "linkedin", "instagram")
    assert all(o["violations"] == [] for o in outcomes)
    rows = json.loads(castmill("drafts", "list", "--client", "acme", "--json").stdout)
    key = f"{highlights[0]['start']:.2f}-{highlights[0]['end']:.2f}"
    for platform in ("x", "linkedin"):
        carded = next(r for r in rows if r["platform"] == platform and r["subject"] == key)
        (image,) = carded["media"]
        assert image["kind"] == "image" and image["path"].endswith("card-4x5.png") and image["width"] == 1080
        assert image["alt"].startswith("Quote card: “")
    reel = next(r for r in rows if r["platform"] == "instagram" and r["subject"] == key)
    assert [m["kind"] for m in reel["media"]] == ["video"]  # Reels publish video only
    others = [r for r in rows if r["platform"] == "x" and r["subject"] not in (key, "episode")]
    assert others and all(r["media"] == [] for r in others)  # no card drawn for them: a text post


def test_a_post_carrying_a_quote_card_passes_its_check(mined):
    highlights = json.loads(castmill("highlights", str(mined["acme"]), "--format", "json").stdout)["highlights"]
    assert castmill("clips", "card", str(highlights[0]["id"])).exit_code == 0
    _generate(mined["acme"], "x")
    rows = json.loads(castmill("drafts", "list", "--client", "acme", "--json").stdout)
    carded = next(r for r in rows if r["platform"] == "x" and r["media"])
    checked = castmill("drafts", "check", str(carded["id"]))
    assert checked.exit_code == 0 and "passes every rule" in checked.stdout, checked.stdout
