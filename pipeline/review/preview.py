"""What a reviewer sees of a long-form draft: its HTML, made safe to show in the dashboard.

The draft text is the client's or the VA's, and a client's newsletter layout is a template they may
edit, so the HTML is untrusted. It is cleaned with nh3 (Rust's ammonia: an allow-list of tags and
attributes; scripts, event handlers, forms, frames and ``javascript:`` links are removed), and the page
it is shown in carries a Content-Security-Policy that allows no script and no remote content at all
beyond images, in case anything passes the cleaner.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pipeline.access.identity import Identity
from pipeline.drafts.queries import get_draft as visible_draft
from pipeline.platforms import get_platform
from pipeline.platforms.document import parse, titled_html
from pipeline.store.models import Client

# The page wrapper: no script may run, nothing may be fetched but images, nothing may be submitted.
CSP = "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; form-action 'none'"
# Tags and attributes an email layout or a blog post needs; anything else is dropped.
TAGS = {"a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i", "img", "li", "ol",
        "p", "pre", "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "u", "ul", "center", "font"}
ATTRIBUTES = {"*": {"style", "class", "align", "width", "height", "bgcolor", "color", "dir", "lang", "role"},
              "a": {"href", "title"}, "img": {"src", "alt", "title"},
              "td": {"colspan", "rowspan", "valign"}, "th": {"colspan", "rowspan", "valign"},
              "table": {"cellpadding", "cellspacing", "border"}}


def safe_html(html: str) -> str:
    """``html`` with everything that could run or reach out removed (nh3's allow-list)."""
    import nh3

    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer")


def draft_preview(session: Session, identity: Identity, draft_id: int, parts: list[str]) -> str | None:
    """The preview page of a long-form draft the identity may see, for the text as typed (``parts``);
    None for a short post."""
    draft = visible_draft(session, identity, draft_id)
    client = session.get(Client, draft.client_id)
    return preview_page(draft.platform, "\n\n".join(parts), client_name=client.name, language=client.language,
                        templates_dir=client.templates_dir or "")


def preview_page(platform_name: str, text: str, *, client_name: str = "", language: str = "en",
                 templates_dir: str = "") -> str | None:
    """A self-contained, script-free HTML page showing a long-form draft as it will look; None for a
    short post (those are shown as text). A newsletter is laid out with the client's email template."""
    if not get_platform(platform_name).episode_only:
        return None
    body = _rendered_body(platform_name, text, client_name, language, templates_dir)
    return (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}"></head>'
            f"<body>{safe_html(body)}</body></html>")


def _rendered_body(platform_name: str, text: str, client_name: str, language: str, templates_dir: str) -> str:
    document = parse(text)
    if platform_name == "newsletter":
        from pipeline.longform.newsletter import render_newsletter

        return render_newsletter(text, client_name=client_name, language=language, templates_dir=templates_dir).html
    return titled_html(document)
