"""Long-form drafts are previewed as script-free HTML; short posts are not; scoping as everywhere."""

from __future__ import annotations

import pytest

from pipeline import review
from pipeline.core.errors import NotFoundError
from pipeline.review.preview import CSP, preview_page, safe_html
from tests.review.conftest import add_draft

HOSTILE = ('<p onclick="steal()">hi<script>alert(1)</script></p><a href="javascript:alert(2)">x</a>'
           '<img src="https://cdn.test/a.png" onerror="alert(3)" alt="a"><iframe src="https://evil.test"></iframe>'
           '<form action="https://evil.test"><input name="pw"></form><style>body{}</style>')


def test_the_cleaner_removes_everything_that_could_run_or_reach_out():
    clean = safe_html(HOSTILE)
    for banned in ("script", "alert(1)", "onclick", "javascript:", "onerror", "iframe", "<form", "<input", "<style"):
        assert banned not in clean, banned
    assert '<img src="https://cdn.test/a.png" alt="a">' in clean and "hi" in clean


def test_a_blog_draft_previews_as_a_page_that_allows_no_script():
    text = "Title: Pricing <b>&</b> you\nSlug: pricing\nDescription: d\n\n## Part one\n\n<script>x()</script> **bold**"
    page = preview_page("wordpress", text)
    assert f'content="{CSP}"' in page and "script-src" not in CSP and "default-src 'none'" in CSP
    assert "<h1>Pricing &lt;b&gt;&amp;&lt;/b&gt; you</h1>" in page and "<h2>Part one</h2>" in page
    assert "<script" not in page and "<strong>bold</strong>" in page
    assert preview_page("x", "Just a post") is None


def test_a_newsletter_previews_in_its_email_layout_with_the_css_inlined():
    page = preview_page("newsletter", "Subject: This week\nPreheader: Pricing\n\n## Stop selling time\n\nHello",
                        client_name="Acme Podcast", language="id")
    assert "<h2" in page and "Stop selling time" in page and "Acme Podcast" in page and 'lang="id"' in page
    assert "style=" in page and "<style" not in page and "<script" not in page


def test_the_preview_is_scoped_to_the_drafts_a_person_may_see(world):
    text = "Title: Show notes\n\nHello"
    draft_id = add_draft(world.db, world.acme, world.acme_episode, platform="shownotes", parts=(text,), key="episode")
    with world.db.session() as session:
        page = review.draft_preview(session, world.acme_user, draft_id, ["Title: Edited\n\nTyped now"])
        assert "<h1>Edited</h1>" in page and "Typed now" in page
        with pytest.raises(NotFoundError):
            review.draft_preview(session, world.budi_user, draft_id, [text])
