"""``Platform.fit``: make a text fit one platform without cutting inside a word.

The text is split into tokens that are never broken (whitespace-separated
words, so URLs, #hashtags and @mentions stay whole; single characters inside
Chinese/Japanese runs, which have no spaces). Tokens are grouped into
sentences. Then:

- the text fits: returned unchanged, with as many of the requested hashtags
  as still fit appended after a blank line (deduplicated case-insensitively,
  at most ``hashtag_limit`` counting those already in the text);
- thread platforms: sentences are packed greedily into posts, each ending in
  " i/n" and within the limit including that suffix; a sentence too long for
  one post is packed word by word. Hashtags go on the last post only, if room;
- other platforms: the longest prefix that ends at a sentence boundary (or, if
  that would drop much more, at a word boundary) followed by "…".

Packing adds up per-token costs (every platform's count is additive across a
whitespace or CJK break); each produced post is then measured for real, and
the packing is redone with exact measurement should a sum ever disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pipeline.core.errors import CastmillError
from pipeline.platforms import text as textlib


class FitError(CastmillError):
    """A text cannot be made to fit a platform (a single word or URL is longer than the limit)."""


class Platform(Protocol):
    """What fitting needs of a platform (``pipeline.platforms.base.Platform`` is the implementation)."""

    label: str
    text_limit: int
    count_unit: str
    hashtag_limit: int | None
    supports_threads: bool
    thread_max_posts: int

    def count(self, text: str) -> int: ...
    def fits(self, text: str) -> bool: ...
    def _cost(self, text: str) -> tuple[int, int]: ...
    def _within(self, cost: tuple[int, int]) -> bool: ...

ELLIPSIS = "…"
# Prefer ending at a sentence if that keeps at least this share of what a word cut keeps.
SENTENCE_CUT_SHARE = 0.6
_TRAILING_JOINERS = ",;:"

Cost = tuple[int, int]


def _add(a: Cost, b: Cost) -> Cost:
    return a[0] + b[0], a[1] + b[1]


def _render(toks: Sequence[textlib.Token]) -> str:
    if not toks:
        return ""
    return toks[0].text + "".join(t.sep + t.text for t in toks[1:])


def _short(token: str) -> str:
    return token if len(token) <= 40 else token[:39] + ELLIPSIS


def _too_long(platform: Platform, token: str, room_for: str) -> FitError:
    length = platform.count(token)
    return FitError(
        f"cannot fit {_short(token)!r} into a {platform.label} post: it is {length} {platform.count_unit} "
        f"as {platform.label} counts it, and a post holds {platform.text_limit} including {room_for}"
    )


def candidate_hashtags(platform: Platform, body: str, hashtags: Sequence[str]) -> tuple[list[str], int | None]:
    """Requested hashtags, normalized and deduplicated (also against the text), and how many may be added."""
    present = {textlib.hashtag_key(span.text) for span in textlib.find_hashtags(body)}
    seen = set(present)
    tags: list[str] = []
    for tag in hashtags:
        normal = textlib.normalize_hashtag(tag)
        key = normal.casefold()
        if not normal or key in seen:
            continue
        spans = textlib.find_hashtags(normal)
        if len(spans) != 1 or spans[0].text != normal:  # "#2024" or "#a-b" would not be a whole hashtag
            continue
        seen.add(key)
        tags.append(normal)
    room = None if platform.hashtag_limit is None else max(0, platform.hashtag_limit - len(present))
    return tags, room


def _with_tags(platform: Platform, body: str, tags: list[str], room: int | None, suffix: str = "") -> str:
    """``body`` + blank line + the hashtags that fit (in order) + ``suffix``; hashtags are dropped, never text."""
    chosen: list[str] = []
    for tag in tags:
        if room is not None and len(chosen) >= room:
            break
        line = " ".join([*chosen, tag])
        candidate = f"{body}\n\n{line}{suffix}" if body else f"{line}{suffix}"
        if platform.fits(candidate):
            chosen.append(tag)
    if not chosen:
        return body + suffix
    line = " ".join(chosen)
    return f"{body}\n\n{line}{suffix}" if body else f"{line}{suffix}"


def fit_text(platform: Platform, text: str, hashtags: Sequence[str]) -> list[str]:
    body = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    tags, room = candidate_hashtags(platform, body, hashtags)
    if platform.fits(body):
        return [_with_tags(platform, body, tags, room)]
    toks = textlib.tokens(body)
    if platform.supports_threads:
        return _thread(platform, toks, tags, room)
    return [_shorten(platform, toks)]


# ---------------------------------------------------------------- threads


class _Packer:
    """Greedy packing of sentences (falling back to words) into posts that leave room for ``reserve``."""

    def __init__(self, platform: Platform, reserve: str, exact: bool):
        self.platform = platform
        self.reserve = reserve
        self.exact = exact
        self.reserve_cost = platform._cost(reserve)
        self._memo: dict[str, Cost] = {}

    def cost(self, s: str) -> Cost:
        if s not in self._memo:
            self._memo[s] = self.platform._cost(s)
        return self._memo[s]

    def ok(self, part: list[textlib.Token], cost: Cost) -> bool:
        if self.exact:
            return self.platform.fits(_render(part) + self.reserve)
        return self.platform._within(_add(cost, self.reserve_cost))

    def pack(self, groups: list[list[textlib.Token]]) -> list[list[textlib.Token]]:
        parts: list[list[textlib.Token]] = []
        current: list[textlib.Token] = []
        cur: Cost = (0, 0)

        def standalone(toks: list[textlib.Token]) -> Cost:
            total = self.cost(toks[0].text)
            for t in toks[1:]:
                total = _add(total, _add(self.cost(t.sep), self.cost(t.text)))
            return total

        for group in groups:
            whole = standalone(group)
            if current:
                joined = _add(cur, _add(self.cost(group[0].sep), whole))
                if self.ok(current + group, joined):
                    current, cur = current + group, joined
                    continue
            if self.ok(group, whole):
                if current:
                    parts.append(current)
                current, cur = list(group), whole
                continue
            for tok in group:  # the sentence alone is longer than a post: go word by word
                if current:
                    joined = _add(cur, _add(self.cost(tok.sep), self.cost(tok.text)))
                    if self.ok(current + [tok], joined):
                        current, cur = current + [tok], joined
                        continue
                alone = self.cost(tok.text)
                if not self.ok([tok], alone):
                    raise _too_long(self.platform, tok.text, f"the {self.reserve.strip()!r} numbering")
                if current:
                    parts.append(current)
                current, cur = [tok], alone
        if current:
            parts.append(current)
        return parts


def _thread(platform: Platform, toks: list[textlib.Token], tags: list[str], room: int | None) -> list[str]:
    groups = textlib.sentences(toks)
    for exact in (False, True):
        parts: list[list[textlib.Token]] = []
        for digits in (1, 2, 3):
            widest = " " + "9" * digits + "/" + "9" * digits  # every " i/n" with n < 10**digits is at most this
            parts = _Packer(platform, widest, exact).pack(groups)
            if len(parts) < 10**digits:
                break
        total = len(parts)
        if total > platform.thread_max_posts:
            raise FitError(
                f"text needs {total} {platform.label} posts; threads are capped at {platform.thread_max_posts} "
                "— shorten the text"
            )
        posts = [_render(part) + f" {i}/{total}" for i, part in enumerate(parts, 1)]
        last = _render(parts[-1])
        if platform.hashtag_limit is not None:  # the cap is per post: count what the last post already has
            present = {textlib.hashtag_key(span.text) for span in textlib.find_hashtags(last)}
            room = max(0, platform.hashtag_limit - len(present))
        posts[-1] = _with_tags(platform, last, tags, room, suffix=f" {total}/{total}")
        if all(platform.fits(post) for post in posts):
            return posts
    raise FitError(
        f"could not split the text into {platform.label} posts within {platform.text_limit} {platform.count_unit}"
    )


# ---------------------------------------------------------------- shortening


def _is_entity(token: str) -> bool:
    """URLs, @mentions and #hashtags: an ellipsis glued to them could be read as part of them."""
    return token[:1] in "@#＃" or bool(textlib.find_urls(token))


def _end_with_ellipsis(toks: Sequence[textlib.Token], at_sentence: bool) -> str:
    prefix = _render(toks)
    last = toks[-1].text
    if at_sentence:
        if prefix.endswith(".") and not prefix.endswith("..") and not _is_entity(last):
            return prefix[:-1] + ELLIPSIS
        return prefix + " " + ELLIPSIS
    if _is_entity(last):
        return prefix + " " + ELLIPSIS
    trimmed = prefix.rstrip(_TRAILING_JOINERS)
    if len(toks) > 1 and trimmed.endswith((" -", " –", " —")):
        trimmed = trimmed[:-2]
    return (trimmed or prefix) + ELLIPSIS


def _shorten(platform: Platform, toks: list[textlib.Token]) -> str:
    # prefix[k] = cost of the first k tokens rendered
    prefix: list[Cost] = [(0, 0)]
    for i, tok in enumerate(toks):
        step = platform._cost(tok.text) if i == 0 else _add(platform._cost(tok.sep), platform._cost(tok.text))
        prefix.append(_add(prefix[-1], step))
    tail = platform._cost(ELLIPSIS)
    word_cut = max((k for k in range(1, len(toks) + 1) if platform._within(_add(prefix[k], tail))), default=0)
    if word_cut == 0:
        raise _too_long(platform, toks[0].text, "the closing \"…\"")
    sentence_cuts = [k for k in range(1, word_cut + 1) if toks[k - 1].ends_sentence]
    candidates: list[tuple[int, bool]] = []
    if sentence_cuts and prefix[sentence_cuts[-1]][0] >= SENTENCE_CUT_SHARE * prefix[word_cut][0]:
        candidates.append((sentence_cuts[-1], True))
    candidates.extend((k, False) for k in range(word_cut, 0, -1))
    for k, at_sentence in candidates:
        result = _end_with_ellipsis(toks[:k], at_sentence)
        if platform.fits(result):
            return result
    raise _too_long(platform, toks[0].text, "the closing \"…\"")
