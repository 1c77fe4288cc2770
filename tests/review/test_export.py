"""Long-form drafts exported as files: front matter for static sites, the newsletter's two parts; rules kept."""

from __future__ import annotations

import pytest
import yaml

from pipeline import review
from pipeline.core.errors import NotFoundError
from pipeline.review.export import ExportRefused, export_draft
from tests.review.conftest import add_draft

BLOG = "Title: Pricing: the result\nSlug: pricing-the-result\nDescription: Sell results.\n\n## Packages\n\nSell **results**."
NEWSLETTER = "Subject: This week: pricing\nPreheader: Sell results\n\n## Packages\n\nSell results."


def test_the_approved_blog_post_becomes_markdown_with_front_matter_and_html(world, tmp_path):
    draft_id = add_draft(world.db, world.acme, world.acme_episode, platform="wordpress", parts=(BLOG,), key="episode")
    with world.db.session() as session:
        with pytest.raises(ExportRefused, match="no approved version: approve it first, or pass --latest"):
            export_draft(session, world.va, draft_id, tmp_path)
        review.approve(session, world.va, draft_id, version=1)
        review.approve(session, world.acme_user, draft_id, version=1)
        markdown, html = export_draft(session, world.acme_user, draft_id, tmp_path)
    assert markdown.name == "pricing-the-result.md" and html.name == "pricing-the-result.html"
    _, header, body = markdown.read_text().split("---\n", 2)
    assert yaml.safe_load(header) == {"title": "Pricing: the result", "slug": "pricing-the-result",
                                      "description": "Sell results."}
    assert body.strip() == "## Packages\n\nSell **results**."
    assert html.read_text().startswith("<h1>Pricing: the result</h1>") and "<strong>results</strong>" in html.read_text()


def test_a_newsletter_exports_its_html_and_text_parts(world, tmp_path):
    draft_id = add_draft(world.db, world.acme, world.acme_episode, platform="newsletter", parts=(NEWSLETTER,),
                         key="episode")
    with world.db.session() as session:
        html, text = export_draft(session, world.va, draft_id, tmp_path, latest=True)
    assert html.name == "this-week-pricing.html" and "style=" in html.read_text() and "Sell results" in html.read_text()
    assert text.read_text().startswith("Packages\n\nSell results.")


def test_posts_and_other_clients_drafts_are_not_exported(world, tmp_path):
    post_id = add_draft(world.db, world.acme, world.acme_episode, platform="x")
    blog_id = add_draft(world.db, world.acme, world.acme_episode, platform="wordpress", parts=(BLOG,), key="episode")
    out = tmp_path / "export"
    with world.db.session() as session:
        with pytest.raises(ExportRefused, match="is a x post: only show notes, newsletters and blog posts"):
            export_draft(session, world.va, post_id, out, latest=True)
        with pytest.raises(NotFoundError):
            export_draft(session, world.budi_user, blog_id, out, latest=True)
    assert not out.exists()
