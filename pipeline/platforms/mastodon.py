"""Mastodon: 500 characters by default (per instance), URLs count 23, remote mentions count the username only."""

from __future__ import annotations

from pipeline.platforms import text as textlib
from pipeline.platforms.base import MB, Platform

URL_PLACEHOLDER = "x" * 23


def countable_text(text: str) -> str:
    """What Mastodon's StatusLengthValidator measures: every http(s) URL replaced by 23 characters,
    every ``@user@domain`` reduced to ``@user``."""
    spans = [(s.start, s.end, URL_PLACEHOLDER) for s in textlib.find_urls(text, bare_domains=False)]
    for span, user, _domain in textlib.find_mentions(text):
        if all(span.end <= a or span.start >= b for a, b, _ in spans):
            spans.append((span.start, span.end, "@" + user))
    out, pos = [], 0
    for start, end, replacement in sorted(spans):
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)


class Mastodon(Platform):
    name = "mastodon"
    label = "Mastodon"
    # https://docs.joinmastodon.org/user/posting/: "The default character limit is 500 characters."
    # Instances may raise it (GET /api/v2/instance → configuration.statuses.max_characters);
    # subclass or pass the instance's figure when publishing there.
    text_limit = 500
    counting = "graphemes (each http(s) URL 23, @user@domain counts @user)"
    count_unit = "characters"
    # Same page: links "are counted as 23 characters regardless of length"; only http:// and https:// links.
    # configuration.statuses.characters_reserved_per_url in /api/v2/instance.
    url_length = 23
    hashtag_limit = None
    comment_limit = 500  # a reply is a status with in_reply_to_id: the same limit

    supports_threads = True
    # Reply chains have no cap; 25 is Castmill's own ceiling.
    thread_max_posts = 25

    # configuration.statuses.max_media_attachments is 4 on a default instance
    # (https://docs.joinmastodon.org/entities/Instance/); one video or up to 4 images.
    max_images = 4
    quote_card_posts = True
    max_videos = 1
    mixed_media = False
    audio_allowed = True  # Mastodon accepts audio attachments (MediaAttachment audio MIME types)
    # MediaAttachment::IMAGE_LIMIT 16 MB and VIDEO_LIMIT 99 MB since Mastodon 4.2
    # (mastodon/mastodon#23726, noted in https://github.com/Lori3f6/mastodon v4.2.1/patch.sh); per instance.
    image_max_bytes = 16 * MB
    video_max_bytes = 99 * MB

    def count(self, text: str) -> int:
        # StatusLengthValidator counts grapheme clusters of the countable text
        # (https://github.com/mastodon/mastodon/blob/main/app/validators/status_length_validator.rb).
        return len(textlib.graphemes(countable_text(text)))
