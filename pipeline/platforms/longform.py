"""Long-form "platforms": show notes, a newsletter and a WordPress blog post.

They go through the same drafts, review, calendar and scheduler as posts, so each is a
``Platform`` with its rules as class attributes. Their text is a document
(``pipeline.platforms.document``): "Field: value" header lines, a blank line, Markdown. A draft
is made for the episode only (``episode_only``), never per highlight, and its text is never
threaded, shortened or given hashtags: a VA edits it instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import regex

from pipeline.platforms.base import Platform, PostContent, Violation
from pipeline.platforms.document import DocumentError, parse

SLUG = regex.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Search engines cut a meta description at about 155 characters.
DESCRIPTION_CHARS = 155


class LongFormPlatform(Platform):
    episode_only: ClassVar[bool] = True
    text_limit = 100_000  # the drafts' output cap; the body has no platform limit of its own
    max_videos = 0
    max_images = 0
    # Header fields the document must have, and the longest each may be (characters).
    required_fields: ClassVar[tuple[str, ...]] = ()
    field_limits: ClassVar[dict[str, int]] = {}
    no_comment_reason = "a document has no comments to post"

    def fit(self, text: str, hashtags: Sequence[str] = ()) -> list[str]:
        return [text.strip() + "\n"]

    def _validate_post(self, post: PostContent) -> list[Violation]:
        try:
            document = parse(post.text)
        except DocumentError as exc:
            return self._validate_text(post.text) + [Violation("header", str(exc))]
        found = self._validate_text(document.body) + self._validate_fields(document.fields)
        if not document.body.strip():
            found.append(Violation("empty", f"the {self.label.lower()} has a header but no text below it"))
        return found + self._validate_media(post.media)

    def _validate_fields(self, fields: dict[str, str]) -> list[Violation]:
        found = [Violation("missing_field", f"the header has no {name.capitalize()}: line")
                 for name in self.required_fields if not fields.get(name)]
        for name, limit in self.field_limits.items():
            if len(fields.get(name, "")) > limit:
                found.append(Violation(f"{name}_length", f"{name.capitalize()} is {len(fields[name])} characters; "
                                                         f"keep it to {limit}"))
        return found


class ShowNotes(LongFormPlatform):
    name = "shownotes"
    label = "Show notes"
    required_fields = ("title",)
    # Apple Podcasts takes an episode description of up to 4,000 characters (its RSS feed requirements);
    # the strictest of the hosts the notes are pasted into.
    text_limit = 4000


class Newsletter(LongFormPlatform):
    name = "newsletter"
    label = "Newsletter"
    required_fields = ("subject",)
    # RFC 5322 §2.1.1: a header line may not exceed 998 characters; inbox previews show about 100
    # characters of preheader text, so a longer one is only padding.
    field_limits = {"subject": 998, "preheader": 150}


class WordPressBlog(LongFormPlatform):
    name = "wordpress"
    label = "WordPress blog"
    required_fields = ("title", "slug", "description")
    field_limits = {"description": DESCRIPTION_CHARS}
    max_images = 1  # the featured image

    def _validate_fields(self, fields: dict[str, str]) -> list[Violation]:
        found = super()._validate_fields(fields)
        if fields.get("slug") and not SLUG.fullmatch(fields["slug"]):
            found.append(Violation("slug", f"Slug {fields['slug']!r} may hold only a-z, 0-9 and single hyphens"))
        return found


LONG_FORM = (ShowNotes, Newsletter, WordPressBlog)
