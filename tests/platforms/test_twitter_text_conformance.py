"""twitter-text's whole conformance file ``validate.yml``, run against the X platform code.

``data/twitter-text/validate.yml`` is an unmodified copy (source and commit in
the README there), so these tests never touch the network. Every case of every
section is run, except whole sections listed in ``NOT_IMPLEMENTED`` with the
reason (none at present); a section added to the file fails
``test_every_section_is_run_or_listed`` until it is one or the other.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.platforms import PostContent, Violation, get_platform
from pipeline.platforms import text as textlib
from pipeline.platforms.x import (
    CONFIG_V1,
    CONFIG_V2,
    CONFIG_V3,
    CountingConfig,
    is_valid_hashtag,
    is_valid_list,
    is_valid_url,
    is_valid_username,
    parse_tweet,
)

VALIDATE_YML = Path(__file__).parent / "data" / "twitter-text" / "validate.yml"
SECTIONS: dict[str, list[dict]] = yaml.safe_load(VALIDATE_YML.read_text(encoding="utf-8"))["tests"]

# Sections of validate.yml that test twitter-text features Castmill does not have: section -> reason.
NOT_IMPLEMENTED: dict[str, str] = {}

# parseTweet's fields as validate.yml names them -> ParsedTweet attributes.
PARSE_FIELDS = {
    "weightedLength": "weighted_length",
    "valid": "valid",
    "permillage": "permillage",
    "validRangeStart": "valid_range_start",
    "validRangeEnd": "valid_range_end",
    "displayRangeStart": "display_range_start",
    "displayRangeEnd": "display_range_end",
}


def _parse_with(config: CountingConfig):
    def parse(text: str) -> dict:
        parsed = parse_tweet(text, config)
        return {field: getattr(parsed, attr) for field, attr in PARSE_FIELDS.items()}

    return parse


# Section -> function whose result must equal the case's "expected". The configurations
# are the ones twitter-text's own conformance runners use for each section.
RUNNERS = {
    "tweets": lambda text: parse_tweet(text, CONFIG_V1).valid,  # isValidTweetText: the 140-character rule
    "usernames": is_valid_username,
    "lists": is_valid_list,
    "hashtags": is_valid_hashtag,
    "urls": is_valid_url,
    "urls_without_protocol": lambda text: is_valid_url(text, require_protocol=False),
    "WeightedTweetsCounterTest": _parse_with(CONFIG_V2),
    "WeightedTweetsWithDiscountedEmojiCounterTest": _parse_with(CONFIG_V3),
    "UnicodeDirectionalMarkerCounterTest": _parse_with(CONFIG_V3),  # the default configuration
}

CASES = [
    pytest.param(section, case, id=f"{section}[{n}] {case['description'][:60]}")
    for section, cases in SECTIONS.items()
    if section in RUNNERS
    for n, case in enumerate(cases)
]


def test_every_section_is_run_or_listed_as_not_implemented():
    assert not set(RUNNERS) & set(NOT_IMPLEMENTED)
    assert set(RUNNERS) | set(NOT_IMPLEMENTED) == set(SECTIONS)
    assert all(SECTIONS[section] for section in RUNNERS)


@pytest.mark.parametrize("section,case", CASES)
def test_validate_yml(section, case):
    assert RUNNERS[section](case["text"]) == case["expected"], case["description"]


# ---------------------------------------------------------------- what the product does with it


@pytest.mark.parametrize("case", SECTIONS["urls_without_protocol"], ids=lambda case: case["text"])
def test_bare_domain_is_one_whole_link(case):
    # X links these bare domains whole, so each counts as one 23-character URL.
    assert [span.text for span in textlib.find_urls(case["text"], bare_domains=True)] == [case["text"]]


def test_x_count_is_the_weighted_length():
    x = get_platform("x")
    assert x.count("Hi http://test.co") == parse_tweet("Hi http://test.co").weighted_length == 26


def test_invalid_character_is_a_one_line_problem_with_its_position():
    text = "New episode\ufffe out now \ufeff"
    violations = get_platform("x").validate([PostContent(text)])
    assert violations == [
        Violation(
            "characters",
            "text contains a character X does not accept: U+FFFE at position 12, U+FEFF at position 22",
        )
    ]
    assert not parse_tweet(text).valid


@pytest.mark.parametrize("text", ["", "   ", "a" * 281])
def test_blank_or_over_long_text_is_not_valid(text):
    assert not parse_tweet(text).valid


def test_hashtag_x_would_not_link_whole_is_a_problem():
    x = get_platform("x")
    post = PostContent("New episode.", hashtags=("#New-Year", "2024", "#1st", "Podcast Tips"))
    assert [v.message for v in x.validate([post]) if v.rule == "hashtag_form"] == [
        "#New-Year is not a whole hashtag on X: use letters, digits and _, with a letter",
        "#2024 is not a whole hashtag on X: use letters, digits and _, with a letter",
    ]
