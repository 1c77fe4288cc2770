"""Who is using the dashboard: sign-in, review links, session expiry, and which pages a role gets.

The identity lives in ``st.session_state`` (per browser session, never in the URL or a cookie).
Every page asks ``require(PAGE)`` for it and passes it to the library, which scopes every query;
the page list of ``st.navigation`` only offers what the role may open.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.components import flash
from dashboard.data import database
from pipeline.access import auth
from pipeline.core.errors import CastmillError
from pipeline.core.vocab import ADMIN, ROLES, STAFF_ROLES

IDENTITY_KEY = "identity"
LINK_TOKEN_KEY = "review_link_token"  # the ?token= already tried in this session
DEEP_LINK_KEY = "deep_link"  # (page key, query) a signed-out visit asked for, opened after sign-in
DEEP_LINK_PARAMS = ("draft", "post")  # the items notices link to: /review?draft=ID, /calendar?post=ID

STAFF = STAFF_ROLES
EVERYONE = ROLES
ADMINS = (ADMIN,)


@dataclass(frozen=True)
class PageSpec:
    key: str
    path: str  # relative to dashboard/app.py
    title: str
    icon: str
    roles: tuple[str, ...]
    review_link: bool = False  # open to a review-link identity (a client signed in by ?token=)


PAGES = (
    PageSpec("review", "views/review.py", "Review queue", ":material/rate_review:", EVERYONE, review_link=True),
    PageSpec("versions", "views/versions.py", "Versions", ":material/history:", EVERYONE),
    PageSpec("episodes", "views/episodes.py", "Episodes", ":material/podcasts:", STAFF),
    PageSpec("calendar", "views/calendar.py", "Calendar", ":material/calendar_month:", EVERYONE),
    PageSpec("clients", "views/clients.py", "Clients & settings", ":material/tune:", STAFF),
    PageSpec("activity", "views/activity.py", "Activity", ":material/list_alt:", EVERYONE),
    PageSpec("notifications", "views/notifications.py", "Notifications", ":material/notifications:", EVERYONE),
    PageSpec("health", "views/health.py", "Health", ":material/monitor_heart:", ADMINS),
)
SIGN_IN = PageSpec("sign-in", "views/sign_in.py", "Sign in", ":material/login:", ())


def may_open(identity, spec: PageSpec) -> bool:
    if identity is None:
        return False
    if identity.is_review_link:
        return spec.review_link
    return identity.role in spec.roles


def allowed_pages(identity) -> list[PageSpec]:
    if identity is None:
        return [SIGN_IN]
    return [spec for spec in PAGES if may_open(identity, spec)]


def navigation_pages(identity) -> list:
    # Signed out, every page is registered but never run (app.py shows the sign-in form instead), so
    # that a link such as /review?draft=ID resolves to its page and can be remembered.
    specs = [SIGN_IN, *PAGES] if identity is None else allowed_pages(identity)
    return [st.Page(s.path, title=s.title, icon=s.icon, url_path=s.key, default=(k == 0))
            for k, s in enumerate(specs)]


def remember_deep_link(page) -> None:
    """Signed out on a page's own URL: keep that page and its item for after sign-in (on "/": nothing)."""
    spec = _spec_named(page.url_path)
    if spec is None:
        st.session_state.pop(DEEP_LINK_KEY, None)
        return
    query = {name: st.query_params[name] for name in DEEP_LINK_PARAMS if name in st.query_params}
    st.session_state[DEEP_LINK_KEY] = (spec.key, query)


def open_deep_link(identity) -> None:
    """Just signed in: the remembered page with its item when the role may open it, else the default page."""
    target = st.session_state.pop(DEEP_LINK_KEY, None)
    if target is None:
        return
    key, query = target
    spec = _spec_named(key)
    if spec is not None and may_open(identity, spec):
        st.switch_page(spec.path, query_params=query)
    else:
        st.switch_page(allowed_pages(identity)[0].path)


def _spec_named(key: str) -> PageSpec | None:
    return next((s for s in PAGES if s.key == key), None)


# --- the identity of this browser session ----------------------------------------------------------

def current_identity():
    """The signed-in identity, after trying a new ``?token=`` review link and checking expiry."""
    token = st.query_params.get("token")
    if token and token != st.session_state.get(LINK_TOKEN_KEY):
        st.session_state[LINK_TOKEN_KEY] = token
        sign_in_with_link(token)
    identity = st.session_state.get(IDENTITY_KEY)
    if identity is None:
        return None
    try:
        # Every run, not only at sign-in: a disabled user or an erased client is signed out at the next click.
        with database().session() as session:
            auth.check_active(session, identity)
    except auth.SessionExpired as exc:
        sign_out(f"{exc}.")
        return None
    return identity


def sign_in(email: str, password: str) -> str | None:
    """Signs in; returns the error message to show, or None."""
    try:
        with database().session() as session:
            identity = auth.login(session, email, password)
    except CastmillError as exc:
        return str(exc)
    _remember(identity)
    return None


def sign_in_with_link(token: str) -> None:
    try:
        with database().session() as session:
            identity = auth.identity_from_review_link(session, token)
    except CastmillError as exc:
        _clear_session()
        flash("error", str(exc))
        return
    _remember(identity)


def sign_out(message: str | None = None) -> None:
    _clear_session()
    if message:
        flash("warning", message)


def _remember(identity) -> None:
    _clear_session()
    st.session_state[IDENTITY_KEY] = identity


def _clear_session() -> None:
    """A new identity starts from a clean slate: no filters, texts or selections of the previous one."""
    keep = {LINK_TOKEN_KEY, DEEP_LINK_KEY, "flashes"}
    for key in list(st.session_state.keys()):
        if key not in keep:
            del st.session_state[key]


def require(page_key: str):
    """The identity, when it may open this page; otherwise a message and the page stops."""
    identity = st.session_state.get(IDENTITY_KEY)
    spec = next(s for s in PAGES if s.key == page_key)
    if identity is None:
        st.info("Sign in to continue.")
        st.stop()
    if not may_open(identity, spec):
        st.error("This page is not available to your account.")
        st.stop()
    return identity


def account_box(identity) -> None:
    """Who is signed in, until when, and the sign-out button (in the sidebar)."""
    if identity is None:
        return
    with st.sidebar:
        who = "review link" if identity.is_review_link else identity.role
        client = f" · {identity.client_slug}" if identity.client_slug else ""
        st.text(f"{identity.email}\n{who}{client}")
        st.caption(f"Session ends {identity.expires_at:%Y-%m-%d %H:%M} UTC")
        if st.button("Sign out", key="sign_out", icon=":material/logout:"):
            sign_out()
            flash("info", "Signed out.")
            st.rerun()
