"""Castmill dashboard: who is signed in decides which pages st.navigation offers.

The pages live in dashboard/views/, not dashboard/pages/: Streamlit treats a ``pages/`` folder
next to the entry script as a v1 multipage app until ``st.navigation`` first runs, and then
serves those files by URL without running this script (and its sign-in gate) first.
"""

import streamlit as st

from dashboard.auth_gate import account_box, current_identity, navigation_pages
from dashboard.components import show_flashes

st.set_page_config(page_title="Castmill", layout="wide")
identity = current_identity()
navigation = st.navigation(navigation_pages(identity), position="sidebar" if identity else "hidden")
account_box(identity)
show_flashes()
navigation.run()
