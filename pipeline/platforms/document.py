"""A long-form draft's text: a few "Field: value" lines, a blank line, then Markdown.

    Title: Pricing your work: what a podcast taught us
    Slug: pricing-your-work
    Description: Fixed packages beat hourly rates. Dinda and Budi on pricing the result.

    ## Stop selling your time
    …

The header is MultiMarkdown's metadata block: a client who edits the draft can write a colon in a
title without quoting anything (YAML front matter would break on it). The fields a kind needs are
checked by its platform (``pipeline.platforms.longform``). For static sites the same document is
exported with YAML front matter (``to_front_matter``), Markdown becomes HTML with markdown-it
(CommonMark; raw HTML in the Markdown is shown as text, never passed through), and the plain-text
version (the text part of an email) is the Markdown without its markup.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from pipeline.core.errors import CastmillError

FIELD = regex.compile(r"^(?P<name>[A-Za-z][A-Za-z -]{0,30}):[ \t]*(?P<value>.*)$")


class DocumentError(CastmillError):
    """A long-form draft whose header cannot be read; the message names the line."""


@dataclass(frozen=True)
class Document:
    fields: dict[str, str]  # lower-case names: {"title": …, "slug": …}
    body: str  # Markdown

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


def parse(text: str) -> Document:
    """The header fields and the Markdown body. A text that does not start with a field has no header."""
    lines = text.replace("\r\n", "\n").split("\n")
    fields: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            return Document(fields, "\n".join(lines[number:]).strip("\n"))
        match = FIELD.match(line)
        if match is None:
            if not fields:
                return Document({}, text.strip("\n"))
            raise DocumentError(f"line {number}: {line[:40]!r} is not a 'Field: value' line; leave a blank line "
                                "between the header and the text")
        name = match["name"].strip().lower()
        if name in fields:
            raise DocumentError(f"line {number}: {match['name']!r} is given twice")
        fields[name] = match["value"].strip()
    return Document(fields, "")


def compose(fields: dict[str, str], body: str) -> str:
    """The draft text for ``fields`` (in order, empty ones left out) and ``body``."""
    header = [f"{name.capitalize()}: {' '.join(value.split())}" for name, value in fields.items() if value]
    return "\n".join(header) + ("\n\n" if header else "") + body.strip("\n") + "\n"


def to_html(markdown: str) -> str:
    """CommonMark to HTML; raw HTML in the Markdown is escaped, links get no scripts."""
    return _markdown().render(markdown)


def titled_html(document: Document) -> str:
    """The document's Title (when it has one) as an ``<h1>``, then its body as HTML."""
    from html import escape

    title = document.get("title")
    return (f"<h1>{escape(title)}</h1>\n" if title else "") + to_html(document.body)


def to_text(markdown: str) -> str:
    """The Markdown as plain text: headings, emphasis and link syntax gone, link targets kept."""
    out: list[str] = []
    numbers: list[int | None] = []  # per open list: the next item number, None for bullets
    for token in _markdown().parse(markdown):
        if token.type == "inline":
            out.append(_inline_text(token))
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            numbers.append(int(token.attrs.get("start", 1)) if token.type == "ordered_list_open" else None)
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            numbers.pop()
            out.append("\n")
        elif token.type == "list_item_open":
            out.append("  " * (len(numbers) - 1) + ("- " if numbers[-1] is None else f"{numbers[-1]}. "))
            numbers[-1] = None if numbers[-1] is None else numbers[-1] + 1
        elif token.type in ("paragraph_close", "heading_close") and not token.hidden:  # tight lists hide theirs
            out.append("\n")
        elif token.type == "hr":
            out.append("---\n\n")
        elif token.type in ("fence", "code_block"):
            out.append(token.content + "\n")
    return regex.sub(r"\n{3,}", "\n\n", "".join(out)).strip() + "\n"


def _inline_text(token) -> str:
    parts, href = [], ""
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "link_open":
            href = child.attrs.get("href", "")
        elif child.type == "link_close" and href:
            label_is_url = parts and parts[-1].strip() == href
            parts.append("" if label_is_url else f" ({href})")
            href = ""
    return "".join(parts) + "\n"


def to_front_matter(document: Document) -> str:
    """The document for a static site generator: YAML front matter (safely quoted), then the Markdown."""
    import yaml

    header = yaml.safe_dump(document.fields, allow_unicode=True, sort_keys=False, width=10_000).strip()
    return f"---\n{header}\n---\n\n{document.body.strip()}\n"


def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
