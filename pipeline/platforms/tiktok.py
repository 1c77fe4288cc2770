"""TikTok: video posts with a caption of up to 2,200 UTF-16 code units; 3 s – 10 min."""

from __future__ import annotations

from pipeline.platforms.base import MB, Platform


class TikTok(Platform):
    name = "tiktok"
    label = "TikTok"
    # Content Posting API, Direct Post, post_info.title (the video caption): at most 2,200 UTF-16 runes
    # (https://developers.tiktok.com/doc/content-posting-api-reference-direct-post). Photo posts differ:
    # title 90, description 4,000 (https://developers.tiktok.com/doc/content-posting-api-reference-photo-post).
    text_limit = 2200
    counting = "UTF-16 code units (TikTok's \"UTF-16 runes\")"
    # A 5-hashtag cap has been reported by third parties but is not in TikTok's developer docs; none is set.
    hashtag_limit = None
    no_comment_reason = "its Content Posting API has no comment endpoint"

    requires_media = True  # TikTok has no text-only posts
    # Photo mode: up to 35 images of ≤ 20 MB (https://docs.zernio.com/platforms/tiktok); no mixing.
    max_images = 35
    image_max_bytes = 20 * MB
    max_videos = 1
    mixed_media = False
    # 3 s – 10 min (https://docs.zernio.com/platforms/tiktok "Video duration 3 sec - 10 min",
    # "Video max size 4 GB"). The real maximum is per creator: creator_info/query → max_video_duration_sec.
    video_min_seconds = 3.0
    video_max_seconds = 600.0
    video_max_bytes = 4 * 1024 * MB
