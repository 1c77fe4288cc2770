"""Instagram (Reels and feed posts via the Graph API): 2,200-character captions, 5 hashtags, media required."""

from __future__ import annotations

from pipeline.platforms.base import MB, Platform


class Instagram(Platform):
    name = "instagram"
    label = "Instagram"
    # Caption: "Maximum 2200 characters, 30 hashtags, and 20 @ tags" (Graph API IG User Media reference, quoted at
    # https://help.swat.io/en/articles/6553969-instagram-reels and
    # https://docs.contentstudio.io/article/830-what-are-the-requirements-to-directly-publish-images-and-videos-to-instagram).
    text_limit = 2200
    counting = "characters (UTF-16 code units; an emoji outside the BMP counts 2)"
    # The API reference says ≤ 30 hashtags. Instagram has since capped captions at 5:
    # "Instagram will gradually update the number of hashtags that you can include in a caption for a reel
    # or post to 5" (announced by Adam Mosseri, December 2025; reported at
    # https://recentmedianews.com/instagram-implements-new-limits-on-hashtag-use/ and
    # https://en.shiftdelete.net/an-era-is-ending-on-instagram-hashtag-limit-imposed). The published 5 is used.
    hashtag_limit = 5
    comment_limit = 2200  # a comment on the media, same length as a caption
    comment_hashtag_limit = 30  # comments keep the older cap of 30 hashtags
    mention_limit = 20  # "20 @ tags", same API reference

    requires_media = True  # feed posts and Reels need an image or a video
    # Carousels hold up to 10 images and videos (https://ayrshare.com/apis/post/social-networks/instagram).
    max_media = 10
    max_images = 10
    max_videos = 10
    mixed_media = True
    # https://www.ayrshare.com/docs/media-guidelines/instagram.md: image ≤ 8 MB; Reels 3 s – 15 min, ≤ 300 MB
    # (other guides quote 1 GB; the smaller published figure is kept), aspect 0.01:1 – 10:1 with 9:16
    # recommended (1080×1920).
    image_max_bytes = 8 * MB
    video_min_seconds = 3.0
    video_max_seconds = 15 * 60.0
    video_max_bytes = 300 * MB
    video_aspect_range = (0.01, 10.0)
