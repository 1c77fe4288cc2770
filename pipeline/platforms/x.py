"""X (formerly Twitter): 280 weighted characters, threads, up to 4 images or 1 video.

Counting and validity follow twitter-text's ``parseTweet`` with its published
configuration v3 (weights per code-point range, every URL 23, each emoji 2,
NFC first; text with a byte-order mark or U+FFFF is invalid) and are checked
against twitter-text's conformance file ``validate.yml``; see ``parse_tweet``. The code is ours: the maintained-library route was
checked and rejected (``twitter-text-parser`` 3.0.0, the only Python port,
imports ``pkg_resources``, which setuptools ≥ 81 no longer ships, and bundles
2019 emoji data).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import regex

from pipeline.platforms import text as textlib
from pipeline.platforms.base import MB, Platform, PostContent, Violation

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
TRANSFORMED_URL_LENGTH = 23  # every URL is wrapped in a t.co link of this length
MAX_WEIGHTED_LENGTH = 280

# twitter-text's INVALID_CHARACTERS (Regex.java, regex.rb, invalidCharsGroup.js): a post containing
# one is not valid. Version 3.0 dropped the directional marks U+202A–U+202E from the list.
INVALID_CHARACTERS = frozenset("\ufffe\ufeff\uffff")


@dataclass(frozen=True)
class CountingConfig:
    """One twitter-text counting configuration (config/v1.json … v3.json)."""

    max_weighted_length: int
    scale: int
    default_weight: int
    transformed_url_length: int
    ranges: tuple[tuple[int, int, int], ...]
    emoji_parsing: bool

    def weight(self, ch: str) -> int:
        cp = ord(ch)
        for low, high, weight in self.ranges:
            if low <= cp <= high:
                return weight
        return self.default_weight


# v3 "emojiParsingEnabled": a whole emoji sequence weighs DEFAULT_WEIGHT, like one CJK character
CONFIG_V3 = CountingConfig(MAX_WEIGHTED_LENGTH, SCALE, DEFAULT_WEIGHT, TRANSFORMED_URL_LENGTH, RANGES, True)
# The superseded configurations: twitter-text's conformance suite still checks
# plain tweet validity against v1 (140 code points) and weights against v2 (no emoji rule).
CONFIG_V2 = replace(CONFIG_V3, emoji_parsing=False)
CONFIG_V1 = CountingConfig(140, 1, 1, TRANSFORMED_URL_LENGTH, (), False)


@dataclass(frozen=True)
class ParsedTweet:
    """twitter-text's ``parseTweet`` result. Ranges are inclusive indices in UTF-16
    code units of the text as given (before NFC), as in the Java and JS libraries."""

    weighted_length: int
    valid: bool
    permillage: int  # weighted length per thousand of the limit
    valid_range_start: int
    valid_range_end: int  # last index still within the limit and before any invalid character
    display_range_start: int
    display_range_end: int


def _plain_pieces(segment: str, config: CountingConfig) -> Iterator[tuple[str, int]]:
    if not config.emoji_parsing:
        yield from ((ch, config.weight(ch)) for ch in segment)
        return
    for cluster in textlib.graphemes(segment):
        if textlib.is_emoji(cluster):
            yield cluster, config.default_weight
        else:
            yield from ((ch, config.weight(ch)) for ch in cluster)


def _weighed_pieces(normalized: str, config: CountingConfig) -> Iterator[tuple[str, int]]:
    """(piece, scaled weight) for each unit twitter-text weighs: a URL, an emoji or one code point."""
    pos = 0
    for span in textlib.find_urls(normalized, bare_domains=True):  # X links bare domains too
        yield from _plain_pieces(normalized[pos : span.start], config)
        yield span.text, config.transformed_url_length * config.scale
        pos = span.end
    yield from _plain_pieces(normalized[pos:], config)


def _utf16_units(piece: str) -> int:
    return len(piece) + sum(ch > "\uffff" for ch in piece)  # characters beyond the BMP take two


def parse_tweet(text: str, config: CountingConfig = CONFIG_V3) -> ParsedTweet:
    """twitter-text ``parseTweet(text)``: weighted length, validity and the valid range."""
    normalized = textlib.nfc(text)
    limit = config.max_weighted_length * config.scale
    total = offset = valid_offset = 0
    clean = True
    for piece, weight in _weighed_pieces(normalized, config):
        total += weight
        offset += _utf16_units(piece)
        clean = clean and INVALID_CHARACTERS.isdisjoint(piece)
        if clean and total <= limit:
            valid_offset = offset
    length = total // config.scale
    nfc_shift = _utf16_units(text) - offset  # NFC may lengthen (U+FB2C) or shorten (A + U+0301) the text
    return ParsedTweet(
        weighted_length=length,
        valid=clean and bool(text.strip()) and length <= config.max_weighted_length,  # blank is never valid
        permillage=length * 1000 // config.max_weighted_length,
        valid_range_start=0,
        valid_range_end=max(valid_offset + nfc_shift - 1, 0),
        display_range_start=0,
        display_range_end=max(offset + nfc_shift - 1, 0),
    )


def weighted_length(text: str) -> int:
    """twitter-text ``parseTweet(text).weightedLength`` (config v3)."""
    return parse_tweet(text).weighted_length


def invalid_characters(text: str) -> list[tuple[int, str]]:
    """(1-based position, character) of each character X refuses in a post."""
    return [(n, ch) for n, ch in enumerate(text, 1) if ch in INVALID_CHARACTERS]


# twitter-text's hashtag rule (validHashtag.js): letters, marks, decimal digits and these
# joiners/punctuation, at least one letter or mark; "#" + VS16 or keycap is the #️⃣ emoji instead.
_HASHTAG_EXTRA = "_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003\u0f0b\u0f0c\u00b7"
_HASHTAG_CHAR = rf"[\p{{L}}\p{{M}}\p{{Nd}}{_HASHTAG_EXTRA}]"
_WHOLE_HASHTAG = regex.compile(rf"[#\uff03](?![\ufe0f\u20e3]){_HASHTAG_CHAR}*[\p{{L}}\p{{M}}]{_HASHTAG_CHAR}*")


def is_valid_hashtag(tag: str) -> bool:
    """Whether X links all of ``tag`` (``"#1st"`` yes; ``"#2024"``, ``"#New-Year"`` no)."""
    return bool(_WHOLE_HASHTAG.fullmatch(tag))


# twitter-text's mention and list patterns (atSigns.js, validMentionOrList.js in
# https://github.com/twitter/twitter-text/tree/master/js/src/regexp): "@" or "＠", a screen name
# of 1–20 ASCII letters, digits or _, and for a list "/" plus a letter and up to 24 more of these or "-".
_AT_SIGN = "[@\uff20]"
_SCREEN_NAME = "[a-zA-Z0-9_]{1,20}"
_LIST_SLUG = "/[a-zA-Z][a-zA-Z0-9_-]{0,24}"
_WHOLE_USERNAME = regex.compile(_AT_SIGN + _SCREEN_NAME)
_WHOLE_LIST = regex.compile(_AT_SIGN + _SCREEN_NAME + _LIST_SLUG)


def is_valid_username(text: str) -> bool:
    """twitter-text ``isValidUsername``: ``"@name"`` with a valid screen name and nothing else.

    twitter-text asks whether extracting mentions from the text yields exactly ``text[1:]``;
    that holds exactly when the whole text is an at sign and a screen name, as matched here.
    """
    return bool(text and _WHOLE_USERNAME.fullmatch(text))


def is_valid_list(text: str) -> bool:
    """twitter-text ``isValidList``: ``"@name/list-name"`` and nothing before or after.

    twitter-text anchors ``validMentionOrList`` at both ends and requires an empty preceding
    part and a list slug, which is a whole-text match of at sign, screen name and slug.
    """
    return bool(text and _WHOLE_LIST.fullmatch(text))


# twitter-text's isValidUrl regexes, "based on the ABNF from RFC 3986" (validateUrl*.js in
# https://github.com/twitter/twitter-text/tree/master/js/src/regexp; regex.rb has the same).
# Their /i flag is spelled out as A-Z; [^\u0000-\u007f] is written as the range \x80-\U0010ffff.
_URL_UNRESERVED = r"[a-zA-Z\u0400-\u04ff0-9\-._~]"  # Cyrillic letters too, as twitter-text allows
_URL_PCT_ENCODED = r"%[0-9a-fA-F]{2}"
_URL_SUB_DELIMS = r"[!$&'()*+,;=]"
_URL_PCHAR = rf"(?:{_URL_UNRESERVED}|{_URL_PCT_ENCODED}|{_URL_SUB_DELIMS}|[:|@])"
_URL_USERINFO = rf"(?:{_URL_UNRESERVED}|{_URL_PCT_ENCODED}|{_URL_SUB_DELIMS}|:)*"
_URL_DEC_OCTET = r"(?:[0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])"
_URL_IPV4 = rf"{_URL_DEC_OCTET}(?:\.{_URL_DEC_OCTET}){{3}}"
_URL_IPV6 = r"\[[a-fA-F0-9:.]+\]"  # twitter-text punts on real IPv6 validation
_NON_ASCII = r"\x80-\U0010ffff"


def _url_domain(extra: str) -> str:
    """validateUrlDomain (``extra`` empty) or validateUrlUnicodeDomain (``extra`` non-ASCII):
    subdomains may hold "_", no segment starts or ends with "-", the TLD starts with a letter."""
    edge = f"[a-zA-Z0-9{extra}]"
    subdomain = rf"{edge}(?:[a-zA-Z0-9_\-{extra}]*{edge})?"
    segment = rf"{edge}(?:[a-zA-Z0-9\-{extra}]*{edge})?"
    tld = rf"[a-zA-Z{extra}](?:[a-zA-Z0-9\-{extra}]*{edge})?"
    return rf"(?:(?:{subdomain})\.)*(?:{segment})\.(?:{tld})"


def _url_authority(extra: str) -> regex.Pattern:
    """validateUrlAuthority / validateUrlUnicodeAuthority: [userinfo@]host[:port]."""
    host = rf"(?:{_URL_IPV4}|{_URL_IPV6}|{_url_domain(extra)})"
    return regex.compile(rf"(?:({_URL_USERINFO})@)?({host})(?::([0-9]{{1,5}}))?")


_URL_AUTHORITY = _url_authority("")
_URL_UNICODE_AUTHORITY = _url_authority(_NON_ASCII)
_URL_SCHEME = regex.compile(r"[a-zA-Z][a-zA-Z0-9+\-.]*")
_URL_PATH = regex.compile(rf"(?:/{_URL_PCHAR}*)*")
_URL_QUERY_OR_FRAGMENT = regex.compile(rf"(?:{_URL_PCHAR}|/|\?)*")
# validateUrlUnencoded, "a modified version of RFC 3986 Appendix B": scheme, authority, path,
# query, fragment. The fragment stops at line breaks, as JavaScript's "." does.
_URL_PARTS = regex.compile(r"(?:([^:/?#]+)://)?([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#([^\n\r\u2028\u2029]*))?")


def _is_whole_match(pattern: regex.Pattern, part: str | None, optional: bool = False) -> bool:
    """twitter-text's ``isValidMatch``: the first match of ``pattern`` in ``part`` is all of it
    (not a full match found by backtracking). An absent part passes only if ``optional``, as
    does an empty one; a required empty part passes if ``pattern`` matches the empty string."""
    if part is None or (optional and not part):
        return optional
    found = pattern.search(part)
    return found is not None and found.group() == part


def is_valid_url(url: str, unicode_domains: bool = True, require_protocol: bool = True) -> bool:
    """twitter-text ``isValidUrl``: ``url`` follows its RFC 3986 grammar (an http or https
    scheme unless ``require_protocol`` is false; Unicode host names unless ``unicode_domains``
    is false)."""
    parts = _URL_PARTS.fullmatch(url) if url else None
    if parts is None:
        return False
    scheme, authority, path, query, fragment = parts.groups()
    if require_protocol and not (_is_whole_match(_URL_SCHEME, scheme) and scheme.lower() in ("http", "https")):
        return False
    if not (
        _is_whole_match(_URL_PATH, path)
        and _is_whole_match(_URL_QUERY_OR_FRAGMENT, query, optional=True)
        and _is_whole_match(_URL_QUERY_OR_FRAGMENT, fragment, optional=True)
    ):
        return False
    return _is_whole_match(_URL_UNICODE_AUTHORITY if unicode_domains else _URL_AUTHORITY, authority)


class X(Platform):
    name = "x"
    label = "X"
    # https://docs.x.com/resources/fundamentals/counting-characters: "up to 280 characters"
    # (twitter-text v3.json maxWeightedTweetLength 280; X Premium's 25,000 is not assumed).
    text_limit = MAX_WEIGHTED_LENGTH
    counting = "weighted (X): twitter-text v3 — most scripts 1, CJK and other ranges 2, each emoji 2, any URL 23, after NFC"
    count_unit = "characters"
    url_length = TRANSFORMED_URL_LENGTH  # same page: "All URLs … count as 23 characters"
    hashtag_limit = None  # X publishes no hashtag cap
    comment_limit = MAX_WEIGHTED_LENGTH  # a reply is a post: the same weighted count

    supports_threads = True
    # X publishes no cap on thread length (replies can chain indefinitely); 25 is Castmill's own ceiling.
    thread_max_posts = 25

    # https://docs.x.com/x-api/media/quickstart/best-practices: "up to 4 photos, 1 animated GIF or 1 video in a Post"
    max_images = 4
    quote_card_posts = True
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

    def _validate_post(self, post: PostContent) -> list[Violation]:
        found = super()._validate_post(post)
        for tag in post.hashtags:
            normal = textlib.normalize_hashtag(tag)
            if normal and not is_valid_hashtag(normal):
                message = f"{normal} is not a whole hashtag on {self.label}: use letters, digits and _, with a letter"
                found.append(Violation("hashtag_form", message))
        return found

    def _validate_text(self, body: str) -> list[Violation]:
        found = super()._validate_text(body)
        if bad := invalid_characters(body):
            where = ", ".join(f"U+{ord(ch):04X} at position {n}" for n, ch in bad)
            found.append(Violation("characters", f"text contains a character {self.label} does not accept: {where}"))
        return found
