"""Versions: the history of one draft, a word diff between any two versions, who made each, approvals."""

import streamlit as st

from dashboard import data
from dashboard.auth_gate import require
from dashboard.components import md_escape, render_diff, show_error
from pipeline import review
from pipeline.core.errors import CastmillError
from pipeline.platforms import get_platform

identity = require("versions")
st.title("Versions")


def draft_choice() -> int | None:
    """The draft to show: ``?draft=ID`` or a pick from the viewer's queue."""
    raw = st.query_params.get("draft")
    if raw is not None:
        return int(raw) if raw.isdigit() else -1
    with data.session() as session:
        cards = review.queue(session, identity)
    if not cards:
        st.info("No drafts yet.")
        st.stop()
    labels = {c.draft_id: f"#{c.draft_id} · {c.episode_title} · {get_platform(c.platform).label}"
                          + (f" · {c.client_slug}" if identity.is_staff else "") for c in cards}
    return st.selectbox("Draft", list(labels), key="versions_draft", format_func=labels.get)


def version_facts(version) -> None:
    st.caption(f"by {md_escape(version.author)} · {version.created_at:%Y-%m-%d %H:%M} UTC · "
               f"{md_escape(version.source)}")
    for approval in version.approvals:
        voided = " (void: edited after)" if approval.voided_at else ""
        override = f" — overridden rules: {approval.override_reason}" if approval.override_reason else ""
        why = f" — {approval.reason}" if approval.reason else ""
        st.text(f"{approval.stage} {approval.decision} by {approval.actor} "
                f"at {approval.at:%Y-%m-%d %H:%M} UTC{voided}{why}{override}")


draft_id = draft_choice()
try:
    with data.session() as session:
        history = review.versions(session, identity, draft_id)
except CastmillError as exc:
    show_error(exc)
    st.stop()

numbers = [v.number for v in history]
by_number = {v.number: v for v in history}
left, right = st.columns(2)
old = left.selectbox("From version", numbers, index=max(0, len(numbers) - 2), key=f"versions_old_{draft_id}")
new = right.selectbox("To version", numbers, index=len(numbers) - 1, key=f"versions_new_{draft_id}")
with left:
    version_facts(by_number[old])
with right:
    version_facts(by_number[new])

st.subheader("Changes")
st.caption("Green: added in the newer version. Red, struck through: removed.")
render_diff(review.word_diff(by_number[old].text, by_number[new].text))

with st.expander("Full texts"):
    columns = st.columns(2)
    columns[0].text(by_number[old].text)
    columns[1].text(by_number[new].text)
