"""AppTest: the review queue — scoping, edit → version, approve → approval row, conflicts, violations, bulk."""

from __future__ import annotations

import re

from sqlalchemy import select

from pipeline import review
from pipeline.store.models import Approval, AuditEvent, Draft, DraftVersion
from tests.dashboard.conftest import run_app, texts

TEXT_KEY = re.compile(r"text_(\d+)_(\d+)_(\d+)")


def shown_drafts(app) -> set[int]:
    return {int(m.group(1)) for t in app.text_area if t.key and (m := TEXT_KEY.fullmatch(t.key))}


def text_box(app, draft_id: int):
    return next(t for t in app.text_area if t.key and t.key.startswith(f"text_{draft_id}_"))


def latest(db, draft_id: int) -> DraftVersion:
    with db.session() as session:
        return review.latest_version(session, draft_id)


def status_of(db, draft_id: int) -> str:
    with db.session() as session:
        return session.get(Draft, draft_id).status


def test_a_client_sees_only_their_own_drafts(world):
    app = run_app(world.identity("budi"))
    assert shown_drafts(app) == set(world.budi.draft_ids)  # a one-stage client: all four wait for them
    app.toggle(key="review_mine").set_value(False).run()
    assert shown_drafts(app) == set(world.budi.draft_ids)
    assert "review_client" not in [s.key for s in app.selectbox]  # no client filter for a client
    assert "Acme" not in texts(app)


def test_a_two_stage_client_waits_for_the_va(world):
    app = run_app(world.identity("acme"))
    assert shown_drafts(app) == set()
    assert "Nothing waiting for you here." in [i.value for i in app.info]
    app.toggle(key="review_mine").set_value(False).run()
    assert shown_drafts(app) == set(world.acme.draft_ids)
    assert not any(b.key and b.key.startswith("approve_") for b in app.button)  # not the client's turn yet


def test_staff_see_every_client_and_filter_by_client(world):
    app = run_app(world.identity("va"))
    assert shown_drafts(app) == set(world.acme.draft_ids)  # waiting for the VA: acme's (budi skips the VA)
    app.toggle(key="review_mine").set_value(False).run()
    assert shown_drafts(app) == set(world.acme.draft_ids) | set(world.budi.draft_ids)
    app.selectbox(key="review_client").select("budi").run()
    assert shown_drafts(app) == set(world.budi.draft_ids)


def test_grouped_by_episode_then_platform(world):
    app = run_app(world.identity("budi"))
    assert [s.value for s in app.subheader] == ["Budi episode 1"]
    assert [m.value for m in app.markdown if m.value.startswith("#### ")] == ["#### Bluesky", "#### X"]


def test_saving_an_edit_creates_a_new_version(world):
    draft_id = world.budi.draft_ids[0]
    app = run_app(world.identity("budi"))
    text_box(app, draft_id).input("A shorter post, in our own words.").run()
    assert "Unsaved changes." in texts(app)
    app.button(key=f"save_{draft_id}").click().run()
    assert not app.exception, app.exception
    version = latest(world.db, draft_id)
    assert (version.number, version.parts, version.author, version.source) == (
        2, ["A shorter post, in our own words."], world.budi.user_email, "edit")
    assert f"Saved draft {draft_id} as version 2." in [s.value for s in app.success]
    assert text_box(app, draft_id).key == f"text_{draft_id}_2_0"  # the box now edits version 2


def test_approving_binds_the_approval_to_the_shown_version(world):
    draft_id = world.budi.draft_ids[1]
    app = run_app(world.identity("budi"))
    app.button(key=f"approve_{draft_id}").click().run()
    assert not app.exception, app.exception
    with world.db.session() as session:
        approval = session.scalar(select(Approval).where(Approval.draft_id == draft_id))
        version = review.latest_version(session, draft_id)
        assert (approval.stage, approval.decision, approval.version_id) == ("client", "approved", version.id)
        assert approval.version_hash == review.hash_of(version)
        assert review.approved_version(session, draft_id).id == version.id
        events = list(session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == draft_id)))
    assert status_of(world.db, draft_id) == "approved"
    assert "draft.approve" in events
    assert draft_id not in shown_drafts(app)  # no longer waiting for the client


def test_va_approval_moves_a_draft_to_the_client(world):
    draft_id = world.acme.draft_ids[0]
    app = run_app(world.identity("va"))
    app.button(key=f"approve_{draft_id}").click().run()
    assert status_of(world.db, draft_id) == "client_review"
    client_app = run_app(world.identity("acme"))
    assert shown_drafts(client_app) == {draft_id}


def test_an_edit_saved_meanwhile_is_a_conflict_with_a_diff_and_nothing_is_overwritten(world):
    draft_id = world.budi.draft_ids[0]
    app = run_app(world.identity("budi"))
    va = world.identity("va")
    with world.db.session() as session:  # the VA saves an edit while the client has the draft open
        review.edit(session, va, draft_id, ["The VA's wording."], base_version=1)
    text_box(app, draft_id).input("The client's wording.").run()
    assert any("changed since you opened it" in w.value for w in app.warning)
    app.button(key=f"save_{draft_id}").click().run()
    assert not app.exception, app.exception
    assert any("This draft changed since you opened it" in e.value for e in app.error)
    diff = "".join(h.value for h in app.html)
    assert "<ins" in diff and "client&#x27;s" in diff and "<del" in diff and "VA&#x27;s" in diff
    version = latest(world.db, draft_id)
    assert (version.number, version.parts) == (2, ["The VA's wording."])
    assert text_box(app, draft_id).value == "The client's wording."  # the typed text is kept


def test_an_untouched_box_follows_a_newer_version_silently(world):
    draft_id = world.budi.draft_ids[0]
    app = run_app(world.identity("budi"))
    va = world.identity("va")
    with world.db.session() as session:
        review.edit(session, va, draft_id, ["Fresh text from the VA."], base_version=1)
    app.run()
    assert text_box(app, draft_id).value == "Fresh text from the VA."
    assert not any("changed since" in w.value for w in app.warning)


def test_an_edit_over_the_limit_is_saved_flagged_and_needs_an_override_reason(world):
    with world.db.session() as session:
        draft_id = session.scalar(select(Draft.id).where(Draft.client_id == world.budi.client_id,
                                                         Draft.platform == "x").order_by(Draft.id))
    long_text = "word " * 80  # 400 characters: X allows 280
    app = run_app(world.identity("budi"))
    text_box(app, draft_id).input(long_text).run()
    assert any("the limit is 280" in w.value for w in app.warning)  # live, before saving
    app.button(key=f"save_{draft_id}").click().run()
    assert latest(world.db, draft_id).number == 2
    assert any("breaks 1 platform rule" in s.value for s in app.success)
    app.button(key=f"approve_{draft_id}").click().run()
    assert any("override reason" in e.value for e in app.error)
    assert status_of(world.db, draft_id) == "client_review"
    app.text_input(key=f"override_{draft_id}").input("We post the long version as a thread by hand.")
    app.button(key=f"approve_{draft_id}").click().run()
    assert status_of(world.db, draft_id) == "approved"
    with world.db.session() as session:
        approval = session.scalar(select(Approval).where(Approval.draft_id == draft_id))
    assert approval.override_reason == "We post the long version as a thread by hand."


def test_request_changes_and_reject_need_a_reason_and_change_the_status(world):
    first, second = world.budi.draft_ids[:2]
    app = run_app(world.identity("budi"))
    app.button(key=f"changes_{first}").click().run()
    assert any("say what should change" in e.value for e in app.error)
    app.text_input(key=f"reason_{first}").input("Mention the guest's name.")
    app.button(key=f"changes_{first}").click().run()
    assert status_of(world.db, first) == "changes_requested"
    app.text_input(key=f"reason_{second}").input("Off-brand.")
    app.button(key=f"reject_{second}").click().run()
    assert status_of(world.db, second) == "rejected"


def test_html_in_drafts_and_comments_is_shown_as_text(world):
    draft_id = world.budi.draft_ids[0]
    script = "<script>alert('x')</script> **bold** [link](javascript:alert(1))"
    va = world.identity("va")
    with world.db.session() as session:
        review.edit(session, va, draft_id, [script], base_version=1)
        review.comment(session, va, draft_id, "<img src=x onerror=alert(1)>")
    app = run_app(world.identity("budi"))
    assert text_box(app, draft_id).value == script
    app.toggle(key=f"show_comments_{draft_id}").set_value(True).run()
    assert "<img src=x onerror=alert(1)>" in [t.value for t in app.text]
    rendered = [m.value for m in app.markdown] + [h.value for h in app.html] + [c.value for c in app.caption]
    assert not any("<script" in r or "<img" in r or "](javascript" in r for r in rendered)


def test_a_comment_is_stored_as_typed(world):
    draft_id = world.budi.draft_ids[0]
    app = run_app(world.identity("budi"))
    app.toggle(key=f"show_comments_{draft_id}").set_value(True).run()
    app.text_area(key=f"comment_{draft_id}").input("Love it <3").run()
    app.button(key=f"send_comment_{draft_id}").click().run()
    assert not app.exception, app.exception
    with world.db.session() as session:
        bodies = [c.body for c in review.comments(session, world.identity("budi"), draft_id)]
    assert bodies == ["Love it <3"]
    assert "Love it <3" in [t.value for t in app.text]


def test_bulk_approve_approves_the_selected_drafts_only(world):
    chosen, left = world.budi.draft_ids[:2], world.budi.draft_ids[2:]
    app = run_app(world.identity("budi"))
    for draft_id in chosen:
        app.checkbox(key=f"select_{draft_id}").check()
    app.run()
    app.button(key="bulk_approve").click().run()
    assert not app.exception, app.exception
    assert [status_of(world.db, d) for d in chosen] == ["approved", "approved"]
    assert [status_of(world.db, d) for d in left] == ["draft", "draft"]  # as generated
    assert "Approved 2 draft(s)." in [s.value for s in app.success]


def test_bulk_approve_reports_refusals(world):
    va = world.identity("va")
    with world.db.session() as session:
        draft_id = session.scalar(select(Draft.id).where(Draft.client_id == world.budi.client_id,
                                                         Draft.platform == "x").order_by(Draft.id))
        review.edit(session, va, draft_id, ["word " * 80], base_version=1)
    app = run_app(world.identity("budi"))
    app.checkbox(key=f"select_{draft_id}").check().run()
    app.button(key="bulk_approve").click().run()
    assert any(e.value.startswith(f"Draft {draft_id} not approved:") for e in app.error)
    assert status_of(world.db, draft_id) == "client_review"


def test_a_highlight_draft_shows_its_clip_thumbnail_and_reasons(world, tmp_path):
    from PIL import Image

    from pipeline.store.models import Clip

    with world.db.session() as session:
        draft = session.scalar(select(Draft).where(Draft.client_id == world.budi.client_id, Draft.platform == "x",
                                                   Draft.highlight_key != "episode"))
        video, thumb = tmp_path / "clip.mp4", tmp_path / "clip.jpg"
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42 not a real movie")
        Image.new("RGB", (90, 160), "orange").save(thumb)
        for kind, fmt, path in (("audiogram", "mp4", video), ("thumbnail", "jpg", thumb)):
            session.add(Clip(episode_id=draft.episode_id, highlight_key=draft.highlight_key, kind=kind, aspect="9:16",
                             format=fmt, path=str(path), sha256="0" * 64, input_key="k"))
        draft_id = draft.id
    app = run_app(world.identity("budi"), query={"draft": str(draft_id)})
    assert len(app.get("video")) == 1 and len(app.image) == 1
    shown = [t.value for t in app.text]
    assert "Highlight: Moment 1" in shown
    assert "Why this moment:\n• reason 1: a clear claim\n• the host laughs" in shown


def test_long_queues_are_paged_twenty_drafts_at_a_time(fresh_db):
    from tests.dashboard.seed import add_staff, seed_client, sign_in

    many = seed_client(fresh_db, "many", highlights=10, platforms=("x", "linkedin"))  # 22 drafts
    add_staff(fresh_db)
    app = run_app(sign_in(fresh_db, "va@castmill.test"))
    first = shown_drafts(app)
    assert len(first) == 20
    app.number_input(key="review_page_number").set_value(2).run()
    second = shown_drafts(app)
    assert len(second) == 2 and first | second == set(many.draft_ids)


def test_a_post_quoting_a_machine_translation_says_so_and_shows_the_words_as_spoken(world):
    from pipeline.drafts.generate import generate_drafts
    from pipeline.store.models import Episode, Highlight

    translation = {"from": "fr", "to": "en", "by": "Whisper base (faster-whisper), translate task",
                   "text": "The market opens at dawn.", "quote": "The market opens at dawn.",
                   "title": "The market opens at dawn", "key_phrases": ["market"], "hashtags": ["#Market"]}
    with world.db.session() as session:
        [episode] = session.scalars(select(Episode).where(Episode.client_id == world.budi.client_id))
        highlight = session.scalar(select(Highlight).where(Highlight.episode_id == episode.id, Highlight.rank == 1))
        highlight.quote, highlight.translation = "Le marché ouvre à l'aube.", translation
        session.flush()
        generate_drafts(session, episode.id)
    app = run_app(world.identity("budi"))
    shown = texts(app).replace("\\", "")  # markdown escapes, not shown
    assert "Machine translation: the moment is spoken in French (fr), and this post quotes it translated into " \
           "English (en) by Whisper base (faster-whisper), translate task." in shown
    assert "As spoken: “Le marché ouvre à l'aube.”" in shown
    assert any("“The market opens at dawn.”" in box.value for box in app.text_area)
    assert shown.count("Machine translation:") == 2  # the x and bluesky posts of that highlight, not the others


def test_a_highlight_draft_names_who_speaks_with_the_vas_names(world):
    from pipeline.drafts.generate import generate_drafts
    from pipeline.store.models import Episode, Highlight

    with world.db.session() as session:
        [episode] = session.scalars(select(Episode).where(Episode.client_id == world.budi.client_id))
        highlight = session.scalar(select(Highlight).where(Highlight.episode_id == episode.id, Highlight.rank == 1))
        highlight.speakers, highlight.quote_by = ["S2", "S1"], "S2"
        highlight.reasons = ["a clear claim", "an exchange between S2 and S1"]
        episode.speaker_names = {"S2": "Budi Santoso"}
        session.flush()
        generate_drafts(session, episode.id)
    app = run_app(world.identity("budi"))
    shown = texts(app).replace("\\", "")
    assert "Who speaks: Budi Santoso, S1 · quote by Budi Santoso" in shown
    assert "• an exchange between Budi Santoso and S1" in shown
    # A named quote is credited in the post; the unnamed S1 never appears in it.
    credited = [box.value for box in app.text_area if "— Budi Santoso" in box.value]
    assert credited and not any("S1" in box.value for box in app.text_area)


def test_a_reframed_video_says_how_it_was_framed(world, tmp_path):
    from pipeline.store.models import Clip

    with world.db.session() as session:
        draft = session.scalar(select(Draft).where(Draft.client_id == world.budi.client_id, Draft.platform == "x",
                                                   Draft.highlight_key != "episode"))
        video = tmp_path / "clip.mp4"
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42 not a real movie")
        session.add(Clip(episode_id=draft.episode_id, highlight_key=draft.highlight_key, kind="video", aspect="9:16",
                         format="mp4", path=str(video), sha256="0" * 64, input_key="k",
                         probe={"reframe": {"layout": "fit", "reason": "no face found: blurred fit"}}))
        draft_id = draft.id
    app = run_app(world.identity("budi"), query={"draft": str(draft_id)})
    assert "Framing: no face found: blurred fit" in [c.value for c in app.caption]


def test_a_long_form_draft_has_a_preview_and_posts_do_not(world):
    from pipeline.store.models import Draft, DraftVersion

    with world.db.session() as session:
        draft = Draft(client_id=session.get(Draft, world.acme.draft_ids[0]).client_id,
                      episode_id=session.get(Draft, world.acme.draft_ids[0]).episode_id, highlight_key="episode",
                      platform="wordpress", language="en", status="draft")
        draft.versions.append(DraftVersion(number=1, parts=["Title: Blog\nSlug: blog\nDescription: d\n\nHello"],
                                           hashtags=[], media=[], author="castmill", source="test"))
        session.add(draft)
        session.flush()
        blog_id = draft.id
    app = run_app(world.identity("va"))
    assert blog_id in shown_drafts(app)
    previews = [e for e in app.expander if e.label == "Preview"]
    assert len(previews) == 1  # the blog post's; the short posts have none
