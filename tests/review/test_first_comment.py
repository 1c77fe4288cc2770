"""A draft's first comment: part of the approved version, checked against the platform's comment rules."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pipeline import review
from pipeline.access.audit import AuditEvent
from pipeline.drafts.queries import check_draft
from pipeline.platforms import get_platform
from pipeline.store.models import Draft
from tests.review.conftest import add_draft

TAGS = "#podcast #pricing https://example.com/ep/12"


def run(world, call, /, *args, **kwargs):
    with world.db.session() as session:
        return call(session, *args, **kwargs)


def approve_fully(world, draft: int, version: int) -> None:
    run(world, review.approve, world.va, draft, version=version)
    run(world, review.approve, world.acme_user, draft, version=version)


def test_editing_the_first_comment_adds_a_version_and_voids_the_approval(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    first = run(world, review.edit, world.va, draft, ["Hello listeners"], base_version=1, first_comment=TAGS)
    assert first.created and first.version_number == 2
    approve_fully(world, draft, 2)
    with world.db.session() as session:
        assert review.approved_version(session, draft).first_comment == TAGS
    changed = run(world, review.edit, world.va, draft, ["Hello listeners"], base_version=2,
                  first_comment=TAGS + " #growth")
    assert (changed.version_number, changed.status, changed.voided_approvals) == (3, "draft", 2)
    with world.db.session() as session:
        assert review.approved_version(session, draft) is None
        edit_event = session.scalars(select(AuditEvent).where(AuditEvent.action == "draft.edit")
                                     .order_by(AuditEvent.id.desc())).first()
        assert edit_event.before["first_comment"] == TAGS and edit_event.after["first_comment"] == TAGS + " #growth"


def test_the_first_comment_is_in_the_version_hash_only_when_there_is_one(world):
    assert review.version_hash(["a"], [], []) == review.version_hash(["a"], [], [], "")
    assert review.version_hash(["a"], [], []) != review.version_hash(["a"], [], [], TAGS)


def test_the_first_comment_is_kept_when_not_given_and_removed_with_an_empty_text(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    run(world, review.edit, world.va, draft, ["Hello listeners"], base_version=1, first_comment=f"  {TAGS}\n")
    kept = run(world, review.edit, world.va, draft, ["Hello listeners!"], base_version=2)
    removed = run(world, review.edit, world.va, draft, ["Hello listeners!"], base_version=3, first_comment="")
    unchanged = run(world, review.edit, world.va, draft, ["Hello listeners!"], base_version=4, first_comment="")
    history = run(world, review.versions, world.va, draft)
    assert [v.number for v in history] == [1, 2, 3, 4] and (kept.created, removed.created, unchanged.created) == \
        (True, True, False)
    with world.db.session() as session:
        assert [v.first_comment for v in session.get(Draft, draft).versions] == ["", TAGS, TAGS, ""]


@pytest.mark.parametrize("platform", ["x", "bluesky", "mastodon", "linkedin", "instagram", "facebook", "threads"])
def test_a_first_comment_over_the_platform_limit_is_flagged_and_needs_an_override(world, platform):
    limit = get_platform(platform).comment_limit
    draft = add_draft(world.db, world.acme, world.acme_episode, platform=platform, hashtags=())
    post_only = run(world, check_draft, world.admin, draft)  # Instagram, say, wants media on the post itself
    fits = run(world, review.edit, world.va, draft, ["Hello listeners"], base_version=1, first_comment="a" * limit)
    assert fits.violations == post_only
    over = run(world, review.edit, world.va, draft, ["Hello listeners"], base_version=2,
               first_comment="a" * (limit + 1))
    [flagged] = [v for v in over.violations if v not in post_only]
    assert flagged.startswith("first comment is") and f"the limit is {limit}" in flagged
    with pytest.raises(review.ReviewError, match="platform rule"):
        run(world, review.approve, world.va, draft, version=3)
    assert run(world, check_draft, world.admin, draft) == over.violations


def test_instagram_caps_a_first_comment_at_30_hashtags(world):
    draft = add_draft(world.db, world.acme, world.acme_episode, platform="instagram", hashtags=())
    tags = " ".join(f"#tag{n}" for n in range(31))
    result = run(world, review.edit, world.va, draft, ["Hello listeners"], base_version=1, first_comment=tags)
    assert "first comment has 31 hashtags; Instagram allows 30" in result.violations
    assert not any(v.startswith("first comment") for v in run(world, review.edit, world.va, draft, ["Hello listeners"],
                                                               base_version=2, first_comment=tags[:-7]).violations)


@pytest.mark.parametrize("platform", ["newsletter", "wordpress", "tiktok", "youtube"])
def test_platforms_without_comments_refuse_a_first_comment_with_the_reason(platform):
    found = get_platform(platform).validate_first_comment(TAGS)
    assert len(found) == 1 and found[0].rule == "first_comment" and "takes none (" in found[0].message
    assert get_platform(platform).validate_first_comment("  ") == []


def test_the_cli_sets_and_removes_a_first_comment(world):
    from tests.helpers.cli import castmill

    draft = add_draft(world.db, world.acme, world.acme_episode, platform="mastodon")
    approve_fully(world, draft, 1)
    set_it = castmill("drafts", "edit", str(draft), "--first-comment", TAGS)
    assert set_it.exit_code == 0 and f"draft {draft}: version 2, now draft; 2 approval(s) voided" in set_it.stdout
    too_long = castmill("drafts", "edit", str(draft), "--first-comment", "a" * 501)
    assert "first comment is 501 characters as Mastodon counts them; the limit is 500" in too_long.stdout
    assert castmill("drafts", "check", str(draft)).exit_code == 1
    removed = castmill("drafts", "edit", str(draft), "--no-first-comment")
    assert removed.exit_code == 0 and castmill("drafts", "check", str(draft)).exit_code == 0
    both = castmill("drafts", "edit", str(draft), "--first-comment", "x", "--no-first-comment")
    assert both.exit_code != 0 and "not both" in both.stderr
    with world.db.session() as session:
        assert [v.first_comment for v in session.get(Draft, draft).versions] == ["", TAGS, "a" * 501, ""]
