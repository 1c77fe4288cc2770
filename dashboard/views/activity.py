"""Activity: the audit trail, filterable. A client sees only events of their own items (the library scopes it)."""

import json
from datetime import datetime, time, timedelta, timezone

import streamlit as st

from dashboard import data
from dashboard.auth_gate import require
from dashboard.components import client_filter, local_time, show_error
from pipeline.access import audit
from pipeline.core.errors import CastmillError
from pipeline.core.vocab import AUDIT_ENTITIES

identity = require("activity")
st.title("Activity")

columns = st.columns(4)
client_slug = None
if identity.is_staff:
    client_slug = client_filter(columns[0], data.client_slugs(), "activity_client")
action = columns[1].text_input("Action starts with", key="activity_action", placeholder="draft., post., user.login")
entity = columns[2].selectbox("Entity", ["any", *AUDIT_ENTITIES], key="activity_entity")
entity_type = None if entity == "any" else entity
since_day = columns[3].date_input("Since", value=datetime.now(timezone.utc).date() - timedelta(days=30),
                                  key="activity_since")
since = datetime.combine(since_day, time(), tzinfo=timezone.utc)

try:
    with data.session() as session:
        events = audit.events(session, identity, client_slug=client_slug, entity_type=entity_type, since=since)
except CastmillError as exc:
    show_error(exc)
    st.stop()
if action.strip():
    events = [e for e in events if e.action.startswith(action.strip())]
if not events:
    st.info("No activity matches.")
    st.stop()

zone = identity.timezone or "UTC"


def compact(value) -> str:
    return "" if value in (None, {}) else json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


st.dataframe(
    [{"at": local_time(e.at, zone), "who": e.actor, **({"client": e.client_slug or ""} if identity.is_staff else {}),
      "action": e.action, "entity": e.entity_type,
      "id": e.entity_id, "before": compact(e.before), "after": compact(e.after)} for e in events],
    hide_index=True, key="activity_table",
)
st.caption(f"{len(events)} event(s), newest first; times in {zone}.")
