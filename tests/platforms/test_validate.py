"""``Platform.validate``: text, hashtags, media and thread rules, table-driven over every platform."""

from __future__ import annotations

import pytest

from pipeline.platforms import PLATFORM_NAMES, REGISTRY, MediaItem, PostContent, Violation, get_platform
from pipeline.platforms.base import MB

GOOD_VIDEO = MediaItem("video", path="clip.mp4", seconds=30.0, width=1080, height=1920, bytes=10 * MB)
GOOD_IMAGE = MediaItem("image", path="card.jpg", width=1080, height=1080, bytes=200_000)


def good_post(name: str, text: str = "New episode out now.") -> PostContent:
    cls = REGISTRY[name]
    media = (GOOD_VIDEO,) if (cls.requires_video or cls.requires_media) else ()
    return PostContent(text=text, media=media)


def rules(violations: list[Violation]) -> list[str]:
    return [v.rule for v in violations]


def with_platforms(attr: str):
    return [n for n in PLATFORM_NAMES if getattr(REGISTRY[n], attr) is not None]


@pytest.mark.parametrize("name", PLATFORM_NAMES)
def test_a_good_post_has_no_violations(name):
    assert get_platform(name).validate([good_post(name)]) == []


@pytest.mark.parametrize("name", PLATFORM_NAMES)
def test_text_too_long(name):
    platform = get_platform(name)
    violations = platform.validate([good_post(name, "a" * (platform.text_limit + 1))])
    assert rules(violations) == ["text_length"]
    assert str(platform.text_limit) in violations[0].message


def test_text_length_message_reads_as_documented():
    (violation,) = get_platform("x").validate([PostContent("a" * 312)])
    assert violation == Violation("text_length", "text is 312 characters as X counts them; the limit is 280")


def test_bluesky_byte_limit():
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"
    assert rules(get_platform("bluesky").validate([PostContent(family * 300)])) == ["text_bytes"]


# ---------------------------------------------------------------- media


@pytest.mark.parametrize("name", with_platforms("video_max_seconds"))
def test_video_too_long(name):
    platform = get_platform(name)
    video = MediaItem("video", seconds=platform.video_max_seconds + 1, width=1080, height=1920, bytes=MB)
    violations = platform.validate([PostContent("Clip.", media=(video,))])
    assert rules(violations) == ["video_too_long"]
    assert f"{platform.video_max_seconds:g} s" in violations[0].message


@pytest.mark.parametrize("name", with_platforms("video_min_seconds"))
def test_video_too_short(name):
    platform = get_platform(name)
    video = MediaItem("video", seconds=platform.video_min_seconds - 0.1, width=1080, height=1920, bytes=MB)
    assert rules(platform.validate([PostContent("Clip.", media=(video,))])) == ["video_too_short"]


@pytest.mark.parametrize("name", with_platforms("video_max_bytes"))
def test_video_too_big(name):
    platform = get_platform(name)
    video = MediaItem("video", seconds=10.0, width=1080, height=1920, bytes=platform.video_max_bytes + 1)
    assert rules(platform.validate([PostContent("Clip.", media=(video,))])) == ["video_size"]


def test_unknown_durations_and_sizes_are_not_guessed():
    video = MediaItem("video", path="clip.mp4")
    for name in PLATFORM_NAMES:
        assert get_platform(name).validate([PostContent("Clip.", media=(video,))]) == [], name


@pytest.mark.parametrize("name", [n for n in PLATFORM_NAMES if REGISTRY[n].max_images])
def test_too_many_images(name):
    platform = get_platform(name)
    images = (GOOD_IMAGE,) * (platform.max_images + 1)
    found = rules(platform.validate([PostContent("Photos.", media=images)]))
    assert "images" in found
    assert set(found) <= {"images", "media_count"}


@pytest.mark.parametrize("name", [n for n in PLATFORM_NAMES if REGISTRY[n].max_images == 0])
def test_images_not_accepted(name):
    post = PostContent("Photo.", media=(GOOD_VIDEO, GOOD_IMAGE))
    assert "images" in rules(get_platform(name).validate([post]))


@pytest.mark.parametrize("name", with_platforms("image_max_bytes"))
def test_image_too_big(name):
    platform = get_platform(name)
    image = MediaItem("image", bytes=platform.image_max_bytes + 1)
    violations = platform.validate([PostContent("Photo.", media=(image,))])
    assert rules(violations) == ["image_size"]


@pytest.mark.parametrize("name", [n for n in PLATFORM_NAMES if not REGISTRY[n].mixed_media and REGISTRY[n].max_images])
def test_images_and_video_in_one_post(name):
    post = PostContent("Both.", media=(GOOD_IMAGE, GOOD_VIDEO))
    assert "mixed_media" in rules(get_platform(name).validate([post]))


def test_audio_only_where_accepted():
    audio = MediaItem("audio", path="clip.m4a", seconds=30.0)
    assert get_platform("mastodon").validate([PostContent("Listen.", media=(audio,))]) == []
    assert "audio" in rules(get_platform("x").validate([PostContent("Listen.", media=(audio,))]))


def test_unknown_media_kind():
    post = PostContent("Hm.", media=(MediaItem("gif"),))
    assert "media_kind" in rules(get_platform("x").validate([post]))


@pytest.mark.parametrize(
    "name,rule",
    [(n, "video_required" if REGISTRY[n].requires_video else "media_required")
     for n in PLATFORM_NAMES if REGISTRY[n].requires_video or REGISTRY[n].requires_media],
)
def test_media_required(name, rule):
    assert rules(get_platform(name).validate([PostContent("Text only.")])) == [rule]


@pytest.mark.parametrize(
    "name,width,height",
    [("facebook", 1920, 1080), ("youtube", 1920, 1080), ("x", 400, 1600), ("linkedin", 300, 1000)],
)
def test_video_aspect_ratio(name, width, height):
    video = MediaItem("video", seconds=30.0, width=width, height=height, bytes=MB)
    assert rules(get_platform(name).validate([PostContent("Clip.", media=(video,))])) == ["video_aspect"]


def test_square_video_is_a_short_but_not_a_reel():
    video = MediaItem("video", seconds=30.0, width=1080, height=1080, bytes=MB)
    assert get_platform("youtube").validate([PostContent("Clip.", media=(video,))]) == []
    assert rules(get_platform("facebook").validate([PostContent("Clip.", media=(video,))])) == ["video_aspect"]


def test_reel_resolution():
    video = MediaItem("video", seconds=30.0, width=360, height=640, bytes=MB)
    assert rules(get_platform("facebook").validate([PostContent("Clip.", media=(video,))])) == ["video_resolution"]


# ---------------------------------------------------------------- hashtags, mentions, links, characters


@pytest.mark.parametrize("name", with_platforms("hashtag_limit"))
def test_too_many_hashtags(name):
    platform = get_platform(name)
    limit = platform.hashtag_limit
    in_text = " ".join(f"#tag{i}" for i in range(limit + 1))
    violations = platform.validate([good_post(name, f"Episode. {in_text}")])
    assert rules(violations) == ["hashtags"]
    assert f"{limit + 1} hashtags" in violations[0].message
    # the post's own hashtags count too, deduplicated case-insensitively against the text
    tags = tuple(f"TAG{i}" for i in range(limit)) + (f"extra{limit}",)
    post = PostContent("Episode. #tag0", media=good_post(name).media, hashtags=tags)
    assert rules(platform.validate([post])) == ["hashtags"]
    exactly = PostContent("Episode.", media=good_post(name).media, hashtags=tuple(f"t{i}" for i in range(limit)))
    assert platform.validate([exactly]) == []


def test_instagram_mentions_and_threads_links():
    mentions = " ".join(f"@guest{i}" for i in range(21))
    assert rules(get_platform("instagram").validate([good_post("instagram", mentions)])) == ["mentions"]
    links = " ".join(f"https://example.com/{i}" for i in range(6))
    assert rules(get_platform("threads").validate([PostContent(links)])) == ["links"]
    assert get_platform("threads").validate([PostContent(" ".join(["https://example.com/a"] * 6))]) == []


def test_youtube_title_and_characters():
    youtube = get_platform("youtube")
    assert youtube.check_title("Best moments of episode 42") == []
    assert rules(youtube.check_title("t" * 101)) == ["title_length"]
    assert rules(youtube.check_title("")) == ["title_empty"]
    assert rules(youtube.check_title("a <b>")) == ["characters"]
    assert rules(youtube.validate([good_post("youtube", "1 < 2")])) == ["characters"]
    assert get_platform("x").check_title("anything") == []


# ---------------------------------------------------------------- threads


@pytest.mark.parametrize("name", [n for n in PLATFORM_NAMES if REGISTRY[n].supports_threads])
def test_thread_too_long(name):
    platform = get_platform(name)
    posts = [PostContent(f"Part {i}.") for i in range(platform.thread_max_posts + 1)]
    violations = platform.validate(posts)
    assert rules(violations) == ["thread_length"]
    assert platform.validate(posts[:-1]) == []


@pytest.mark.parametrize("name", [n for n in PLATFORM_NAMES if not REGISTRY[n].supports_threads])
def test_no_threads_on_single_post_platforms(name):
    posts = [good_post(name), good_post(name)]
    assert rules(get_platform(name).validate(posts)) == ["thread"]


def test_thread_violations_name_the_post():
    posts = [PostContent("Fine."), PostContent("a" * 300)]
    (violation,) = get_platform("x").validate(posts)
    assert violation.rule == "text_length"
    assert violation.message.startswith("post 2 of 2: ")


def test_empty():
    assert rules(get_platform("x").validate([])) == ["empty"]
    assert rules(get_platform("x").validate([PostContent("   ")])) == ["empty"]
    assert get_platform("x").validate([PostContent("", media=(GOOD_IMAGE,))]) == []


@pytest.mark.parametrize("name", PLATFORM_NAMES)
def test_every_message_is_one_line(name):
    platform = get_platform(name)
    bad_video = MediaItem("video", seconds=100_000.0, width=1920, height=100, bytes=100 * 1024 * MB)
    posts = [
        PostContent("a" * 6000 + " <" + " ".join(f"#t{i}" for i in range(40)), media=(bad_video,) * 3 + (GOOD_IMAGE,) * 40)
    ] * 30
    violations = platform.validate(posts)
    assert violations
    assert all(v.message and "\n" not in v.message for v in violations)
