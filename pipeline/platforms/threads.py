"""Threads (Meta): 500 characters with emoji counted as UTF-8 bytes, one topic tag, at most 5 links."""

from __future__ import annotations

from pipeline.platforms import text as textlib
from pipeline.platforms.base import MB, Platform


class Threads(Platform):
    name = "threads"
    label = "Threads"
    # https://developers.facebook.com/documentation/threads/posts (Limitations):
    # "Text posts are limited to 500 characters." and "Emojis are counted as the number of UTF-8 bytes."
    text_limit = 500
    counting = "characters (code points), each emoji counted as its UTF-8 bytes"
    # https://developers.facebook.com/documentation/threads/create-posts/text-attachments:
    # since 22 Dec 2025 posts "containing more than 5 links will fail" (THREADS_API__LINK_LIMIT_EXCEEDED).
    link_limit = 5
    # Threads makes only one tag per post (Meta's design, reported at
    # https://www.ayrshare.com/apis/post/social-networks/threads "Threads only allows 1 hashtag per post").
    hashtag_limit = 1
    comment_limit = 500  # a reply is a post container with reply_to_id
    comment_hashtag_limit = 1

    supports_threads = True  # reply chains via reply_to_id
    # No published cap on reply chains (the API limits 250 posts and 1,000 replies per 24 h:
    # https://developers.facebook.com/docs/threads/overview/); 25 is Castmill's own ceiling.
    thread_max_posts = 25

    # Carousels up to 20 images/videos (https://www.ayrshare.com/apis/post/social-networks/threads).
    max_media = 20
    max_images = 20
    max_videos = 20
    mixed_media = True
    # https://ayrshare.com/docs/media-guidelines/threads: image ≤ 8 MB; video ≤ 300 s and ≤ 1 GB,
    # aspect 0.01:1 – 10:1 (9:16 recommended).
    image_max_bytes = 8 * MB
    video_max_seconds = 300.0
    video_max_bytes = 1024 * MB
    video_aspect_range = (0.01, 10.0)

    def count(self, text: str) -> int:
        total = 0
        for cluster in textlib.graphemes(text):
            total += textlib.utf8_length(cluster) if textlib.is_emoji(cluster) else len(cluster)
        return total
