"""``Platform.fit``: never cut inside a word, URL, #hashtag or @mention; every part within the limit."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.errors import CastmillError
from pipeline.platforms import PLATFORM_NAMES, REGISTRY, FitError, PostContent, get_platform

SUFFIX = re.compile(r" (\d+)/(\d+)$")
THREAD_PLATFORMS = [n for n in PLATFORM_NAMES if REGISTRY[n].supports_threads]
SINGLE_PLATFORMS = [n for n in PLATFORM_NAMES if not REGISTRY[n].supports_threads]


def small(name: str, limit: int = 100):
    """The platform with its own counting rules but a small text limit, so short texts exercise splitting."""
    cls = REGISTRY[name]
    return type(f"Small{cls.__name__}", (cls,), {"text_limit": limit})()


def strip_suffix(part: str, index: int, total: int) -> str:
    match = SUFFIX.search(part)
    assert match, f"part {index} has no numbering: {part!r}"
    assert (int(match.group(1)), int(match.group(2))) == (index, total)
    return part[: match.start()]


# ---------------------------------------------------------------- property: random texts

WORDS = ["podcast", "episode", "listen", "the", "a", "interview", "guest", "today", "café", "naïve",
         "dengarkan", "terbaru", "kami", "cerita", "مرحبا", "שלום", "🎙️", "\U0001F468\u200d\U0001F469\u200d\U0001F467",
         "🇮🇩", "👍🏽", "e\u0301te"]
word = st.one_of(
    st.sampled_from(WORDS),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789'-", min_size=1, max_size=14),
)
url = st.builds(
    lambda host, path: f"https://{host}/{path}",
    st.sampled_from(["example.com", "castmill.fm", "www.podcast.id", "t.co"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_/?=&", max_size=28),
)
hashtag = st.builds(lambda w: "#" + w, st.text(alphabet="abcdefghijklmnopqrstuvwxyzÀé_", min_size=1, max_size=14))
mention = st.one_of(
    st.builds(lambda u: "@" + u, st.text(alphabet="abcdefghij_0123", min_size=1, max_size=12)),
    st.builds(lambda u, d: f"@{u}@{d}.social", st.text(alphabet="abcdefghij", min_size=1, max_size=10),
              st.text(alphabet="abcdefghij", min_size=1, max_size=10)),
)
punctuation = st.sampled_from(["", "", "", ".", "!", "?", ",", ";", "…"])
atom = st.builds(lambda a, p: a + p, st.one_of(word, word, word, url, hashtag, mention), punctuation)
separator = st.sampled_from([" ", " ", " ", " ", "\n", "\n\n"])
texts = st.lists(st.tuples(separator, atom), min_size=12, max_size=60).map(lambda xs: "".join(s + a for s, a in xs).strip())

PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _check_shortened(original: list[str], out: str) -> None:
    """``out`` is a word-boundary prefix of ``original`` ending in "…"."""
    tokens = out.split()
    if tokens[-1] == "…":
        tokens = tokens[:-1]
        last_original = original[len(tokens) - 1]
        assert tokens == original[: len(tokens)]
        assert tokens[-1] == last_original
        return
    assert tokens[-1].endswith("…")
    head, last = tokens[:-1], tokens[-1][: -len("…")]
    assert head == original[: len(head)]
    whole = original[len(head)]
    # the last token is whole; at most its final "." became the "…", or a trailing , ; : was dropped
    assert last in {whole, whole.rstrip(",;:")} or whole == last + ".", (last, whole)


@pytest.mark.parametrize("name", PLATFORM_NAMES)
@PROPERTY_SETTINGS
@given(text=texts)
def test_fit_never_cuts_inside_a_token_and_every_part_fits(name, text):
    platform = small(name)
    parts = platform.fit(text)
    assert parts
    for part in parts:
        assert platform.fits(part), (platform.count(part), part)
    original = text.split()
    if platform.fits(text):
        assert parts == [text]
    elif platform.supports_threads:
        bodies = [strip_suffix(part, i, len(parts)) for i, part in enumerate(parts, 1)]
        # the parts, in order, hold exactly the original tokens: nothing split, lost, or added
        assert [tok for body in bodies for tok in body.split()] == original
    else:
        assert len(parts) == 1
        _check_shortened(original, parts[0])


@pytest.mark.parametrize("name", PLATFORM_NAMES)
@PROPERTY_SETTINGS
@given(text=texts, tags=st.lists(st.sampled_from(["Podcast", "#podcast", "PODCAST", "clips", "#Audio", "audio", "new"]),
                                 max_size=6))
def test_fit_hashtags_are_deduplicated_capped_and_never_displace_text(name, text, tags):
    platform = small(name, 160)
    parts = platform.fit(text, hashtags=tags)
    for part in parts:
        assert platform.fits(part)
    untagged = platform.fit(text)
    assert len(parts) == len(untagged)  # hashtags never change how the text is split ...
    assert parts[:-1] == untagged[:-1]  # ... and only ever go on the last part
    last, untagged_last = parts[-1], untagged[-1]
    if len(parts) > 1:
        last = strip_suffix(last, len(parts), len(parts))
        untagged_last = strip_suffix(untagged_last, len(parts), len(parts))
    added = last[len(untagged_last):]
    assert last.startswith(untagged_last)
    if added:
        assert added.startswith("\n\n") or not untagged_last
        appended = added.split()
        keys = [t.casefold() for t in appended]
        assert len(keys) == len(set(keys))  # deduplicated, case-insensitively
        assert all(t.startswith("#") for t in appended)
        in_text = {t.casefold().rstrip(".!?,;…") for t in text.split() if t.startswith("#")}
        assert not (set(keys) & in_text)  # not repeated when already in the text
        if platform.hashtag_limit is not None:
            assert len(appended) <= platform.hashtag_limit


# ---------------------------------------------------------------- examples


@pytest.mark.parametrize("name", PLATFORM_NAMES)
def test_text_that_fits_comes_back_unchanged(name):
    text = "New episode: how we edit 3 hours down to 30 seconds. https://castmill.fm/e/42"
    assert get_platform(name).fit(text) == [text]


def test_thread_numbering_counts_the_suffix():
    x = get_platform("x")
    text = " ".join(["word"] * 140)  # 699 characters
    parts = x.fit(text)
    assert len(parts) == 3
    for i, part in enumerate(parts, 1):
        assert part.endswith(f" {i}/3")
        assert x.count(part) <= 280
    assert " ".join(strip_suffix(p, i, 3) for i, p in enumerate(parts, 1)) == text


def test_thread_of_ten_or_more_parts_reserves_room_for_two_digit_numbers():
    bluesky = get_platform("bluesky")
    text = " ".join(f"w{i:03d}" for i in range(800))  # 3,999 graphemes
    parts = bluesky.fit(text)
    assert len(parts) >= 10
    assert parts[0].endswith(f" 1/{len(parts)}")
    assert all(bluesky.count(p) <= 300 for p in parts)
    assert parts[-1].endswith(f" {len(parts)}/{len(parts)}")


def test_thread_splits_at_sentence_boundaries():
    sentence = "This sentence runs to a little over one hundred characters, so that two fit one X post but three never post."
    assert 2 * len(sentence) + 1 + len(" 1/4") <= 280 < 3 * len(sentence) + 2
    text = " ".join([sentence] * 7)
    parts = get_platform("x").fit(text)
    assert len(parts) == 4
    for i, part in enumerate(parts, 1):
        body = strip_suffix(part, i, len(parts))
        assert body.endswith("post."), body
        assert body.startswith("This sentence")


def test_a_sentence_longer_than_a_post_is_split_between_words():
    text = "Start. " + " ".join(["longsentence"] * 60) + " end."
    parts = get_platform("x").fit(text)
    bodies = [strip_suffix(p, i, len(parts)) for i, p in enumerate(parts, 1)]
    assert [t for b in bodies for t in b.split()] == text.split()


def test_urls_hashtags_and_mentions_stay_whole_in_threads():
    long_url = "https://example.com/episodes/" + "x" * 150
    text = " ".join(f"Part {i} with {long_url} and #Tag{i} for @host{i}@example.social." for i in range(12))
    for name in THREAD_PLATFORMS:
        platform = get_platform(name)
        parts = platform.fit(text)
        assert all(platform.fits(p) for p in parts)
        bodies = [strip_suffix(p, i, len(parts)) for i, p in enumerate(parts, 1)] if len(parts) > 1 else parts
        tokens = [t for b in bodies for t in b.split()]
        assert tokens == text.split(), name
        assert sum(t.startswith(long_url) for t in tokens) == 12


def test_x_counts_urls_as_23_when_fitting():
    url = "https://example.com/" + "a" * 400
    parts = get_platform("x").fit(f"Listen: {url}")
    assert parts == [f"Listen: {url}"]


def test_mastodon_remote_mentions_count_only_the_username():
    text = " ".join(f"@guest{i}@a-very-long-instance-name.example.social" for i in range(20))
    mastodon = get_platform("mastodon")
    assert len(text) > 500
    assert mastodon.fit(text) == [text]


def test_cjk_text_splits_between_characters_but_not_before_closing_punctuation():
    poem = "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。" * 20
    for name in ("x", "mastodon", "threads"):
        platform = get_platform(name)
        parts = platform.fit(poem)
        assert len(parts) > 1
        bodies = [strip_suffix(p, i, len(parts)) for i, p in enumerate(parts, 1)]
        assert "".join(bodies) == poem
        assert all(platform.fits(p) for p in parts)
        assert not any(b.startswith(("，", "。")) for b in bodies)


# ---------------------------------------------------------------- shortening (platforms without threads)


def test_shortening_prefers_a_sentence_boundary():
    sentence = "Each of these sentences is sixty-four characters long, roughly. "
    text = (sentence * 60).strip()  # 3,839 characters
    (out,) = get_platform("linkedin").fit(text)
    assert out.endswith("roughly…")
    assert text.startswith(out[:-1] + ".")
    assert get_platform("linkedin").count(out) <= 3000


def test_shortening_falls_back_to_a_word_boundary():
    text = "intro " + " ".join(["supercalifragilistic"] * 200)  # one 4,200-character sentence
    (out,) = get_platform("linkedin").fit(text)
    assert out.endswith("supercalifragilistic…")
    assert text[len(out) - 1] == " "  # the next character in the original is a space: cut between words
    assert get_platform("linkedin").count(out) <= 3000


def test_shortening_never_glues_the_ellipsis_to_a_url():
    url = "https://castmill.fm/e/42"
    text = ("word " * 434) + url + " " + ("tail " * 200)
    (out,) = small("instagram", 2200).fit(text)
    assert url in out.split() or out.endswith("…")
    assert not re.search(r"https://\S*…", out)


# ---------------------------------------------------------------- hashtags


def test_hashtags_are_appended_after_a_blank_line_and_deduplicated():
    out = get_platform("x").fit("New episode.", hashtags=["Podcast", "#podcast", "PODCAST", "clips", "", "2024"])
    assert out == ["New episode.\n\n#Podcast #clips"]


def test_hashtags_already_in_the_text_are_not_repeated():
    out = get_platform("mastodon").fit("We love #Podcasts.", hashtags=["podcasts", "audio"])
    assert out == ["We love #Podcasts.\n\n#audio"]


def test_hashtags_are_capped_at_the_platform_limit():
    tags = [f"tag{c}" for c in "abcdefgh"]
    assert get_platform("instagram").fit("Reel out now.", hashtags=tags) == ["Reel out now.\n\n#taga #tagb #tagc #tagd #tage"]
    assert get_platform("threads").fit("Out now.", hashtags=tags) == ["Out now.\n\n#taga"]
    # tags already in the text use up the allowance
    out = get_platform("instagram").fit("Out now #one #two #three.", hashtags=tags)
    assert out == ["Out now #one #two #three.\n\n#taga #tagb"]


def test_hashtags_are_dropped_rather_than_text():
    x = get_platform("x")
    text = "a" * 270 + " end."
    assert x.fit(text, hashtags=["podcast"]) == [text]
    text = "a" * 262 + " end."
    assert x.fit(text, hashtags=["longhashtag", "pod"]) == [text + "\n\n#pod"]


def test_hashtags_go_on_the_last_part_of_a_thread_only():
    parts = get_platform("x").fit(" ".join(["word"] * 140), hashtags=["podcast"])
    assert "#podcast" not in "".join(parts[:-1])
    assert parts[-1].endswith("\n\n#podcast 3/3")


# ---------------------------------------------------------------- FitError


def test_a_url_longer_than_the_limit_raises_fit_error():
    url = "https://example.com/" + "a" * 400
    with pytest.raises(FitError) as info:
        get_platform("bluesky").fit(f"Listen: {url}")
    assert isinstance(info.value, CastmillError)
    message = str(info.value)
    assert "Bluesky" in message and "300" in message and "\n" not in message


def test_a_word_longer_than_the_limit_raises_fit_error_without_threads():
    with pytest.raises(FitError, match="LinkedIn"):
        get_platform("linkedin").fit("x" * 3001)


def test_a_thread_longer_than_the_platform_allows_raises_fit_error():
    with pytest.raises(FitError, match="capped at 25"):
        get_platform("x").fit(" ".join(["word"] * 2000))


def test_per_post_hashtag_cap_counts_only_the_last_post_of_a_thread():
    threads = get_platform("threads")  # one tag per post
    text = "Opening #intro. " + " ".join(["word"] * 150) + " closing."
    parts = threads.fit(text, hashtags=["Outro"])
    assert len(parts) > 1 and "#intro" in parts[0]
    assert parts[-1].endswith(f"\n\n#Outro {len(parts)}/{len(parts)}")
    assert threads.validate([PostContent(p) for p in parts]) == []
