"""Notifications: how and when the signed-in user hears from Castmill (email, their own webhook, or not at all;
at once or in a daily digest). Every rule (only your own, a webhook needs an http(s) URL) is in
pipeline/publish/preferences.py; this page shows the current choice and passes the new one along."""

import streamlit as st

from dashboard import data
from dashboard.auth_gate import require
from dashboard.components import run_action, show_error
from pipeline.core.errors import CastmillError
from pipeline.core.vocab import NOTIFY_CADENCES, NOTIFY_CHANNELS
from pipeline.publish import preferences

CHANNEL_LABELS = {"email": "Email", "webhook": "My webhook", "off": "Off"}
CADENCE_LABELS = {"immediate": "At once", "daily": "Daily digest"}

identity = require("notifications")
st.title("Notifications")


def current() -> preferences.Preference:
    with data.session() as session:
        return preferences.get_preferences(session, identity, identity.email)


def save(channel: str, cadence: str, webhook_url: str) -> None:
    run_action(lambda s: preferences.set_preferences(s, identity, identity.email, channel=channel, cadence=cadence,
                                                     webhook_url=webhook_url),
               "Notification preferences saved.")


try:
    chosen = current()
except CastmillError as exc:
    show_error(exc)
    st.stop()

st.caption(f"Reminders and notices for {identity.email}.")
with st.form("notifications_form"):
    channel = st.radio("Send them by", NOTIFY_CHANNELS, index=NOTIFY_CHANNELS.index(chosen.channel),
                       format_func=CHANNEL_LABELS.get, horizontal=True, key="notify_channel")
    cadence = st.radio("When", NOTIFY_CADENCES, index=NOTIFY_CADENCES.index(chosen.cadence),
                       format_func=CADENCE_LABELS.get, horizontal=True, key="notify_digest")
    webhook_url = st.text_input("Webhook URL (for “My webhook”)", chosen.webhook_url, key="notify_webhook",
                                placeholder="https://hooks.example.com/…")
    if st.form_submit_button("Save", type="primary"):
        save(channel, cadence, webhook_url)
