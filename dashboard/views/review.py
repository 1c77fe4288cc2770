"""Review queue: drafts by episode and platform, with edit, comment, approve, request changes, reject.

Every rule (who may approve which stage, binding an approval to a version, voiding it on an
edit, platform limits) lives in pipeline/review/workflow.py; this page only collects input and shows
what the library says. ``?draft=ID`` opens one draft alone.
"""

from itertools import groupby

import streamlit as st

from dashboard import data
from dashboard.auth_gate import require
from dashboard.components import client_filter, flash, md_escape, show_error
from dashboard.review_card import draft_card, is_my_turn
from pipeline import review
from pipeline.core.errors import CastmillError
from pipeline.platforms import get_platform

PAGE_SIZE = 20

identity = require("review")
st.title("Review queue")


def focused_draft_id() -> int | None:
    raw = st.query_params.get("draft")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return -1  # shown as "no draft", like any id the viewer may not see


ALL = "all"  # the "no filter" choice of a select box


def filters() -> dict:
    columns = iter(st.columns(4))
    chosen: dict = {}
    if identity.is_staff:
        chosen["client_slug"] = client_filter(next(columns), data.client_slugs(), "review_client")
    statuses = next(columns).multiselect("Status", list(review.STATUSES), key="review_statuses",
                                      format_func=lambda s: s.replace("_", " "), placeholder="any status")
    chosen["statuses"] = statuses or None
    chosen["mine"] = next(columns).toggle("Waiting for me", value=True, key="review_mine",
                                       help="Only drafts whose next step is yours")
    return chosen


def load_cards(chosen: dict) -> list:
    with data.session() as session:
        cards = review.queue(session, identity, client_slug=chosen.get("client_slug"),
                             statuses=chosen.get("statuses"))
    return [c for c in cards if is_my_turn(identity, c)] if chosen["mine"] else cards


def narrow(cards: list) -> list:
    """Episode and platform filters, offered from what the queue holds."""
    columns = st.columns(4)
    episodes = {c.episode_id: c.episode_title for c in cards}
    episode = columns[0].selectbox("Episode", [ALL, *episodes], key="review_episode",
                                   format_func=lambda e: "All episodes" if e == ALL else f"{e}: {episodes[e]}")
    platforms = sorted({c.platform for c in cards})
    platform = columns[1].selectbox("Platform", [ALL, *platforms], key="review_platform",
                                    format_func=lambda p: "All platforms" if p == ALL else get_platform(p).label)
    return [c for c in cards if (episode == ALL or c.episode_id == episode)
            and (platform == ALL or c.platform == platform)]


def bulk_approve_bar(cards: list) -> None:
    selected = [c.draft_id for c in cards if st.session_state.get(f"select_{c.draft_id}")]
    label = f"Approve selected ({len(selected)})"
    if not st.button(label, key="bulk_approve", disabled=not selected, icon=":material/done_all:"):
        return
    with data.session() as session:
        outcomes = review.bulk_approve(session, identity, selected)
    approved = [o for o in outcomes if o.ok]
    for outcome in outcomes:
        if not outcome.ok:
            flash("error", f"Draft {outcome.draft_id} not approved: {outcome.error}")
        st.session_state.pop(f"select_{outcome.draft_id}", None)
    if approved:
        flash("success", f"Approved {len(approved)} draft(s).")
    st.rerun()


def page_of(cards: list) -> list:
    pages = max(1, -(-len(cards) // PAGE_SIZE))
    if pages == 1:
        return cards
    number = st.number_input(f"Page (of {pages}, {PAGE_SIZE} drafts each)", min_value=1, max_value=pages,
                             step=1, key="review_page_number")
    return cards[(number - 1) * PAGE_SIZE: number * PAGE_SIZE]


def in_reading_order(cards: list) -> list:
    """Newest episode first, then platform: what the grouping (and the paging before it) expects."""
    return sorted(cards, key=lambda c: (-c.episode_id, c.platform, c.draft_id))


def show_grouped(cards: list) -> None:
    for (episode_id, title), by_episode in groupby(cards, key=lambda c: (c.episode_id, c.episode_title)):
        by_episode = list(by_episode)
        st.subheader(md_escape(title or f"Episode {episode_id}"), divider="gray")
        if identity.is_staff:
            st.caption(f"client {by_episode[0].client_slug} · episode {episode_id}")
        for platform, group in groupby(by_episode, key=lambda c: c.platform):
            st.markdown(f"#### {md_escape(get_platform(platform).label)}")
            for card in group:
                draft_card(identity, card, selectable=True)


def show_focused(draft_id: int) -> None:
    if st.button("Show the whole queue", key="unfocus", icon=":material/arrow_back:"):
        del st.query_params["draft"]
        st.rerun()
    try:
        with data.session() as session:
            card = review.draft_detail(session, identity, draft_id)
    except CastmillError as exc:
        show_error(exc)
        return
    draft_card(identity, card, selectable=False)


focus = focused_draft_id()
if focus is not None:
    show_focused(focus)
    st.stop()

chosen = filters()
all_cards = load_cards(chosen)
cards = in_reading_order(narrow(all_cards))
if not cards:
    st.info("Nothing waiting for you here." if chosen["mine"] else "No drafts match these filters.")
    st.stop()
st.caption(f"{len(cards)} draft(s)")
bulk_approve_bar(cards)
show_grouped(page_of(cards))
