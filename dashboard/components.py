"""Widgets shared by the pages: badges, diffs, media, counts, progress.

User text (drafts, comments, titles, template output) is never rendered as HTML or Markdown:
it goes through ``st.text``/``st.text_area``, through ``md_escape`` where a Markdown label is
unavoidable, or through ``html.escape`` in the one place we build HTML (the diff).
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path
from typing import Iterable
from zoneinfo import ZoneInfo

import streamlit as st

from pipeline import review
from pipeline.core.vocab import APPROVED, CHANGES_REQUESTED, CLIENT_REVIEW, DRAFT, REJECTED
from pipeline.platforms import get_platform

# Draft statuses (vocab.DRAFT_STATUSES) -> st.badge colours and the words the badge shows.
DRAFT_STATUS_COLOURS = {DRAFT: "blue", CLIENT_REVIEW: "violet", CHANGES_REQUESTED: "orange", APPROVED: "green",
                        REJECTED: "red"}
DRAFT_STATUS_LABELS = {DRAFT: "waiting for VA review", CLIENT_REVIEW: "waiting for the client",
                       CHANGES_REQUESTED: "changes requested", APPROVED: "approved", REJECTED: "rejected"}
ALL_CLIENTS = "All clients"  # the no-filter choice of a client select box
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$])")
DIFF_STYLE = {
    "insert": "background:#d4f7dc;color:#05400a;text-decoration:none",
    "delete": "background:#fbd9d9;color:#6a0808;text-decoration:line-through",
}


def md_escape(text: str) -> str:
    """``text`` safe inside a Markdown label: every Markdown (and Streamlit directive) character escaped."""
    return _MD_SPECIAL.sub(r"\\\1", text or "").replace("\n", " ")


def show_error(message) -> None:
    """An error exactly as the library raised it (escaped, so a title in it cannot turn into a link)."""
    st.error(md_escape(str(message)))


def run_action(action, success: str) -> None:
    """Run a library call in one database session; show its error, or flash ``success`` and rerun."""
    from dashboard import data
    from pipeline.core.errors import CastmillError

    try:
        with data.session() as session:
            action(session)
    except CastmillError as exc:
        show_error(exc)
        return
    flash("success", success)
    st.rerun()


def client_filter(container, slugs: list[str], key: str) -> str | None:
    """A "Client" select box with "All clients" first: the chosen slug, or None for all of them."""
    choice = container.selectbox("Client", [ALL_CLIENTS, *slugs], key=key)
    return None if choice == ALL_CLIENTS else choice


def status_badge(status: str) -> None:
    st.badge(DRAFT_STATUS_LABELS.get(status, status), color=DRAFT_STATUS_COLOURS.get(status, "gray"))


def flash(kind: str, message: str) -> None:
    """A message shown once, on the next run (after an action's ``st.rerun``)."""
    st.session_state.setdefault("flashes", []).append((kind, message))


def show_flashes() -> None:
    for kind, message in st.session_state.pop("flashes", []):
        getattr(st, kind)(message)


# --- diff ---------------------------------------------------------------------------------------

def diff_html(tokens: Iterable) -> str:
    """Word diff tokens (``op`` equal|insert|delete, ``text``) as escaped HTML with ins/del colouring."""
    out = []
    for token in tokens:
        text = html.escape(token.text)
        if token.op == "insert":
            out.append(f'<ins style="{DIFF_STYLE["insert"]}">{text}</ins>')
        elif token.op == "delete":
            out.append(f'<del style="{DIFF_STYLE["delete"]}">{text}</del>')
        else:
            out.append(f"<span>{text}</span>")
    # Tokens carry their own whitespace; pre-wrap keeps the line breaks between thread posts.
    return f'<div class="castmill-diff" style="line-height:1.7;white-space:pre-wrap">{"".join(out)}</div>'


def render_diff(tokens: Iterable) -> None:
    tokens = list(tokens)
    if not any(t.op != "equal" for t in tokens):
        st.caption("No differences.")
    st.html(diff_html(tokens))


# --- text checks --------------------------------------------------------------------------------

def count_line(platform_name: str, parts: list[str]) -> str:
    """'123 / 280 characters' for every part, as the platform counts."""
    platform = get_platform(platform_name)
    counts = [f"{platform.count(part)} / {platform.text_limit}" for part in parts]
    label = " · ".join(f"post {k + 1}: {c}" for k, c in enumerate(counts)) if len(parts) > 1 else counts[0]
    return f"{label} {platform.count_unit} ({platform.label})"


def live_violations(platform_name: str, parts: list[str], media: list[dict], first_comment: str = "") -> list[str]:
    """The platform's rules the (possibly unsaved) text breaks, checked as the library checks a saved version."""
    return review.violations_of(platform_name, [p for p in parts if p.strip()], media or [], first_comment.strip())


# --- media --------------------------------------------------------------------------------------

AUDIO_FORMATS = ("mp3", "m4a", "wav", "ogg")


def show_media(clips: list[dict], media: list[dict]) -> None:
    """The highlight's rendered clip (video, else audiogram, else audio) and thumbnail, and the quote card the
    post carries, when the files exist; otherwise a note about the media the post will carry."""
    present = [c for c in clips or [] if c.get("path") and Path(c["path"]).is_file()]
    thumbnail = next((c for c in present if c["kind"] == "thumbnail"), None)
    moving = sorted((c for c in present if c["kind"] in ("video", "audiogram")),
                    key=lambda c: (c["kind"] != "video", c.get("aspect") != "9:16"))
    sound = next((c for c in present if c["kind"] == "audio" and c.get("format") in AUDIO_FORMATS), None)
    if thumbnail is not None:
        st.image(thumbnail["path"], width=140, caption="thumbnail")
    if moving:
        st.video(moving[0]["path"])
        if moving[0].get("framing"):
            st.caption(f"Framing: {moving[0]['framing']}")
    elif sound is not None:
        st.audio(sound["path"])
    images = [m for m in media or [] if m.get("kind") == "image" and m.get("path") and Path(m["path"]).is_file()]
    for image in images:  # a quote card the post carries, with the alt text it is published with
        st.image(image["path"], width=240, caption=image.get("alt") or image.get("clip", "image"))
    if not present and not images:
        for item in media or []:
            st.caption(f"{item.get('kind', 'media')}: {item.get('status', 'planned')}, not rendered yet")


# --- colours -------------------------------------------------------------------------------------

# Hues of the colours st.badge and Markdown colour directives accept (Streamlit's light theme).
_NAMED_HUES = {"red": 0, "orange": 35, "yellow": 53, "green": 139, "blue": 209, "violet": 262}


def badge_colour(hex_colour: str) -> str:
    """The st.badge colour name closest in hue to ``#rrggbb`` (grey for unsaturated colours)."""
    import colorsys

    r, g, b = (int(hex_colour[k:k + 2], 16) / 255 for k in (1, 3, 5))
    hue, _light, saturation = colorsys.rgb_to_hls(r, g, b)
    if saturation < 0.2:
        return "gray"
    degrees = hue * 360
    return min(_NAMED_HUES, key=lambda name: min(abs(degrees - _NAMED_HUES[name]), 360 - abs(degrees - _NAMED_HUES[name])))


# --- times --------------------------------------------------------------------------------------

def local_time(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


# --- progress of long work -----------------------------------------------------------------------

class StreamlitReporter:
    """The batch runner's Reporter (pipeline/core/progress.py) drawn as one status line and bar per source."""

    def __init__(self, container):
        self.container = container
        self.rows: dict[str, tuple] = {}
        self.totals: dict[str, float] = {}

    def _row(self, source: str):
        if source not in self.rows:
            box = self.container.container()
            self.rows[source] = (box.empty(), box.progress(0.0))
        return self.rows[source]

    def started(self, source, title):
        self._row(source)[0].text(f"{title or source}: ingesting")

    def stage(self, source, stage, total_seconds, title=""):
        self.totals[source] = max(total_seconds, 1.0)
        line, bar = self._row(source)
        line.text(f"{title or Path(source).name}: {stage}")
        bar.progress(0.0)

    def advance(self, source, seconds_done):
        self._row(source)[1].progress(min(1.0, seconds_done / self.totals.get(source, 1.0)))

    def finished(self, source, message):
        line, bar = self._row(source)
        line.text(f"{Path(source).name}: {message}")
        bar.progress(1.0)

    def failed(self, source, error):
        # The error itself is shown once, with the batch's outcome.
        self._row(source)[0].text(f"{Path(source).name}: failed")
