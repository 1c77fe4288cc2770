"""LinkedIn: 3,000 characters of commentary, no threads, video 3 s – 30 min."""

from __future__ import annotations

from pipeline.platforms.base import MB, Platform


class LinkedIn(Platform):
    name = "linkedin"
    label = "LinkedIn"
    # Post commentary "accepts up to 3,000 characters"
    # (https://www.ayrshare.com/docs/apis/post/social-networks/linkedin; LinkedIn's own Posts API page was not
    # found by our search). Counted as UTF-16 code units, the conservative reading of "characters".
    text_limit = 3000
    counting = "characters (UTF-16 code units; an emoji outside the BMP counts 2)"
    hashtag_limit = None  # no published cap
    comment_limit = 1250  # a comment (socialActions/{urn}/comments) is shorter than a post

    # Multi-image posts: 2–20 images per the LinkedIn MultiImage API (not confirmed by our search).
    max_images = 20
    quote_card_posts = True
    max_videos = 1
    mixed_media = False
    # https://www.ayrshare.com/docs/media-guidelines/linkedin.md: image ≤ 5 MB; video MP4, 3 s – 30 min,
    # ≤ 500 MB, aspect ratio 1:2.4 – 2.4:1 (another Ayrshare page says 200 MB; LinkedIn's Videos API
    # documents 75 KB – 500 MB, so 500 MB is used).
    image_max_bytes = 5 * MB
    video_min_seconds = 3.0
    video_max_seconds = 30 * 60.0
    video_max_bytes = 500 * MB
    video_aspect_range = (1 / 2.4, 2.4)
