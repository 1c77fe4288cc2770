"""Counting, table-driven over every platform, plus the examples platforms publish.

Published examples asserted here, with their sources:
- X: the examples on https://docs.x.com/resources/fundamentals/counting-characters; twitter-text's
  whole conformance file (conformance/validate.yml) runs in test_twitter_text_conformance.py.
- Bluesky counts UAX #29 extended grapheme clusters (app.bsky.feed.post maxGraphemes 300):
  examples from UAX #29 Table 1a (https://www.unicode.org/reports/tr29/).
- Mastodon: https://docs.joinmastodon.org/user/posting/ (links count 23; only the username part of a mention).
- Threads: https://developers.facebook.com/documentation/threads/posts ("Emojis are counted as the number of UTF-8 bytes").
- YouTube: snippet.description is limited in bytes (https://developers.google.com/youtube/v3/docs/videos).
"""

from __future__ import annotations

import pytest

from pipeline.core.errors import CastmillError
from pipeline.platforms import PLATFORM_NAMES, REGISTRY, Platform, UnknownPlatform, get_platform

FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"  # 👨‍👩‍👧‍👦: 7 code points, 11 UTF-16 units, 25 bytes
LONG_URL = "https://example.com/" + "a" * 200  # 220 characters

SAMPLES: dict[str, str] = {
    "ascii": "Hello, world!",
    "family": FAMILY,
    "flag": "\U0001F1EE\U0001F1E9",  # 🇮🇩: two regional indicators
    "skin_tone": "\U0001F44D\U0001F3FD",  # 👍🏽
    "combining": "e\u0301",  # e + combining acute (NFC: é)
    "cjk": "播客节目",
    "arabic": "مرحبا بالعالم",
    "hebrew": "שלום עולם",
    "url_short": "https://t.co/abc",
    "url_long": LONG_URL,
    "indonesian": "Dengarkan episode terbaru kami!",
    "remote_mention": "@alice@example.social hi",
}

# What each platform's count must be, worked out by hand from its published rule (see each module).
_UTF16 = {"ascii": 13, "family": 11, "flag": 4, "skin_tone": 4, "combining": 2, "cjk": 4, "arabic": 13, "hebrew": 9,
          "url_short": 16, "url_long": 220, "indonesian": 31, "remote_mention": 24}
EXPECTED: dict[str, dict[str, int]] = {
    # weighted: emoji sequences 2, CJK 2, Latin/Arabic/Hebrew 1, any URL 23, NFC first
    "x": {"ascii": 13, "family": 2, "flag": 2, "skin_tone": 2, "combining": 1, "cjk": 8, "arabic": 13, "hebrew": 9,
          "url_short": 23, "url_long": 23, "indonesian": 31, "remote_mention": 24},
    # grapheme clusters, URLs as written
    "bluesky": {"ascii": 13, "family": 1, "flag": 1, "skin_tone": 1, "combining": 1, "cjk": 4, "arabic": 13,
                "hebrew": 9, "url_short": 16, "url_long": 220, "indonesian": 31, "remote_mention": 24},
    # grapheme clusters, URL 23, "@alice@example.social" counts "@alice"
    "mastodon": {"ascii": 13, "family": 1, "flag": 1, "skin_tone": 1, "combining": 1, "cjk": 4, "arabic": 13,
                 "hebrew": 9, "url_short": 23, "url_long": 23, "indonesian": 31, "remote_mention": 9},
    "linkedin": _UTF16,
    "instagram": _UTF16,
    # code points, emoji as their UTF-8 bytes
    "threads": {"ascii": 13, "family": 25, "flag": 8, "skin_tone": 8, "combining": 2, "cjk": 4, "arabic": 13,
                "hebrew": 9, "url_short": 16, "url_long": 220, "indonesian": 31, "remote_mention": 24},
    "tiktok": _UTF16,
    # UTF-8 bytes
    "youtube": {"ascii": 13, "family": 25, "flag": 8, "skin_tone": 8, "combining": 3, "cjk": 12, "arabic": 25,
                "hebrew": 17, "url_short": 16, "url_long": 220, "indonesian": 31, "remote_mention": 24},
    "facebook": _UTF16,
}


# ---------------------------------------------------------------- registry


def test_registry_names_are_exactly_the_nine_platforms():
    assert PLATFORM_NAMES == ("x", "bluesky", "mastodon", "linkedin", "instagram", "threads", "tiktok", "youtube", "facebook")
    assert set(EXPECTED) == set(PLATFORM_NAMES)


@pytest.mark.parametrize("name", PLATFORM_NAMES)
def test_get_platform_returns_that_platform(name):
    platform = get_platform(name)
    assert isinstance(platform, Platform)
    assert platform.name == name
    assert get_platform(name.upper()).name == name


def test_unknown_platform_lists_the_valid_names():
    with pytest.raises(UnknownPlatform) as info:
        get_platform("myspace")
    assert isinstance(info.value, CastmillError)
    message = str(info.value)
    assert "myspace" in message
    assert all(name in message for name in PLATFORM_NAMES)


@pytest.mark.parametrize("name", PLATFORM_NAMES)
def test_limits_are_declared_as_class_attributes(name):
    cls = REGISTRY[name]
    assert isinstance(cls.label, str) and cls.label
    assert isinstance(cls.text_limit, int) and cls.text_limit > 0
    assert isinstance(cls.counting, str) and cls.counting
    assert cls.thread_max_posts >= 1
    assert cls.supports_threads == (cls.thread_max_posts > 1)
    for attr in ("url_length", "hashtag_limit", "max_images", "image_max_bytes", "video_max_bytes", "title_limit"):
        value = getattr(cls, attr)
        assert value is None or (isinstance(value, int) and value >= 0), attr
    if cls.video_min_seconds is not None and cls.video_max_seconds is not None:
        assert cls.video_min_seconds < cls.video_max_seconds
    assert all(":" in aspect for aspect in cls.video_aspects)


def test_published_limits():
    """The figures the modules encode (sources cited in each module)."""
    limits = {name: REGISTRY[name].text_limit for name in PLATFORM_NAMES}
    assert limits == {"x": 280, "bluesky": 300, "mastodon": 500, "linkedin": 3000, "instagram": 2200, "threads": 500,
                      "tiktok": 2200, "youtube": 5000, "facebook": 63206}
    assert get_platform("x").url_length == 23
    assert get_platform("mastodon").url_length == 23
    assert get_platform("bluesky").url_length is None
    assert get_platform("bluesky").byte_limit == 3000
    assert get_platform("instagram").hashtag_limit == 5  # was 30 until Instagram's December 2025 change
    assert get_platform("youtube").title_limit == 100
    assert get_platform("youtube").video_max_seconds == 180
    assert (get_platform("facebook").video_min_seconds, get_platform("facebook").video_max_seconds) == (3, 90)


# ---------------------------------------------------------------- tricky strings, every platform


@pytest.mark.parametrize("name", PLATFORM_NAMES)
@pytest.mark.parametrize("sample", list(SAMPLES))
def test_count_tricky_strings(name, sample):
    assert get_platform(name).count(SAMPLES[sample]) == EXPECTED[name][sample]


@pytest.mark.parametrize("name", PLATFORM_NAMES)
def test_counts_add_up_across_a_space(name):
    """fit relies on counts being additive across whitespace."""
    platform = get_platform(name)
    parts = list(SAMPLES.values())
    assert platform.count(" ".join(parts)) == sum(platform.count(p) for p in parts) + len(parts) - 1


@pytest.mark.parametrize("name", PLATFORM_NAMES)
def test_empty_text_counts_zero(name):
    assert get_platform(name).count("") == 0


# ---------------------------------------------------------------- X: examples X publishes
# (twitter-text's whole conformance file runs in test_twitter_text_conformance.py)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("\U0001F47E", 2),  # 👾 "Default length of known emoji"
        ("🙋🏽", 2),  # "Emoji with skin tone modifier"
        ("👨\u200d🎤", 2),  # "Emoji sequence using combining glyph (zero-width joiner)"
        (FAMILY, 2),  # "Emoji sequence using multiple combining glyphs"
        ("caf\u00e9", 4),  # café composed ...
        ("cafe\u0301", 4),  # ... and decomposed: X normalizes to NFC, both count 4
        ("a", 1), ("\u00e1", 1), ("\u04d1", 1),  # table of single characters on the same page
        # The same table lists U+1ED2 (Ồ) as 1, but it lies outside every weight-1 range of config v3
        # (0–4351 …), and NFC keeps it composed, so twitter-text counts it 2. We follow the config.
        ("\u1ed2", 2),
    ],
)
def test_x_documented_examples(text, expected):
    """https://docs.x.com/resources/fundamentals/counting-characters"""
    assert get_platform("x").count(text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("see https://example.com/a.", 4 + 23 + 1),  # the full stop ends the sentence, not the URL
        ("(https://example.com/a)", 1 + 23 + 1),
        ("listen at podcast.id", 10 + 10),  # bare name + ccTLD without a path is not linked ...
        ("listen at podcast.id/ep1", 10 + 23),  # ... with a path it is
        ("example.co", 23),  # .co and .tv are linked even without a path
        ("ftp://example.com", 17),  # only http(s) schemes, and a bare domain may not follow "/"
        ("email me@example.com", 20),  # an address is not a URL
        ("#example.com", 12),  # nor is a hashtag-looking domain
        ("https://" + "a" * 64 + ".com", 8 + 64 + 4),  # a label over 63 characters is not a host
        ("test.com", 23),  # a bare domain counts as a link ...
        ("Test https://test.com test https://test.com test.com test", 5 + 23 + 6 + 23 + 1 + 23 + 5),  # ... each one
    ],
)
def test_x_url_detection(text, expected):
    assert get_platform("x").count(text) == expected


# ---------------------------------------------------------------- Bluesky: graphemes (UAX #29)

_ENGLAND = "\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F"  # flag of England: a tag sequence


@pytest.mark.parametrize(
    "text,expected",
    [
        ("g\u0308", 1),  # g̈: base + combining diaeresis (UAX #29 Table 1a)
        ("\u1100\u1161\u11a8", 1),  # 각 as conjoining jamo (Table 1a)
        ("\u0e01", 1),  # Thai ก (Table 1a)
        ("\u0ba8\u0bbf", 1),  # Tamil நி (Table 1a)
        ("\u0937\u093f", 1),  # Devanagari षि (Table 1a)
        ("\U0001F1F7\U0001F1F8\U0001F1EE\U0001F1F4", 2),  # 🇷🇸🇮🇴: regional indicators pair up (rule GB12/13)
        ("\r\n", 1),  # CR LF is one cluster (GB3)
        (FAMILY + "\U0001F44D\U0001F3FD" + _ENGLAND, 3),
    ],
)
def test_bluesky_counts_extended_grapheme_clusters(text, expected):
    assert get_platform("bluesky").count(text) == expected


def test_bluesky_byte_limit_applies_as_well():
    bluesky = get_platform("bluesky")
    three_hundred_families = FAMILY * 300
    assert bluesky.count(three_hundred_families) == 300  # within 300 graphemes ...
    assert not bluesky.fits(three_hundred_families)  # ... but 7,500 bytes > 3,000
    assert bluesky.fits("a" * 300)
    assert not bluesky.fits("a" * 301)


# ---------------------------------------------------------------- Mastodon, Threads, YouTube


@pytest.mark.parametrize(
    "text,expected",
    [
        ("@alice@example.com", 6),  # "Only the username part will count against your character limit"
        ("@alice", 6),
        ("hi @bob@mastodon.social and @carol", 3 + 4 + 5 + 6),
        ("read " + LONG_URL, 5 + 23),  # "counted as 23 characters regardless of length"
        ("read example.com", 16),  # links must start with http(s):// to be links
        ("see https://example.com/@alice@host.example", 4 + 23),  # a mention inside a URL is part of the URL
    ],
)
def test_mastodon_documented_rules(text, expected):
    assert get_platform("mastodon").count(text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [("\U0001F600", 4), ("hi \U0001F600", 7), ("\u2764\ufe0f", 6), ("播客", 2), ("\u00e9", 1)],
)
def test_threads_counts_emoji_as_utf8_bytes(text, expected):
    assert get_platform("threads").count(text) == expected


def test_youtube_description_counts_bytes():
    youtube = get_platform("youtube")
    assert youtube.count("é" * 2500) == 5000
    assert youtube.fits("é" * 2500)
    assert not youtube.fits("é" * 2501)
