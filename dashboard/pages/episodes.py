"""Episodes: every episode and the status of each pipeline stage."""

import streamlit as st

from dashboard.data import client_slugs, episodes

st.title("Episodes")
slugs = client_slugs()
if not slugs:
    st.info("No clients yet. Add one with `castmill client add SLUG --name NAME`.")
    st.stop()

choice = st.selectbox("Client", ["All clients", *slugs], key="episodes_client")
rows = episodes(None if choice == "All clients" else choice)
if not rows:
    st.info("No episodes yet. Process some with `castmill process --client SLUG FILES…`.")
    st.stop()

st.dataframe(
    [
        {
            "id": r.id,
            "client": r.client,
            "title": r.title,
            "minutes": round(r.duration / 60, 1),
            **r.stages,
            "error": r.error or "",
        }
        for r in rows
    ],
    hide_index=True,
    key="episodes_table",
)
failed = [r for r in rows if r.error]
for row in failed:
    st.error(f"Episode {row.id} ({row.title}): {row.error}")
