"""Bluesky: 300 graphemes (and 3,000 UTF-8 bytes) per post, threads, 4 images or 1 video.

Links and mentions are facets over the text with UTF-8 byte offsets; the text
itself counts as written (a URL is not shortened for counting).
"""

from __future__ import annotations

from pipeline.platforms import text as textlib
from pipeline.platforms.base import Platform


class Bluesky(Platform):
    name = "bluesky"
    label = "Bluesky"
    # app.bsky.feed.post lexicon, text: maxGraphemes 300, maxLength 3000
    # (https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/feed/post.json, mirrored in
    # https://app.unpkg.com/@atcute/bluesky@3.3.0/files/lib/limits.ts). Lexicon string maxLength is counted
    # in UTF-8 bytes (https://atproto.com/specs/lexicon), so both caps apply.
    text_limit = 300
    byte_limit = 3000
    counting = "graphemes (UAX #29 extended grapheme clusters, as written); also ≤ 3,000 UTF-8 bytes"
    count_unit = "graphemes"
    url_length = None  # URLs count as written; links are facets with UTF-8 byte offsets
    # The record's separate `tags` array is capped at 8 (same lexicon); hashtags inside the text are not capped.
    hashtag_limit = None
    comment_limit = 300  # a reply is a post record: same graphemes and bytes

    supports_threads = True
    # Bluesky publishes no cap on reply chains; 25 is Castmill's own ceiling.
    thread_max_posts = 25

    # app.bsky.embed.images: at most 4 images, each blob maxSize 1,000,000 bytes
    # (https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/embed/images.json;
    # also https://docs.getlate.dev/resources/media-guidelines/bluesky "Bluesky has a 1 MB blob limit").
    max_images = 4
    quote_card_posts = True
    image_max_bytes = 1_000_000
    max_videos = 1
    mixed_media = False
    # Video: up to 3 minutes and 100 MB since Bluesky's March 2025 update
    # (https://bsky.app/profile/bsky.app/post/3lk26lxn6sk2u, quoted at
    # https://publish.obsidian.md/debbieohi/images-and-video). The 50 MB often quoted was the
    # September 2024 launch figure (then 60 s); the published figure is used here.
    video_max_seconds = 180.0
    video_max_bytes = 100_000_000

    def count(self, text: str) -> int:
        return len(textlib.graphemes(text))
