"""The sign-in form: email and password (a client can also open the review link with ?token= instead)."""

import streamlit as st

from dashboard.auth_gate import sign_in


def sign_in_form() -> None:
    st.title("Castmill")
    st.caption("Sign in to review and schedule your posts. Clients can also open the review link they were sent.")
    with st.form("sign_in_form"):
        email = st.text_input("Email", key="sign_in_email", autocomplete="username")
        password = st.text_input("Password", type="password", key="sign_in_password",
                                 autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    if not email.strip() or not password:
        st.error("Enter your email and password.")
    elif (problem := sign_in(email.strip(), password)) is not None:
        st.error(problem)
    else:
        st.rerun()
