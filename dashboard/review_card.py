"""One draft in the review queue: its text and first comment (editable), counts, rule violations, media,
reasons, actions.

The text box remembers the version it was opened on (``opened_<id>``). Saving sends that
version as ``base_version``, so a draft someone else changed meanwhile is never overwritten:
the library raises ``EditConflict`` and the card shows the word diff instead.
"""

from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components

from dashboard import data
from pipeline.access.permissions import may_approve, may_send_back
from dashboard.components import (count_line, flash, live_violations, md_escape, render_diff,
                                  run_action, show_error, show_media, status_badge)
from pipeline import review
from pipeline.core.errors import CastmillError
from pipeline.core.vocab import language_name
from pipeline.platforms import get_platform


def _opened(card) -> dict:
    """The version this browser session is editing; moves to the latest when nothing was typed."""
    key = f"opened_{card.draft_id}"
    opened = st.session_state.get(key)
    untouched = opened is not None and _typed(card.draft_id, opened) == opened["parts"] and \
        _typed_comment(card.draft_id, opened) == opened.get("first_comment", "")
    if opened is None or (opened["version"] < card.version_number and untouched):
        opened = _fresh(card)
        st.session_state[key] = opened
    return opened


def _fresh(card) -> dict:
    return {"version": card.version_number, "parts": list(card.parts), "first_comment": card.first_comment}


def _text_key(draft_id: int, version: int, part: int) -> str:
    return f"text_{draft_id}_{version}_{part}"


def _typed(draft_id: int, opened: dict) -> list[str]:
    """The parts as they are in the text boxes now (the opened text where a box is untouched)."""
    return [st.session_state.get(_text_key(draft_id, opened["version"], k), part)
            for k, part in enumerate(opened["parts"])]


def _first_comment_key(draft_id: int, version: int) -> str:
    return f"first_comment_{draft_id}_{version}"


def _typed_comment(draft_id: int, opened: dict) -> str:
    return st.session_state.get(_first_comment_key(draft_id, opened["version"]), opened.get("first_comment", ""))


def _edited(opened: dict, parts: list[str], first_comment: str) -> bool:
    return parts != opened["parts"] or first_comment != opened.get("first_comment", "")


def is_my_turn(identity, card) -> bool:
    """Whether this viewer may give the approval the draft waits for (the library's own rule)."""
    return may_approve(identity, card.needs_action_by)


def _may_send_back(identity, card) -> bool:
    return may_send_back(identity, card.status, card.needs_action_by)


def draft_card(identity, card, *, selectable: bool) -> None:
    with st.container(border=True, key=f"card_{card.draft_id}"):
        _header(card, selectable)
        text_column, info_column = st.columns([3, 2])
        with info_column:
            _subject(card)
        with text_column:
            opened = _opened(card)
            parts, first_comment = _editor(card, opened)
            _preview(identity, card, parts)
            _changed_meanwhile(card, opened)
            _conflict(card.draft_id)
            _actions(identity, card, opened, parts, first_comment)
        _comments(identity, card)


def _header(card, selectable: bool) -> None:
    columns = st.columns([1, 6, 3], vertical_alignment="center")
    if selectable:
        columns[0].checkbox("Select", key=f"select_{card.draft_id}", label_visibility="collapsed")
    with columns[1]:
        st.markdown(f"**{md_escape(get_platform(card.platform).label)}** · draft {card.draft_id} · "
                    f"version {card.version_number}")
    with columns[2]:
        status_badge(card.status)


def _subject(card) -> None:
    if card.highlight_title:
        st.text(f"Highlight: {card.highlight_title}")
    if card.highlight_start is not None and card.highlight_end is not None:
        st.caption(f"{card.highlight_start:.1f}–{card.highlight_end:.1f} s of the episode")
    if card.speakers:
        who = card.speakers[0] if len(card.speakers) == 1 else ", ".join(card.speakers)
        quote = f" · quote by {card.quote_by}" if card.quote_by else ""
        st.text(f"Who speaks: {who}{quote}")
    if card.highlight_reasons:
        st.text("Why this moment:\n" + "\n".join(f"• {reason}" for reason in card.highlight_reasons))
    if card.translation:
        _translation_notice(card.translation)
    show_media(card.clips, card.media)


def _translation_notice(translation: dict) -> None:
    st.info(f"Machine translation: the moment is spoken in {language_name(translation['from'])}, and this post "
            f"quotes it translated into {language_name(translation['to'])} by {md_escape(translation['by'])}. "
            "Check the translation before approving.", icon=":material/translate:")
    st.text(f"As spoken: “{translation['spoken_quote']}”")


def _editor(card, opened: dict) -> tuple[list[str], str]:
    total = len(opened["parts"])
    for k, part in enumerate(opened["parts"]):
        label = "Post" if total == 1 else f"Post {k + 1} of {total}"
        st.text_area(label, value=part, key=_text_key(card.draft_id, opened["version"], k), height=140,
                     help="The count updates when you leave the box (or press Ctrl+Enter).")
    parts = _typed(card.draft_id, opened)
    st.caption(count_line(card.platform, parts))
    first_comment = _first_comment_box(card, opened)
    edited = _edited(opened, parts, first_comment)
    problems = live_violations(card.platform, parts, card.media, first_comment) if edited else list(card.violations)
    for problem in problems:
        st.warning(md_escape(problem), icon=":material/rule:")
    if edited:
        st.caption("Unsaved changes.")
    return parts, first_comment


def _first_comment_box(card, opened: dict) -> str:
    """The first comment's box, on platforms that take comments (or when the draft has one to remove)."""
    platform = get_platform(card.platform)
    if platform.comment_limit is None and not opened.get("first_comment"):
        return ""
    st.text_area("First comment (posted right after the post: hashtags, links)", value=opened.get("first_comment", ""),
                 key=_first_comment_key(card.draft_id, opened["version"]), height=70,
                 help="Part of what is approved: changing it needs a new approval. Leave it empty for none.")
    return _typed_comment(card.draft_id, opened)


def _preview(identity, card, parts: list[str]) -> None:
    """Long-form drafts: the page as it will look, from the text as typed (script-free, see review.preview)."""
    if not get_platform(card.platform).episode_only:
        return
    with st.expander("Preview", expanded=False):
        try:
            page = data.draft_preview(identity, card.draft_id, parts)
        except CastmillError as exc:
            show_error(exc)
            return
        components.html(page, height=600, scrolling=True)


def _changed_meanwhile(card, opened: dict) -> None:
    if opened["version"] >= card.version_number:
        return
    st.warning(f"This draft changed since you opened it: you are editing version {opened['version']}, "
               f"the latest is version {card.version_number}.")
    render_diff(review.word_diff("\n\n".join(opened["parts"]), card.text))
    if st.button(f"Discard my changes and load version {card.version_number}", key=f"reload_{card.draft_id}"):
        st.session_state[f"opened_{card.draft_id}"] = _fresh(card)
        st.session_state.pop(f"conflict_{card.draft_id}", None)
        st.rerun()


def _conflict(draft_id: int) -> None:
    conflict = st.session_state.get(f"conflict_{draft_id}")
    if conflict is None:
        return
    st.error(f"This draft changed since you opened it: version {conflict['latest_version']} was saved meanwhile, "
             "so your text was not saved. The difference between your text and it:")
    render_diff(conflict["diff"])


def _actions(identity, card, opened: dict, parts: list[str], first_comment: str) -> None:
    edited = _edited(opened, parts, first_comment)
    approve, send_back = is_my_turn(identity, card), _may_send_back(identity, card)
    override = ""
    if approve and card.violations and not edited:
        override = st.text_input("To approve anyway, say why the rule may be broken", key=f"override_{card.draft_id}")
    reason = st.text_input("Reason (for changes or rejection)", key=f"reason_{card.draft_id}") if send_back else ""
    buttons = st.container(horizontal=True)
    if buttons.button("Save edit", key=f"save_{card.draft_id}", disabled=not edited, icon=":material/save:"):
        _save(identity, card, opened, parts, first_comment)
    if approve and buttons.button("Approve", key=f"approve_{card.draft_id}", type="primary", icon=":material/check:"):
        if edited:
            st.warning("Save your edit first: an approval is for a saved version.")
        else:
            run_action(lambda s: review.approve(s, identity, card.draft_id, version=opened["version"],
                                          override_reason=override.strip()),
                 f"Draft {card.draft_id} approved (version {opened['version']}).")
    if send_back and buttons.button("Request changes", key=f"changes_{card.draft_id}", icon=":material/undo:"):
        run_action(lambda s: review.request_changes(s, identity, card.draft_id, reason),
             f"Changes requested on draft {card.draft_id}.")
    if send_back and buttons.button("Reject", key=f"reject_{card.draft_id}", icon=":material/block:"):
        run_action(lambda s: review.reject(s, identity, card.draft_id, reason), f"Draft {card.draft_id} rejected.")


def _save(identity, card, opened: dict, parts: list[str], first_comment: str) -> None:
    try:
        with data.session() as session:
            result = review.edit(session, identity, card.draft_id, parts, base_version=opened["version"],
                                 first_comment=first_comment)
    except review.EditConflict as exc:
        st.session_state[f"conflict_{card.draft_id}"] = {"latest_version": exc.latest_version, "diff": exc.diff}
        st.rerun()
    except CastmillError as exc:
        show_error(exc)
        return
    st.session_state[f"opened_{card.draft_id}"] = {"version": result.version_number, "parts": list(parts),
                                                   "first_comment": first_comment.strip()}
    st.session_state.pop(f"conflict_{card.draft_id}", None)
    note = f" It breaks {len(result.violations)} platform rule(s): fix it or approve with a reason." \
        if result.violations else ""
    flash("success", f"Saved draft {card.draft_id} as version {result.version_number}.{note}")
    st.rerun()


def _comments(identity, card) -> None:
    if not st.toggle("Comments", key=f"show_comments_{card.draft_id}"):
        return
    with data.session() as session:
        comments = review.comments(session, identity, card.draft_id)
    for comment in comments:
        st.caption(f"{md_escape(comment.author)} · {comment.created_at:%Y-%m-%d %H:%M} UTC")
        st.text(comment.body)
    body = st.text_area("Add a comment", key=f"comment_{card.draft_id}", height=80)
    if st.button("Comment", key=f"send_comment_{card.draft_id}", disabled=not body.strip()):
        st.session_state.pop(f"comment_{card.draft_id}", None)
        run_action(lambda s: review.comment(s, identity, card.draft_id, body), "Comment added.")
