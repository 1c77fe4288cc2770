"""Castmill dashboard: who is signed in decides which pages st.navigation offers.

The pages live in dashboard/views/, not dashboard/pages/: Streamlit treats a ``pages/`` folder
next to the entry script as a v1 multipage app until ``st.navigation`` first runs, and then
serves those files by URL without running this script (and its sign-in gate) first.

Signed out, every URL shows the sign-in form; a page's own URL (a notice's ``/review?draft=ID``)
is remembered and opened once signed in.
"""

import streamlit as st

from dashboard.auth_gate import (account_box, current_identity, navigation_pages, open_deep_link,
                                 remember_deep_link)
from dashboard.components import show_flashes
from dashboard.sign_in_form import sign_in_form

st.set_page_config(page_title="Castmill", layout="wide")
identity = current_identity()
page = st.navigation(navigation_pages(identity), position="sidebar" if identity else "hidden")
if identity is None:
    remember_deep_link(page)
else:
    open_deep_link(identity)
account_box(identity)
show_flashes()
if identity is None:
    sign_in_form()
else:
    page.run()
