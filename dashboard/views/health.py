"""Health (admin): the checks of `castmill doctor`, each problem with what fixes it."""

import streamlit as st

from dashboard import data
from dashboard.auth_gate import require
from dashboard.components import md_escape, show_error
from pipeline.core.errors import CastmillError
from pipeline.core.vocab import HEALTH_FAIL

identity = require("health")
st.title("Health")

try:
    findings = data.health(identity)
except CastmillError as exc:
    show_error(exc)
    st.stop()

problems = [f for f in findings if f.is_problem]
if not problems:
    st.success("Every check passed.")
for f in problems:
    say = st.error if f.status == HEALTH_FAIL else st.warning
    say(f"**{md_escape(f.name)}**: {md_escape(f.detail)}" + (f"  \nWhat to do: {md_escape(f.fix)}" if f.fix else ""))

st.dataframe([{"status": f.status, "check": f.name, "detail": f.detail, "what to do": f.fix} for f in findings],
             hide_index=True, key="health_table")
st.caption("The same checks as `castmill doctor` on the command line, run on the dashboard's machine now. "
           "They only look; nothing is changed.")
