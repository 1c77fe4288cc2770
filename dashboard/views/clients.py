"""Clients & settings (VA and admin): profile, platforms, posting slots, caption style, templates with preview."""

import pandas as pd
import streamlit as st

from dashboard import client_settings as cs
from dashboard import data
from dashboard.auth_gate import require
from dashboard.components import count_line, flash, live_violations, md_escape, run_action, show_error
from pipeline.core.clock import WEEKDAYS, utcnow
from pipeline.core.errors import CastmillError
from pipeline.core.vocab import PROPOSED
from pipeline.publish import slot_proposals
from pipeline.platforms import PLATFORM_NAMES, get_platform

identity = require("clients")
st.title("Clients & settings")
slugs = data.client_slugs()
if not slugs:
    st.info("No clients yet. Add one with `castmill client add SLUG --name NAME`.")
    st.stop()

slug = st.selectbox("Client", slugs, key="settings_client")
try:
    profile = cs.load_profile(identity, slug)
except CastmillError as exc:
    show_error(exc)
    st.stop()


def save(**changes) -> None:
    try:
        cs.save_profile(identity, slug, **changes)
    except CastmillError as exc:
        show_error(exc)
        return
    flash("success", f"Saved {slug}.")
    st.rerun()


def records(frame: pd.DataFrame) -> list[dict]:
    """Edited table rows with empty cells as None (pandas gives NaN for cells of added rows)."""
    return [{k: (v if isinstance(v, str) or pd.notna(v) else None) for k, v in row.items()}
            for row in frame.to_dict("records")]


def words(text: str) -> list[str]:
    return [w.strip() for w in text.replace(",", " ").split() if w.strip()]


def profile_tab() -> None:
    with st.form(f"profile_{slug}"):
        name = st.text_input("Name", profile.name)
        columns = st.columns(3)
        timezone = columns[0].text_input("Time zone (IANA)", profile.timezone)
        language = columns[1].text_input("Language", profile.language)
        stages = columns[2].radio("Approval", [2, 1], index=0 if profile.approval_stages == 2 else 1,
                                  format_func=lambda n: "VA, then client" if n == 2 else "client only")
        spoken = st.text_input("Languages spoken on the show (Whisper codes such as en id, or auto)",
                               " ".join(profile.languages), placeholder=f"empty: {profile.language}",
                               help="English only uses the small English model; anything else the multilingual one.")
        translate = st.checkbox("Quote moments spoken in another language as an English machine translation",
                                profile.translate_quotes, help="Whisper's translate task; needs Language = en. "
                                "Review labels every such post as a translation.")
        platforms = st.multiselect("Platforms", PLATFORM_NAMES, default=profile.platforms,
                                   format_func=lambda p: get_platform(p).label)
        hashtags = st.text_input("Hashtags (space or comma separated)", " ".join(profile.hashtags))
        brand_voice = st.text_area("Brand voice", profile.brand_voice, height=80)
        call_to_action = st.text_input("Call to action", profile.call_to_action)
        st.caption("Handles per platform (templates see them as client.handles.<platform>)")
        handles = st.data_editor(pd.DataFrame(list(profile.handles.items()), columns=["platform", "handle"]),
                                 num_rows="dynamic", key=f"handles_{slug}", hide_index=True)
        if st.form_submit_button("Save profile", type="primary"):
            save(name=name, timezone=timezone.strip(), language=language.strip(), languages=words(spoken),
                 translate_quotes=translate, approval_stages=stages,
                 platforms=platforms, hashtags=words(hashtags), brand_voice=brand_voice,
                 call_to_action=call_to_action,
                 handles={r["platform"]: r["handle"] for r in records(handles) if r["platform"] and r["handle"]})


def slots_tab() -> None:
    st.caption(f"Recurring posting times in the client's zone ({profile.timezone}). Days: {', '.join(WEEKDAYS)}.")
    rows = [{"platform": s.platform, "days": ", ".join(s.days), "time": s.time} for s in profile.posting_slots]
    edited = st.data_editor(
        pd.DataFrame(rows, columns=["platform", "days", "time"]), num_rows="dynamic", key=f"slots_{slug}",
        hide_index=True,
        column_config={"platform": st.column_config.SelectboxColumn("platform", options=list(PLATFORM_NAMES)),
                       "days": st.column_config.TextColumn("days", help="e.g. mon, wed, fri"),
                       "time": st.column_config.TextColumn("time", help="HH:MM, 24-hour")})
    if st.button("Save posting slots", key=f"save_slots_{slug}", type="primary"):
        slots = [{"platform": r["platform"], "days": words(r.get("days") or ""), "time": (r.get("time") or "").strip()}
                 for r in records(edited) if r["platform"]]
        save(posting_slots=slots)


def slots_text(slots: list[dict]) -> str:
    return "; ".join(f"{', '.join(slot['days'])} {slot['time']}" for slot in slots) or "none"


def proposed_slots() -> None:
    """Open proposals from the client's engagement (``castmill slots propose``), each accepted or rejected."""
    try:
        with data.session() as session:
            rows = slot_proposals.proposals(session, identity, slug, status=PROPOSED)
            shown = [(row, slot_proposals.explanation(row)) for row in rows]
    except CastmillError as exc:
        show_error(exc)
        return
    st.subheader("Proposed posting slots")
    if not shown:
        st.caption("No open proposals. `castmill slots propose --client SLUG` makes them from the numbers of "
                   "published posts.")
    for row, lines in shown:
        proposal_card(row, lines)


def proposal_card(row, lines: list[str]) -> None:
    with st.container(border=True):
        st.markdown(f"**{md_escape(get_platform(row.platform).label)}** · proposal {row.id}")
        st.text(f"now:      {slots_text(row.current_slots)}\nproposed: {slots_text(row.slots)}")
        st.text("\n".join(lines))
        accept, reject = st.columns(2)
        if accept.button("Accept", key=f"accept_proposal_{row.id}", type="primary"):
            run_action(lambda s: slot_proposals.accept(s, identity, row.id, now=utcnow()),
                       f"Proposal {row.id} accepted: the {row.platform} slots of {slug} changed.")
        if reject.button("Reject", key=f"reject_proposal_{row.id}"):
            run_action(lambda s: slot_proposals.reject(s, identity, row.id, now=utcnow()),
                       f"Proposal {row.id} rejected: the slots stay.")


def caption_tab() -> None:
    clips = profile.clips
    style = clips.caption_style
    with st.form(f"captions_{slug}"):
        preset = st.selectbox("Preset", ["default", "upper", "minimal"], index=["default", "upper", "minimal"].index(clips.style))
        columns = st.columns(3)
        font = columns[0].text_input("Font", style.font or "", placeholder="preset's font")
        colour = columns[1].color_picker("Text colour", style.colour or "#FFFFFF")
        highlight = columns[2].color_picker("Spoken word colour", style.highlight or "#FFB000")
        size = st.slider("Size (share of the frame height)", 0.02, 0.12, style.size or 0.05, 0.005)
        position = st.slider("Vertical position (share of the height)", 0.12, 0.80, style.position or 0.70, 0.01)
        uppercase = st.checkbox("Upper case", value=bool(style.uppercase))
        if st.form_submit_button("Save caption style", type="primary"):
            caption_style = {**style.model_dump(exclude_none=True), "font": font.strip() or None, "colour": colour,
                             "highlight": highlight, "size": size, "position": position, "uppercase": uppercase}
            save(clips={**clips.model_dump(), "style": preset, "caption_style": caption_style})


def templates_tab() -> None:
    if not profile.platforms:
        st.info("Choose the client's platforms first.")
        return
    platform = st.selectbox("Platform", profile.platforms, format_func=lambda p: get_platform(p).label,
                            key=f"template_platform_{slug}")
    try:
        source = cs.template_source(identity, slug, platform)
    except CastmillError as exc:
        show_error(exc)
        return
    st.caption(f"{'The client’s own' if source.own else 'The shipped'} template {md_escape(source.name)}; "
               "saving makes it the client's own.")
    text = st.text_area("Template (Jinja2, sandboxed)", source.text, height=260,
                        key=f"template_{slug}_{platform}_{source.name}")
    try:
        preview = cs.preview_template(identity, slug, platform, source.name, text)
    except CastmillError as exc:
        show_error(exc)
        return
    st.markdown("**Preview**" + (" (made-up episode: the client has no highlights yet)" if preview.sample else ""))
    for part in preview.parts:
        st.text(part)
    st.caption(count_line(platform, preview.parts))
    for problem in live_violations(platform, preview.parts, []):
        st.warning(md_escape(problem))
    if st.button("Save template", key=f"save_template_{slug}_{platform}", disabled=text == source.text):
        try:
            path = cs.save_template(identity, slug, platform, source.name, text)
        except CastmillError as exc:
            show_error(exc)
            return
        flash("success", f"Saved {path}.")
        st.rerun()


profile_tab_, slots_tab_, caption_tab_, templates_tab_ = st.tabs(["Profile", "Posting slots", "Caption style",
                                                                  "Templates"])
with profile_tab_:
    profile_tab()
with slots_tab_:
    slots_tab()
    proposed_slots()
with caption_tab_:
    caption_tab()
with templates_tab_:
    templates_tab()
