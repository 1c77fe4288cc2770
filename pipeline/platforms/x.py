"""X (formerly Twitter): 280 weighted characters, threads, up to 4 images or 1 video.

Counting follows twitter-text's published configuration v3 and conformance
suite (weights per code-point range, every URL 23, each emoji 2, NFC first);
see ``weighted_length``. The code is ours: the maintained-library route was
checked and rejected (``twitter-text-parser`` 3.0.0, the only Python port,
imports ``pkg_resources``, which setuptools ≥ 81 no longer ships, and bundles
2019 emoji data).
"""

from __future__ import annotations

from pipeline.platforms import text as textlib
from pipeline.platforms.base import MB, Platform

# twitter-text config/v3.json (https://github.com/twitter/twitter-text/blob/master/config/v3.json),
# described at https://docs.x.com/resources/fundamentals/counting-characters
SCALE = 100  # weights are in hundredths of a character
DEFAULT_WEIGHT = 200  # any code point outside RANGES counts 2 (CJK, most symbols)
RANGES = (
    (0x0000, 0x10FF, 100),  # Latin-1 through Georgian: 1 each (Latin, Cyrillic, Arabic, Hebrew, Devanagari, Thai …)
    (0x2000, 0x200D, 100),  # general punctuation spaces up to and including the zero-width joiner
    (0x2010, 0x201F, 100),  # dashes and quotes (U+200E/U+200F directional marks excluded: they count 2)
    (0x2032, 0x2037, 100),  # primes
)
EMOJI_WEIGHT = DEFAULT_WEIGHT  # v3 "emojiParsingEnabled": a whole emoji sequence counts 2
TRANSFORMED_URL_LENGTH = 23  # every URL is wrapped in a t.co link of this length


def _code_point_weight(ch: str) -> int:
    cp = ord(ch)
    for low, high, weight in RANGES:
        if low <= cp <= high:
            return weight
    return DEFAULT_WEIGHT


def _plain_weight(segment: str) -> int:
    total = 0
    for cluster in textlib.graphemes(segment):
        if textlib.is_emoji(cluster):
            total += EMOJI_WEIGHT
        else:
            total += sum(_code_point_weight(ch) for ch in cluster)
    return total


def weighted_length(text: str) -> int:
    """twitter-text ``parseTweet(text).weightedLength`` (config v3)."""
    normalized = textlib.nfc(text)
    total, pos = 0, 0
    for span in textlib.find_urls(normalized, bare_domains=True):  # X links bare domains too
        total += _plain_weight(normalized[pos : span.start]) + TRANSFORMED_URL_LENGTH * SCALE
        pos = span.end
    total += _plain_weight(normalized[pos:])
    return total // SCALE


class X(Platform):
    name = "x"
    label = "X"
    # https://docs.x.com/resources/fundamentals/counting-characters: "up to 280 characters"
    # (twitter-text v3.json maxWeightedTweetLength 280; X Premium's 25,000 is not assumed).
    text_limit = 280
    counting = "weighted (X): twitter-text v3 — most scripts 1, CJK and other ranges 2, each emoji 2, any URL 23, after NFC"
    count_unit = "characters"
    url_length = TRANSFORMED_URL_LENGTH  # same page: "All URLs … count as 23 characters"
    hashtag_limit = None  # X publishes no hashtag cap

    supports_threads = True
    # X publishes no cap on thread length (replies can chain indefinitely); 25 is Castmill's own ceiling.
    thread_max_posts = 25

    # https://docs.x.com/x-api/media/quickstart/best-practices: "up to 4 photos, 1 animated GIF or 1 video in a Post"
    max_images = 4
    max_videos = 1
    mixed_media = False
    # https://docs.x.com/x-api/media (size restrictions): image 5 MB, video 512 MB (media_category=amplify_video)
    image_max_bytes = 5 * MB
    video_max_bytes = 512 * MB
    # Duration 0.5–140 s and aspect ratio 1:3–3:1 for API uploads, as listed in
    # https://www.ayrshare.com/docs/media-guidelines/x_twitter (X's own page was not found by our search).
    video_min_seconds = 0.5
    video_max_seconds = 140.0
    video_aspect_range = (1 / 3, 3.0)

    def count(self, text: str) -> int:
        return weighted_length(text)
