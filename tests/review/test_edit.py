"""Edits: immutable versions, conflicts with a word diff, flags for broken rules, text stored as typed."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from pipeline import review
from pipeline.store.models import DraftVersion
from pipeline.review.diff import word_diff
from tests.review.conftest import add_draft

SCRIPT = '<script>alert("x")</script> <b>bold</b> & <img src=x onerror=alert(1)>'


def run(world, call, /, *args, **kwargs):
    with world.db.session() as session:
        return call(session, *args, **kwargs)


def test_an_edit_adds_an_immutable_version_by_its_author(world):
    draft = add_draft(world.db, world.acme, world.acme_episode, parts=["One", "Two"], hashtags=["#pod"])
    result = run(world, review.edit, world.acme_user, draft, ["One, better", "Two"], base_version=1)
    assert (result.created, result.version_number, result.violations) == (True, 2, [])
    history = run(world, review.versions, world.va, draft)
    assert [(v.number, v.author, v.source) for v in history] == [
        (1, "castmill", "template posts/x.j2 sha256:abc"), (2, "ceo@acme.test", "edit")]
    assert history[0].parts == ["One", "Two"] and history[1].text == "One, better\n\nTwo"
    assert history[1].hashtags == ["#pod"]  # kept when not given
    assert history[0].hash != history[1].hash


def test_hashtags_can_be_edited_and_blank_thread_posts_are_dropped(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    result = run(world, review.edit, world.va, draft, ["Main post", "  ", ""], base_version=1,
                 hashtags=["growth", "#pricing", " "])
    latest = run(world, review.versions, world.va, draft)[-1]
    assert result.version_number == 2 and latest.parts == ["Main post"]
    assert latest.hashtags == ["#growth", "#pricing"]


def test_an_unchanged_edit_adds_nothing(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    run(world, review.approve, world.va, draft, version=1)
    result = run(world, review.edit, world.va, draft, ["Hello listeners"], base_version=1)
    assert (result.created, result.version_number, result.voided_approvals, result.status) == \
        (False, 1, 0, "client_review")


@pytest.mark.parametrize("parts, message", [([], "the post is empty"), (["  ", "\n"], "the post is empty"),
                                            ("a string", "a list of post texts"), ([1], "a list of post texts")])
def test_an_empty_or_malformed_edit_is_refused(world, parts, message):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    with pytest.raises(review.ReviewError, match=message):
        run(world, review.edit, world.va, draft, parts, base_version=1)
    assert len(run(world, review.versions, world.va, draft)) == 1


def test_the_second_of_two_editors_gets_a_conflict_with_the_diff_and_nothing_is_overwritten(world):
    draft = add_draft(world.db, world.acme, world.acme_episode, parts=["We doubled our price last year"])
    run(world, review.edit, world.va, draft, ["We tripled our price last year"], base_version=1)
    with pytest.raises(review.EditConflict) as conflict:
        run(world, review.edit, world.acme_user, draft, ["We doubled our price in 2025"], base_version=1)
    error = conflict.value
    assert (error.latest_version, error.latest_text) == (2, "We tripled our price last year")
    assert "version 2 is the latest, not version 1; nothing was saved" in str(error)
    assert [(t.op, t.text) for t in error.changes_since_base] == [
        ("equal", "We "), ("delete", "doubled"), ("insert", "tripled"), ("equal", " our price last year")]
    assert [(t.op, t.text) for t in error.diff] == [
        ("equal", "We "), ("delete", "tripled"), ("insert", "doubled"), ("equal", " our price "),
        ("delete", "last year"), ("insert", "in 2025")]
    assert [v.text for v in run(world, review.versions, world.va, draft)] == [
        "We doubled our price last year", "We tripled our price last year"]


def test_simultaneous_editors_wait_for_each_other_and_the_second_is_told(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    outcome = {}

    def second_editor():
        try:
            run(world, review.edit, world.acme_user, draft, ["The client's text"], base_version=1)
            outcome["result"] = "saved"
        except Exception as exc:  # noqa: BLE001 - the test reports whatever happened
            outcome["result"] = exc

    with world.db.session() as session:
        review.edit(session, world.va, draft, ["The VA's text"], base_version=1)
        thread = threading.Thread(target=second_editor)
        thread.start()
        time.sleep(0.5)  # the second editor is now waiting for this transaction's lock
        assert thread.is_alive()
    thread.join(timeout=30)
    assert isinstance(outcome["result"], review.EditConflict), outcome["result"]
    assert [v.text for v in run(world, review.versions, world.va, draft)] == ["Hello listeners", "The VA's text"]


def test_an_edit_that_breaks_a_platform_limit_is_saved_and_flagged(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    result = run(world, review.edit, world.va, draft, ["x" * 300], base_version=1)
    assert result.created and result.version_number == 2
    assert result.violations == ["text is 300 characters as X counts them; the limit is 280"]
    assert run(world, review.draft_detail, world.acme_user, draft).violations == result.violations


def test_html_and_script_round_trip_unchanged_in_drafts_and_comments(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    run(world, review.edit, world.acme_user, draft, [SCRIPT], base_version=1)
    note = run(world, review.comment, world.acme_user, draft, SCRIPT + "\n  second line  ")
    assert run(world, review.draft_detail, world.va, draft).parts == [SCRIPT]
    assert run(world, review.comments, world.va, draft)[0].body == SCRIPT + "\n  second line  "
    assert note.body == SCRIPT + "\n  second line  " and note.version_number == 2
    with world.db.session() as session:
        assert session.scalar(select(DraftVersion.parts).where(DraftVersion.draft_id == draft,
                                                               DraftVersion.number == 2)) == [SCRIPT]


def test_comments_need_text_and_belong_to_the_latest_version(world):
    draft = add_draft(world.db, world.acme, world.acme_episode)
    with pytest.raises(review.ReviewError, match="the comment is empty"):
        run(world, review.comment, world.va, draft, "   ")
    run(world, review.comment, world.va, draft, "first")
    run(world, review.edit, world.va, draft, ["New"], base_version=1)
    run(world, review.comment, world.acme_user, draft, "second")
    listed = run(world, review.comments, world.acme_user, draft)
    assert [(c.author, c.body, c.version_number) for c in listed] == [
        ("va@castmill.test", "first", 1), ("ceo@acme.test", "second", 2)]


@pytest.mark.parametrize("old, new", [
    ("", ""), ("one", ""), ("", "one two"), ("a b c d", "a c d e"), ("line one\n\nline two", "line 1\n\nline two"),
    ("  spaced   out  ", "spaced out"), ("same words here", "same words here"),
])
def test_word_diff_rebuilds_both_texts(old, new):
    tokens = word_diff(old, new)
    assert "".join(t.text for t in tokens if t.op != "insert") == old
    assert "".join(t.text for t in tokens if t.op != "delete") == new
    assert all(t.op in ("equal", "insert", "delete") and t.text for t in tokens)
    assert all(a.op != b.op for a, b in zip(tokens, tokens[1:]))  # neighbours merged


def test_word_diff_marks_whole_words():
    assert [(t.op, t.text) for t in word_diff("we grew fast", "we grew slowly")] == [
        ("equal", "we grew "), ("delete", "fast"), ("insert", "slowly")]
