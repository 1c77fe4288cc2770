"""YouTube Shorts: title 100 characters, description 5,000 bytes, vertical or square video up to 3 minutes."""

from __future__ import annotations

from pipeline.platforms import text as textlib
from pipeline.platforms.base import Platform


class YouTube(Platform):
    name = "youtube"
    label = "YouTube"
    # The post text is the video description. YouTube Data API, videos resource: snippet.description
    # "has a maximum length of 5000 bytes and may contain all valid UTF-8 characters except < and >";
    # snippet.title has "a maximum length of 100 characters" (https://developers.google.com/youtube/v3/docs/videos;
    # the bytes wording is confirmed at https://publish.dokuntag.com/en/social/youtube/description-limit,
    # and "any characters except < and >" at https://ayrshare.com/docs/apis/post/social-networks/youtube).
    text_limit = 5000
    counting = "UTF-8 bytes (description)"
    count_unit = "bytes"
    title_limit = 100
    forbidden_characters = "<>"
    # More than 15 hashtags and YouTube ignores all of them (hashtag policy,
    # https://support.google.com/youtube/answer/6390658; guides disagree between 15 and 60 — the stricter is kept).
    hashtag_limit = 15
    no_comment_reason = "Castmill does not post YouTube comments yet; pin one by hand"

    requires_video = True
    max_images = 0
    max_videos = 1
    # Shorts: "up to 3 minutes … videos that are square or taller in aspect ratio" (from 15 Oct 2024,
    # https://support.google.com/youtube/answer/15424877). Longer or wider uploads become regular videos.
    video_max_seconds = 180.0
    video_aspect_range = (0.0, 1.0)  # width/height ≤ 1: square or vertical

    def count(self, text: str) -> int:
        return textlib.utf8_length(text)
