"""Long-form drafts as files, for a client who publishes elsewhere: a static site, their own email platform.

The approved version is exported (``latest=True`` takes the latest version, approved or not):
- a blog post: ``<slug>.md`` with YAML front matter (title, slug, description) for static site
  generators (Hugo, Jekyll, Eleventy …), and ``<slug>.html``;
- show notes: ``<slug>.md`` (as written) and ``<slug>.html``;
- a newsletter: ``<slug>.html`` (laid out, CSS inlined) and ``<slug>.txt``, the two parts of the email.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from pipeline.access.identity import Identity
from pipeline.core.errors import CastmillError
from pipeline.drafts.context import slug
from pipeline.drafts.queries import get_draft
from pipeline.platforms import get_platform
from pipeline.platforms.document import parse, titled_html, to_front_matter
from pipeline.review.queries import latest_version
from pipeline.review.workflow import approved_version
from pipeline.store.models import Client


class ExportRefused(CastmillError):
    """The draft cannot be exported (a short post, or no approved version)."""


def export_draft(session: Session, identity: Identity, draft_id: int, folder: Path, *,
                 latest: bool = False) -> list[Path]:
    """Write the draft's approved (or latest) version into ``folder``; the paths written."""
    draft = get_draft(session, identity, draft_id)
    if not get_platform(draft.platform).episode_only:
        raise ExportRefused(f"draft {draft_id} is a {draft.platform} post: only show notes, newsletters and blog "
                            "posts are exported; posts are published")
    version = latest_version(session, draft.id) if latest else approved_version(session, draft.id)
    if version is None:
        raise ExportRefused(f"draft {draft_id} has no approved version: approve it first, or pass --latest")
    text = "\n\n".join(version.parts)
    folder.mkdir(parents=True, exist_ok=True)
    if draft.platform == "newsletter":
        return _newsletter(session, draft, text, folder)
    document = parse(text)
    name = slug(document.get("slug") or document.get("title") or f"draft-{draft.id}")
    markdown, html = folder / f"{name}.md", folder / f"{name}.html"
    markdown.write_text(to_front_matter(document) if draft.platform == "wordpress" else text, encoding="utf-8")
    html.write_text(titled_html(document), encoding="utf-8")
    return [markdown, html]


def _newsletter(session: Session, draft, text: str, folder: Path) -> list[Path]:
    from pipeline.longform.newsletter import export_newsletter

    client = session.get(Client, draft.client_id)
    name = slug(parse(text).get("subject") or f"newsletter-{draft.id}")
    return list(export_newsletter(text, client_name=client.name, language=client.language,
                                  templates_dir=client.templates_dir or "", folder=folder, name=name))
