"""Facebook Reels on Pages: 9:16 video of 3–90 s, at least 540×960; long descriptions allowed."""

from __future__ import annotations

from pipeline.platforms.base import Platform


class Facebook(Platform):
    name = "facebook"
    label = "Facebook"
    # Post text up to 63,206 characters (https://docs.upload-post.com/resources/character-limits/
    # "post | 63,206 characters maximum"). Meta's Reels docs publish no separate description limit.
    text_limit = 63206
    counting = "characters (UTF-16 code units; an emoji outside the BMP counts 2)"
    hashtag_limit = None
    comment_limit = 8000  # a comment on the Page post

    requires_video = True  # this platform entry publishes Reels
    max_images = 0
    max_videos = 1
    # Reels Publishing API, Video Specifications (https://developers.facebook.com/docs/video-api/guides/reels-publishing):
    # aspect ratio 9 x 16; resolution 1080×1920 recommended, 540×960 minimum; duration 3 to 90 seconds.
    # No file-size cap is published there.
    video_min_seconds = 3.0
    video_max_seconds = 90.0
    video_aspects = ("9:16",)
    video_min_size = (540, 960)
