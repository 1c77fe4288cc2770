"""Calendar: scheduled posts by week or month, in the viewer's zone and the client's; reschedule or cancel.
``?post=ID`` (the link in a notice about a failed or missed post) shows that post first, the calendar around
its day, and picks it in "Move or cancel a post"."""

import calendar as monthcal
from datetime import date, datetime, time, timedelta

import streamlit as st

from dashboard import data
from dashboard.auth_gate import require
from dashboard.components import badge_colour, client_filter, md_escape, run_action, show_error
from pipeline import calendar as cal
from pipeline import review
from pipeline.access.permissions import may_manage_clients
from pipeline.core.errors import CastmillError
from pipeline.core.vocab import PUBLISHED, RESCHEDULABLE
from pipeline.publish import evergreen
from pipeline.platforms import PLATFORM_NAMES, get_platform

identity = require("calendar")
st.title("Calendar")
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def viewer_zone() -> str:
    zones = list(dict.fromkeys([identity.timezone or "UTC", st.context.timezone or "UTC", "UTC"]))
    return st.selectbox("Show my times in", zones, key="calendar_zone")


def shown_days(view: str, anchor: date) -> list[date]:
    if view == "Week":
        monday = anchor - timedelta(days=anchor.weekday())
        return [monday + timedelta(days=k) for k in range(7)]
    first = anchor.replace(day=1)
    weeks = monthcal.Calendar().monthdatescalendar(first.year, first.month)
    return [day for week in weeks for day in week]


def focused_post():
    """The post ``?post=ID`` names, when the viewer may see it (another client's answers "not found")."""
    raw = st.query_params.get("post")
    if raw is None:
        return None
    try:
        with data.session() as session:
            return cal.post_entry(session, identity, int(raw) if raw.isdigit() else -1)
    except CastmillError as exc:
        show_error(exc)
        return None


def show_focused(entry, tz: str) -> None:
    with st.container(border=True):
        st.markdown(f"**Post {entry.post_id}** (draft {entry.draft_id}) · {entry_line(entry, tz)}")
        st.caption(f"due {entry.due_in(tz):%Y-%m-%d %H:%M} ({tz}) · {entry.due_local_client:%Y-%m-%d %H:%M %Z} "
                   f"(client)")
        if entry.error:
            st.text(f"Why: {entry.error}")
        st.text(entry.text_preview)
        if st.button("Show the whole calendar", key="unfocus_post", icon=":material/arrow_back:"):
            del st.query_params["post"]
            st.rerun()


def filters(anchor=None) -> dict:
    columns = st.columns(4)
    chosen = {"client_slug": None}
    if identity.is_staff:
        chosen["client_slug"] = client_filter(columns[0], data.client_slugs(), "calendar_client")
    platform = columns[1].selectbox("Platform", ["all", *PLATFORM_NAMES], key="calendar_platform",
                                    format_func=lambda p: "All platforms" if p == "all" else get_platform(p).label)
    chosen["platform"] = None if platform == "all" else platform
    chosen["view"] = columns[2].segmented_control("View", ["Week", "Month"], default="Week", key="calendar_view",
                                                  required=True)
    chosen["anchor"] = columns[3].date_input("Around", value=anchor or "today", key="calendar_anchor")
    return chosen


def load(chosen: dict, days: list[date], tz: str) -> list:
    start, end = cal.local_day_range(days[0], days[-1], tz)
    with data.session() as session:
        return cal.entries(session, identity, start_utc=start, end_utc=end, client_slug=chosen["client_slug"],
                           platform=chosen["platform"])


def entry_line(entry, tz: str) -> str:
    mine = entry.due_in(tz)
    theirs = entry.due_local_client
    both = "" if theirs.utcoffset() == mine.utcoffset() else f" ({theirs:%H:%M} {theirs:%Z} client)"
    who = f" · {entry.client_slug}" if identity.is_staff else ""
    status = f":{badge_colour(entry.colour)}-badge[{entry.status}]"
    return f"**{mine:%H:%M}**{both} {get_platform(entry.platform).label}{who} {status}"


def grid(days: list[date], entries: list, tz: str) -> None:
    by_day: dict[date, list] = {}
    for entry in entries:
        by_day.setdefault(entry.due_in(tz).date(), []).append(entry)
    header = st.columns(7)
    for column, name in zip(header, WEEKDAY_NAMES):
        column.markdown(f"**{name}**")
    for week in range(0, len(days), 7):
        columns = st.columns(7, border=True)
        for column, day in zip(columns, days[week:week + 7]):
            with column:
                st.caption(f"{day:%d %b}")
                for entry in by_day.get(day, []):
                    st.markdown(entry_line(entry, tz), help=md_escape(entry.text_preview) or None)


def post_table(entries: list, tz: str) -> None:
    rows = [{"post": e.post_id, "draft": e.draft_id, "client": e.client_slug, "platform": e.platform,
             "account": e.account, f"due ({tz})": e.due_in(tz).strftime("%Y-%m-%d %H:%M"),
             "due (client zone)": f"{e.due_local_client:%Y-%m-%d %H:%M %Z}", "status": e.status,
             "text": e.text_preview, "error": e.error} for e in entries]
    colours = {e.post_id: e.colour for e in entries}

    def paint(row):
        return [f"background-color: {colours[row['post']]}; color: white" if name == "status" else ""
                for name in row.index]

    import pandas as pd

    st.dataframe(pd.DataFrame(rows).style.apply(paint, axis=1), hide_index=True, key="calendar_table")


def legend() -> None:
    st.caption("Status colours: " + " ".join(f":{badge_colour(colour)}-badge[{status}]"
                                             for status, colour in cal.STATUS_COLOURS.items()))


def move_or_cancel(entries: list, tz: str, focus=None) -> None:
    movable = [e for e in entries if e.status in RESCHEDULABLE]
    if focus is not None and focus.status in RESCHEDULABLE and focus.post_id not in {e.post_id for e in movable}:
        movable.insert(0, focus)
    if not movable:
        return
    with st.expander("Move or cancel a post", icon=":material/edit_calendar:", expanded=focus is not None):
        labels = {e.post_id: f"post {e.post_id} · {get_platform(e.platform).label} · {e.due_in(tz):%Y-%m-%d %H:%M}"
                  for e in movable}
        ids = list(labels)
        first = ids.index(focus.post_id) if focus is not None and focus.post_id in ids else 0
        post_id = st.selectbox("Post", ids, index=first, format_func=labels.get, key="move_post")
        entry = next(e for e in movable if e.post_id == post_id)
        zones = list(dict.fromkeys([tz, entry.client_timezone]))
        columns = st.columns(3)
        zone = columns[2].selectbox("Time zone", zones, key="move_zone",
                                    format_func=lambda z: f"{z} (client)" if z == entry.client_timezone else z)
        current = entry.due_in(zone)
        day = columns[0].date_input("New date", value=current.date(), key=f"move_day_{post_id}_{zone}")
        at = columns[1].time_input("New time", value=current.time().replace(tzinfo=None), step=300,
                                   key=f"move_time_{post_id}_{zone}")
        if st.button("Reschedule", key="move_go", type="primary"):
            run_action(lambda s: cal.reschedule(s, identity, post_id, at=datetime.combine(day, at), tz=zone),
                f"Post {post_id} moved to {day} {at:%H:%M} {zone}.")
        reason = st.text_input("Reason to cancel", key="cancel_reason")
        if st.button("Cancel post", key="cancel_go", disabled=not reason.strip()):
            run_action(lambda s: cal.cancel(s, identity, post_id, reason), f"Post {post_id} cancelled.")


def evergreen_controls(entries: list, tz: str, focus=None) -> None:
    """Staff mark a published post evergreen (the recycler queues copies into free slots later), or stop it."""
    if not may_manage_clients(identity):
        return
    published = [e for e in entries if e.status == PUBLISHED]
    if focus is not None and focus.status == PUBLISHED and focus.post_id not in {e.post_id for e in published}:
        published.insert(0, focus)
    if not published:
        return
    with st.expander("Evergreen posts", icon=":material/recycling:"):
        labels = {e.post_id: f"post {e.post_id} · {e.client_slug} · {get_platform(e.platform).label} · "
                             f"{e.due_in(tz):%Y-%m-%d %H:%M}" for e in published}
        post_id = st.selectbox("Published post", list(labels), format_func=labels.get, key="evergreen_post")
        try:
            with data.session() as session:
                mark = evergreen.evergreen_of(session, identity, post_id)
        except CastmillError as exc:
            show_error(exc)
            return
        evergreen_button(post_id, mark)


def evergreen_button(post_id: int, mark) -> None:
    if mark is not None and mark.active:
        st.caption(f"Evergreen: {mark.copies} copy(ies) queued so far.")
        if st.button("Unmark", key="evergreen_unmark", icon=":material/block:"):
            run_action(lambda s: evergreen.unmark(s, identity, post_id), f"Post {post_id} is no longer evergreen.")
        return
    if mark is not None and mark.stop_reason:
        st.caption(f"Recycling stopped: {md_escape(mark.stop_reason)}")
    if st.button("Mark evergreen", key="evergreen_mark", icon=":material/recycling:"):
        run_action(lambda s: evergreen.mark(s, identity, post_id), f"Post {post_id} marked evergreen.")


def schedule_approved() -> None:
    """Approved drafts onto the calendar: the client's next free posting slot, or a chosen time."""
    with data.session() as session:
        approved = review.queue(session, identity, statuses=[review.APPROVED])
    if not approved:
        return
    with st.expander(f"Schedule an approved draft ({len(approved)} approved)", icon=":material/event_available:"):
        labels = {c.draft_id: f"#{c.draft_id} · {c.episode_title} · {get_platform(c.platform).label}"
                              + (f" · {c.client_slug}" if identity.is_staff else "") for c in approved}
        draft_id = st.selectbox("Draft", list(labels), format_func=labels.get, key="schedule_draft")
        st.text(next(c.text for c in approved if c.draft_id == draft_id)[:280])
        next_slot = st.toggle("Next free posting slot of the client", value=True, key="schedule_next_slot")
        at = None
        if not next_slot:
            columns = st.columns(2)
            day = columns[0].date_input("Date (client's zone)", key="schedule_day")
            moment = columns[1].time_input("Time (client's zone)", value=time(9, 0), step=300, key="schedule_time")
            at = datetime.combine(day, moment)
        if st.button("Schedule", key="schedule_go", type="primary"):
            run_action(lambda s: cal.schedule(s, identity, draft_id, at=at), f"Draft {draft_id} scheduled.")


tz = viewer_zone()
focus = focused_post()
if focus is not None:
    show_focused(focus, tz)
chosen = filters(focus.due_in(tz).date() if focus is not None else None)
days = shown_days(chosen["view"], chosen["anchor"])
try:
    entries = load(chosen, days, tz)
except CastmillError as exc:
    show_error(exc)
    st.stop()
legend()
grid(days, entries, tz)
if entries:
    post_table(entries, tz)
else:
    st.info(f"No posts between {days[0]:%d %b} and {days[-1]:%d %b %Y}.")
move_or_cancel(entries, tz, focus)
evergreen_controls(entries, tz, focus)
schedule_approved()
