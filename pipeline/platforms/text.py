"""Text segmentation shared by the platform counters and by ``fit``.

Everything here works on Python ``str`` (code points) and returns spans as
code-point offsets. It is deliberately our own code: the rules follow what the
platforms publish (twitter-text's documented behaviour for URLs and emoji,
Mastodon's mention rule, UAX #29 grapheme clusters via ``regex``'s ``\\X``),
not any one implementation.

- ``graphemes``: user-perceived characters (UAX #29 extended grapheme clusters).
- ``is_emoji``: whether one grapheme cluster is an emoji (presentation).
- ``find_urls``: http(s) URLs, and optionally bare domains such as ``example.com``.
- ``find_mentions`` / ``find_hashtags``: ``@user[@domain]`` and ``#tag`` spans.
- ``tokens`` / ``sentences``: where ``fit`` may break a text.
"""

from __future__ import annotations

import encodings.idna
import unicodedata
from dataclasses import dataclass

import regex

_GRAPHEME = regex.compile(r"\X")


def graphemes(text: str) -> list[str]:
    """Extended grapheme clusters (UAX #29), e.g. one per emoji ZWJ sequence or flag."""
    return _GRAPHEME.findall(text)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, what JavaScript's and Java's ``length`` report."""
    return len(text.encode("utf-16-le")) // 2


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


# ---------------------------------------------------------------- emoji

_PICTOGRAPHIC = regex.compile(r"\p{Extended_Pictographic}")
_PRESENTATION = regex.compile(r"\p{Emoji_Presentation}")
_REGIONAL = regex.compile(r"[\U0001F1E6-\U0001F1FF]")
_MODIFIER_OR_TAG = regex.compile(r"[\U0001F3FB-\U0001F3FF\U000E0020-\U000E007F]")


def is_emoji(cluster: str) -> bool:
    """Whether a grapheme cluster is shown as an emoji.

    Flags (regional-indicator pairs), keycaps (``1️⃣``), ZWJ sequences, skin-tone
    and tag sequences, anything with VS16 (U+FE0F) and characters that default
    to emoji presentation count; a pictograph that defaults to text
    presentation (``©``, ``☺``) does not unless VS16 follows it.
    """
    if _REGIONAL.search(cluster) or "\u20e3" in cluster:
        return True
    if not _PICTOGRAPHIC.search(cluster) or "\ufe0e" in cluster:
        return False
    if "\ufe0f" in cluster or "\u200d" in cluster or _MODIFIER_OR_TAG.search(cluster):
        return True
    return bool(_PRESENTATION.search(cluster))


# ---------------------------------------------------------------- URLs

# Top-level domains accepted for bare domains (no "http://"): every two-letter
# ASCII label (the ccTLD space) plus the generic TLDs a podcast post is likely
# to mention. twitter-text carries the full IANA list; this shorter list means
# "hello.world" is *not* treated as a link here although X would link it.
GENERIC_TLDS = frozenset(
    """com net org edu gov mil int info biz name pro mobi app dev io xyz online site website tech store shop
    blog news media live page link club design studio world today art agency digital email cloud network
    systems solutions global group team work space fun icu top vip one life show video audio music radio
    social community academy school university foundation fund money finance bank capital ventures""".split()
)
# A bare "name.cc" with a country-code TLD and no path is not linked,
# except for these (twitter-text's "special" short domains, e.g. t.co).
SHORT_DOMAIN_CCTLDS = frozenset({"co", "tv"})

_URL_PREFIX_BLOCK = "A-Za-z0-9@\uff20$#\uff03"
_PATH_CHARS = r"A-Za-z0-9\p{Latin}\p{Cyrillic}\p{Mn}!*';:=+,.$/%#\[\]\-\u2013_~|&@?()"
_SCHEME_URL = regex.compile(
    rf"(?<![{_URL_PREFIX_BLOCK}])(?i:https?://)[\p{{L}}\p{{M}}\p{{N}}._-]+(?::[0-9]{{1,5}})?(?:[/?#][{_PATH_CHARS}]*)?"
)
_BARE_URL = regex.compile(
    rf"(?<![{_URL_PREFIX_BLOCK}\-_./])(?:[A-Za-z0-9_-]+\.)+[A-Za-z]{{2,}}(?![A-Za-z0-9_@])"
    rf"(?::[0-9]{{1,5}})?(?:/[{_PATH_CHARS}]*)?"
)
# Characters that end a sentence rather than a URL: "see https://x.com/a."
_URL_TRAILING = ".,;:!?'\"*"
MAX_URL_LENGTH = 4096  # twitter-text ignores longer "URLs" (extractUrlsWithIndices.js, MAX_URL_LENGTH)
MAX_LABEL_LENGTH = 63  # RFC 1035 label limit, checked on the punycode (IDNA) form


def _trim_url(url: str) -> str:
    while url:
        last = url[-1]
        if last in _URL_TRAILING:
            url = url[:-1]
        elif last == ")" and url.count(")") > url.count("("):
            url = url[:-1]
        else:
            break
    return url


def _valid_label(label: str) -> bool:
    if not label or label.startswith("-") or label.endswith("-"):
        return False
    try:
        ascii_label = encodings.idna.ToASCII(label)  # raises when the punycode form is empty or > 63
    except UnicodeError:
        return False
    return len(ascii_label) <= MAX_LABEL_LENGTH


def _valid_host(host: str) -> bool:
    labels = host.split(".")
    if len(labels) < 2:
        return False
    tld, name = labels[-1], labels[-2]
    if len(tld) < 2 or not regex.fullmatch(r"\p{L}+", tld):
        return False
    if "_" in name or "_" in tld:  # underscores are tolerated in subdomains only
        return False
    return all(_valid_label(label) for label in labels)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


def find_urls(text: str, *, bare_domains: bool = True) -> list[Span]:
    """http(s) URLs, plus bare domains like ``example.com/path`` when ``bare_domains``.

    Hosts must look like real domains: at least two labels, a letters-only
    top-level label, no label over 63 characters in punycode form. Trailing
    sentence punctuation and unbalanced ``)`` are not part of the URL.
    """
    spans: list[Span] = []
    for match in _SCHEME_URL.finditer(text):
        url = _trim_url(match.group())
        rest = url.split("://", 1)[1]
        host = regex.split(r"[:/?#]", rest, maxsplit=1)[0]
        if _valid_host(host) and len(url) <= MAX_URL_LENGTH:
            spans.append(Span(match.start(), match.start() + len(url), url))
    if bare_domains:
        taken = [(s.start, s.end) for s in spans]
        for match in _BARE_URL.finditer(text):
            start = match.start()
            if any(a <= start < b for a, b in taken):
                continue
            url = _trim_url(match.group())
            host = regex.split(r"[:/]", url, maxsplit=1)[0]
            has_path = len(url) > len(host)
            labels = host.lower().split(".")
            tld = labels[-1]
            if not (tld in GENERIC_TLDS or len(tld) == 2) or not _valid_host(host):
                continue
            if len(tld) == 2 and len(labels) == 2 and not has_path and tld not in SHORT_DOMAIN_CCTLDS:
                continue  # "podcast.id" alone is not linked; "podcast.id/ep1" is
            spans.append(Span(start, start + len(url), url))
        spans.sort(key=lambda s: s.start)
    return spans


# ---------------------------------------------------------------- mentions and hashtags

# Mastodon's Account::MENTION_RE, restated: @user or @user@domain, not after a word character, "=" or "/".
_MENTION = regex.compile(
    r"(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@(?P<domain>[\w.-]+\w+))?",
    regex.IGNORECASE,
)
_HASHTAG = regex.compile(r"(?<![\p{L}\p{M}\p{N}_&])[#\uff03](?P<tag>[\p{L}\p{M}\p{N}_]*[\p{L}\p{M}_][\p{L}\p{M}\p{N}_]*)")


def _outside(spans: list[Span], start: int, end: int) -> bool:
    return all(end <= s.start or start >= s.end for s in spans)


def find_mentions(text: str) -> list[tuple[Span, str, str | None]]:
    """``(span, user, domain)`` for each ``@user`` / ``@user@domain`` outside URLs."""
    urls = find_urls(text)
    found = []
    for m in _MENTION.finditer(text):
        if _outside(urls, m.start(), m.end()):
            found.append((Span(m.start(), m.end(), m.group()), m.group("user"), m.group("domain")))
    return found


def find_hashtags(text: str) -> list[Span]:
    """``#tag`` spans outside URLs; a tag needs one non-digit (``#2024`` is not a hashtag)."""
    urls = find_urls(text)
    return [Span(m.start(), m.end(), m.group()) for m in _HASHTAG.finditer(text) if _outside(urls, m.start(), m.end())]


def normalize_hashtag(tag: str) -> str:
    """``"Podcast Tips"`` / ``"#podcasttips"`` → ``"#PodcastTips"`` / ``"#podcasttips"``; ``""`` if nothing is left."""
    body = "".join(tag.split()).lstrip("#\uff03")
    return f"#{body}" if body else ""


def hashtag_key(tag: str) -> str:
    return normalize_hashtag(tag).casefold()


# ---------------------------------------------------------------- break points for fit

# Scripts written without spaces between words: a line may break between any two of their characters.
_NO_SPACE_SCRIPT = regex.compile(
    r"[\p{Han}\p{Hiragana}\p{Katakana}\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]"
)  # CJK ideographs, kana, CJK and fullwidth punctuation (not fullwidth Latin letters)
# Japanese/Chinese line-breaking rules (kinsoku): never start a line with these ...
_NO_BREAK_BEFORE = set("、。，．・：；？！）」』】〕〉》〙〗｝ー々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ…‥")
# ... and never end one with these.
_NO_BREAK_AFTER = set("（「『【〔〈《〘〖｛")
_SENTENCE_END = regex.compile(r"[.!?…。！？]+[\"'”’»)\]」』）]*$")


@dataclass(frozen=True)
class Token:
    """A piece of text ``fit`` never splits, with the whitespace before it (``""`` inside CJK runs)."""

    sep: str
    text: str

    @property
    def ends_sentence(self) -> bool:
        return bool(_SENTENCE_END.search(self.text))


def _split_no_space_run(word: str) -> list[str]:
    """Break a whitespace-free word between CJK characters, following kinsoku rules."""
    if "@" in word or "#" in word or find_urls(word):
        return [word]
    clusters = graphemes(word)
    pieces: list[str] = [clusters[0]]
    for prev, cur in zip(clusters, clusters[1:]):
        breakable = (_NO_SPACE_SCRIPT.match(prev) or _NO_SPACE_SCRIPT.match(cur)) and not (
            cur[0] in _NO_BREAK_BEFORE or prev[-1] in _NO_BREAK_AFTER
        )
        if breakable:
            pieces.append(cur)
        else:
            pieces[-1] += cur
    return pieces


_WORD = regex.compile(r"(\s*)(\S+)")


def tokens(text: str) -> list[Token]:
    """Unbreakable pieces of ``text``: whitespace-separated words, and single characters inside CJK runs.

    URLs, ``#hashtags`` and ``@mentions`` contain no whitespace, so they are
    always whole tokens.
    """
    out: list[Token] = []
    for match in _WORD.finditer(text):
        sep, word = match.group(1), match.group(2)
        pieces = _split_no_space_run(word) if _NO_SPACE_SCRIPT.search(word) else [word]
        out.append(Token(sep, pieces[0]))
        out.extend(Token("", piece) for piece in pieces[1:])
    return out


def sentences(toks: list[Token]) -> list[list[Token]]:
    """Group tokens into sentences: a sentence ends at a token ending in . ! ? … 。！？ (closing quotes allowed)."""
    groups: list[list[Token]] = []
    current: list[Token] = []
    for token in toks:
        current.append(token)
        if token.ends_sentence:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups
