"""The platform base class: limits as class attributes, counting, validation and fitting.

One module per service subclasses ``Platform`` and sets the limits it
publishes (with a comment citing where each number comes from); the registry
in ``pipeline.platforms`` maps names to those classes. A limit left at
``None`` means the platform publishes none (or none we could verify).

``validate`` reports every problem with a post or thread as one-line
``Violation``\\ s; ``fit`` turns a text into post text(s) that pass the text
rules: unchanged when it fits, a numbered thread on platforms that have
threads, otherwise shortened at a sentence or word boundary with "…".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from pipeline.platforms import text as textlib
from pipeline.platforms.fitting import FitError, fit_text

MB = 1024 * 1024


@dataclass(frozen=True)
class Violation:
    rule: str  # stable machine name: "text_length", "hashtags", "video_too_long" …
    message: str  # one line for a person, e.g. "text is 312 characters as X counts them; the limit is 280"


@dataclass(frozen=True)
class MediaItem:
    kind: str  # "video" | "image" | "audio"
    path: str = ""  # file the publisher will upload; informational here
    seconds: float | None = None  # duration (video, audio); None = unknown, not checked
    width: int | None = None  # pixels; None = unknown
    height: int | None = None
    bytes: int | None = None  # file size; None = unknown, not checked


@dataclass(frozen=True)
class PostContent:
    text: str
    media: tuple[MediaItem, ...] = ()
    # Hashtags for the post. Any not already in ``text`` are appended after a
    # blank line when the post is published, so validation measures them too.
    hashtags: tuple[str, ...] = ()


MEDIA_KINDS = ("video", "image", "audio")


def compose(text: str, hashtags: Sequence[str] = ()) -> str:
    """``text`` plus the given hashtags not already in it (case-insensitively), after a blank line."""
    present = {textlib.hashtag_key(span.text) for span in textlib.find_hashtags(text)}
    extra: list[str] = []
    for tag in hashtags:
        normal = textlib.normalize_hashtag(tag)
        if normal and normal.casefold() not in present:
            present.add(normal.casefold())
            extra.append(normal)
    if not extra:
        return text
    return f"{text}\n\n{' '.join(extra)}" if text.strip() else " ".join(extra)


def _ratio(aspect: str) -> float:
    w, h = aspect.split(":")
    return float(w) / float(h)


def _size(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f} MB"
    return f"{n:,} bytes"


class Platform:
    """Limits and text rules of one social platform. Subclasses only set attributes
    (and override ``count`` when the platform counts specially)."""

    name: ClassVar[str]  # registry key: "x", "bluesky" …
    label: ClassVar[str]  # for people: "X", "Bluesky" …

    # --- text
    text_limit: ClassVar[int]  # maximum post length, in the platform's own counting
    counting: ClassVar[str] = "characters"  # how ``count`` measures, for people
    count_unit: ClassVar[str] = "characters"  # noun used in messages: "characters", "graphemes", "bytes"
    url_length: ClassVar[int | None] = None  # every URL counts as this many; None = as written
    byte_limit: ClassVar[int | None] = None  # additional cap in UTF-8 bytes (Bluesky's record limit)
    hashtag_limit: ClassVar[int | None] = None  # most hashtags one post may carry
    mention_limit: ClassVar[int | None] = None  # most @mentions one post may carry
    link_limit: ClassVar[int | None] = None  # most links one post may carry
    forbidden_characters: ClassVar[str] = ""  # characters the API rejects in text and title
    title_limit: ClassVar[int | None] = None  # separate title field (YouTube), in UTF-16 code units

    # Drafted for the episode only, never per highlight (show notes, newsletter, blog post).
    episode_only: ClassVar[bool] = False
    # A highlight post here carries the highlight's quote card as an image (its publisher uploads images).
    quote_card_posts: ClassVar[bool] = False

    # --- threads
    supports_threads: ClassVar[bool] = False  # can a post be followed by self-replies
    thread_max_posts: ClassVar[int] = 1  # posts in one thread, the first included

    # --- media
    requires_media: ClassVar[bool] = False  # a post needs at least one image or video
    requires_video: ClassVar[bool] = False  # a post needs a video (Shorts, Reels, TikTok)
    max_media: ClassVar[int | None] = None  # images + videos in one post; None = max_images/max_videos decide
    max_images: ClassVar[int | None] = None  # 0 = images not accepted; None = no published cap
    image_max_bytes: ClassVar[int | None] = None
    max_videos: ClassVar[int | None] = 1
    mixed_media: ClassVar[bool] = False  # may images and videos share one post
    audio_allowed: ClassVar[bool] = False  # audio-only attachments (Mastodon) are accepted
    video_min_seconds: ClassVar[float | None] = None
    video_max_seconds: ClassVar[float | None] = None
    video_max_bytes: ClassVar[int | None] = None
    video_aspects: ClassVar[tuple[str, ...]] = ()  # required aspect ratios ("9:16"); () = any
    video_aspect_range: ClassVar[tuple[float, float] | None] = None  # allowed width/height, inclusive
    video_min_size: ClassVar[tuple[int, int] | None] = None  # minimum (width, height) in pixels

    # --- first comment: a comment (or self-reply) posted right after the post
    comment_limit: ClassVar[int | None] = None  # longest comment, counted by ``count``; None = no comments here
    comment_hashtag_limit: ClassVar[int | None] = None  # most hashtags one comment may carry
    no_comment_reason: ClassVar[str] = "Castmill cannot post comments there"  # when comment_limit is None

    ASPECT_TOLERANCE: ClassVar[float] = 0.02  # 1080×1920 and 1088×1920 are both 9:16

    # ------------------------------------------------------------ counting

    def count(self, text: str) -> int:
        """Length of ``text`` as this platform counts it. Default: UTF-16 code units,
        the conservative reading of "characters" (an emoji outside the BMP counts 2)."""
        return textlib.utf16_length(text)

    def fits(self, text: str) -> bool:
        if self.count(text) > self.text_limit:
            return False
        return self.byte_limit is None or textlib.utf8_length(text) <= self.byte_limit

    def _cost(self, text: str) -> tuple[int, int]:
        """(count, UTF-8 bytes), the two measures the text limits apply to."""
        return self.count(text), textlib.utf8_length(text)

    def _within(self, cost: tuple[int, int]) -> bool:
        return cost[0] <= self.text_limit and (self.byte_limit is None or cost[1] <= self.byte_limit)

    # ------------------------------------------------------------ validation

    def validate(self, posts: Sequence[PostContent]) -> list[Violation]:
        """Every rule ``posts`` break: ``posts[0]`` is the main post, the rest are thread replies."""
        if not posts:
            return [Violation("empty", "there is no post to publish")]
        found: list[Violation] = []
        if len(posts) > 1 and not self.supports_threads:
            found.append(Violation("thread", f"{self.label} has no threads; got {len(posts)} posts, post one"))
        elif len(posts) > self.thread_max_posts:
            found.append(
                Violation(
                    "thread_length",
                    f"thread has {len(posts)} posts; {self.label} threads are capped at {self.thread_max_posts}",
                )
            )
        for index, post in enumerate(posts):
            where = f"post {index + 1} of {len(posts)}: " if len(posts) > 1 else ""
            found.extend(Violation(v.rule, where + v.message) for v in self._validate_post(post))
        return found

    def validate_first_comment(self, text: str) -> list[Violation]:
        """The rules a first comment breaks ([] for none, or for an empty one)."""
        if not text.strip():
            return []
        if self.comment_limit is None:
            return [Violation("first_comment", f"first comment: {self.label} takes none ({self.no_comment_reason})")]
        found: list[Violation] = []
        if (length := self.count(text)) > self.comment_limit:
            found.append(Violation("comment_length", f"first comment is {length} {self.count_unit} as {self.label} "
                                                     f"counts them; the limit is {self.comment_limit}"))
        if self.byte_limit is not None and (size := textlib.utf8_length(text)) > self.byte_limit:
            found.append(Violation("comment_bytes", f"first comment is {size} bytes in UTF-8; {self.label} allows "
                                                    f"{self.byte_limit}"))
        tags = {textlib.hashtag_key(span.text) for span in textlib.find_hashtags(text)}
        if self.comment_hashtag_limit is not None and len(tags) > self.comment_hashtag_limit:
            found.append(Violation("comment_hashtags", f"first comment has {len(tags)} hashtags; {self.label} "
                                                       f"allows {self.comment_hashtag_limit}"))
        return found

    def _validate_post(self, post: PostContent) -> list[Violation]:
        body = compose(post.text, post.hashtags)
        found = self._validate_text(body)
        if not body.strip() and not post.media:
            found.append(Violation("empty", "post has neither text nor media"))
        found.extend(self._validate_media(post.media))
        return found

    def _validate_text(self, body: str) -> list[Violation]:
        found: list[Violation] = []
        length = self.count(body)
        if length > self.text_limit:
            found.append(
                Violation(
                    "text_length",
                    f"text is {length} {self.count_unit} as {self.label} counts them; the limit is {self.text_limit}",
                )
            )
        if self.byte_limit is not None and (size := textlib.utf8_length(body)) > self.byte_limit:
            found.append(
                Violation("text_bytes", f"text is {size} bytes in UTF-8; {self.label} allows {self.byte_limit}")
            )
        tags = {textlib.hashtag_key(span.text) for span in textlib.find_hashtags(body)}
        if self.hashtag_limit is not None and len(tags) > self.hashtag_limit:
            found.append(
                Violation("hashtags", f"post has {len(tags)} hashtags; {self.label} allows {self.hashtag_limit}")
            )
        if self.mention_limit is not None and (n := len(textlib.find_mentions(body))) > self.mention_limit:
            found.append(Violation("mentions", f"post has {n} @mentions; {self.label} allows {self.mention_limit}"))
        if self.link_limit is not None:
            links = {span.text.lower() for span in textlib.find_urls(body)}
            if len(links) > self.link_limit:
                found.append(Violation("links", f"post has {len(links)} links; {self.label} allows {self.link_limit}"))
        bad = sorted({c for c in body if c in self.forbidden_characters})
        if bad:
            found.append(Violation("characters", f"text contains {' '.join(bad)}, which {self.label} rejects"))
        return found

    def check_title(self, title: str) -> list[Violation]:
        """Rules for a separate title field (YouTube); ``[]`` on platforms without one."""
        if self.title_limit is None:
            return []
        found: list[Violation] = []
        if not title.strip():
            found.append(Violation("title_empty", f"{self.label} needs a title"))
        if (length := textlib.utf16_length(title)) > self.title_limit:
            found.append(Violation("title_length", f"title is {length} characters; the limit is {self.title_limit}"))
        bad = sorted({c for c in title if c in self.forbidden_characters})
        if bad:
            found.append(Violation("characters", f"title contains {' '.join(bad)}, which {self.label} rejects"))
        return found

    def _validate_media(self, media: Sequence[MediaItem]) -> list[Violation]:
        found: list[Violation] = []
        unknown = sorted({m.kind for m in media if m.kind not in MEDIA_KINDS})
        if unknown:
            found.append(Violation("media_kind", f"unknown media kind {', '.join(unknown)}; use video, image or audio"))
        images = [m for m in media if m.kind == "image"]
        videos = [m for m in media if m.kind == "video"]
        audio = [m for m in media if m.kind == "audio"]
        label = self.label
        if self.requires_video and not videos:
            found.append(Violation("video_required", f"{label} posts need a video"))
        elif self.requires_media and not (images or videos):
            found.append(Violation("media_required", f"{label} posts need an image or a video"))
        if audio and not self.audio_allowed:
            found.append(Violation("audio", f"{label} does not take audio files; render an audiogram video instead"))
        if images and self.max_images == 0:
            found.append(Violation("images", f"{label} does not take images"))
        elif self.max_images is not None and len(images) > self.max_images:
            found.append(Violation("images", f"post has {len(images)} images; {label} allows {self.max_images}"))
        if self.max_videos is not None and len(videos) > self.max_videos:
            found.append(Violation("videos", f"post has {len(videos)} videos; {label} allows {self.max_videos}"))
        if images and videos and not self.mixed_media:
            found.append(Violation("mixed_media", f"{label} does not mix images and videos in one post"))
        if self.max_media is not None and len(images) + len(videos) > self.max_media:
            found.append(
                Violation("media_count", f"post has {len(images) + len(videos)} attachments; {label} allows {self.max_media}")
            )
        for n, item in enumerate(images, 1):
            if self.image_max_bytes is not None and item.bytes is not None and item.bytes > self.image_max_bytes:
                found.append(
                    Violation(
                        "image_size", f"image {n} is {_size(item.bytes)}; {label} allows {_size(self.image_max_bytes)}"
                    )
                )
        for n, item in enumerate(videos, 1):
            found.extend(self._validate_video(item, f"video {n}" if len(videos) > 1 else "video"))
        return found

    def _validate_video(self, item: MediaItem, name: str) -> list[Violation]:
        found: list[Violation] = []
        label = self.label
        if item.seconds is not None:
            if self.video_min_seconds is not None and item.seconds < self.video_min_seconds:
                found.append(
                    Violation(
                        "video_too_short",
                        f"{name} is {item.seconds:g} s; {label} needs at least {self.video_min_seconds:g} s",
                    )
                )
            if self.video_max_seconds is not None and item.seconds > self.video_max_seconds:
                found.append(
                    Violation(
                        "video_too_long",
                        f"{name} is {item.seconds:g} s; {label} allows at most {self.video_max_seconds:g} s",
                    )
                )
        if self.video_max_bytes is not None and item.bytes is not None and item.bytes > self.video_max_bytes:
            found.append(
                Violation("video_size", f"{name} is {_size(item.bytes)}; {label} allows {_size(self.video_max_bytes)}")
            )
        if item.width and item.height:
            ratio = item.width / item.height
            shape = f"{item.width}×{item.height}"
            if self.video_aspects and not any(
                abs(ratio - _ratio(a)) <= self.ASPECT_TOLERANCE * _ratio(a) for a in self.video_aspects
            ):
                found.append(
                    Violation("video_aspect", f"{name} is {shape}; {label} needs {' or '.join(self.video_aspects)}")
                )
            if self.video_aspect_range is not None:
                low, high = self.video_aspect_range
                if not low * (1 - self.ASPECT_TOLERANCE) <= ratio <= high * (1 + self.ASPECT_TOLERANCE):
                    found.append(
                        Violation(
                            "video_aspect",
                            f"{name} is {shape} (width/height {ratio:.2f}); {label} allows {low:g} to {high:g}",
                        )
                    )
            if self.video_min_size is not None:
                min_w, min_h = self.video_min_size
                if item.width < min_w or item.height < min_h:
                    found.append(
                        Violation("video_resolution", f"{name} is {shape}; {label} needs at least {min_w}×{min_h}")
                    )
        return found

    # ------------------------------------------------------------ fitting

    def fit(self, text: str, *, hashtags: Sequence[str] = ()) -> list[str]:
        """Post text(s) for ``text``: one post when it fits (hashtags appended as room allows),
        else a numbered thread (thread platforms) or a shortened post ending in "…".

        Raises ``FitError`` when one unbreakable piece (word, URL, #hashtag,
        @mention) is longer than a post, or a thread would need more posts than
        the platform allows.
        """
        return fit_text(self, text, hashtags)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: {self.text_limit} {self.count_unit}>"
