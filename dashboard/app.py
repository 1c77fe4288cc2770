"""Castmill dashboard: wires pages only (see dashboard/pages/)."""

import streamlit as st

st.set_page_config(page_title="Castmill", layout="wide")
navigation = st.navigation([st.Page("pages/episodes.py", title="Episodes", icon=":material/podcasts:")])
navigation.run()
