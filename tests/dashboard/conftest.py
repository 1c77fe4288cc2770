"""Fixtures for dashboard AppTests: two clients with drafts, staff and client users, an app runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipeline.access.auth import Identity
from pipeline.store.db import Database
from tests.dashboard.seed import SeededClient, add_staff, seed_client, sign_in

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@dataclass
class World:
    db: Database
    acme: SeededClient  # two approval stages, America/New_York, x + linkedin
    budi: SeededClient  # one stage (the client approves alone), Asia/Jakarta, x + bluesky

    def identity(self, who: str) -> Identity:
        emails = {"va": "va@castmill.test", "admin": "admin@castmill.test", "acme": self.acme.user_email,
                  "budi": self.budi.user_email}
        return sign_in(self.db, emails[who])


@pytest.fixture
def world(fresh_db) -> World:
    acme = seed_client(fresh_db, "acme", stages=2, timezone="America/New_York", platforms=("x", "linkedin"))
    budi = seed_client(fresh_db, "budi", stages=1, timezone="Asia/Jakarta", platforms=("x", "bluesky"))
    add_staff(fresh_db)
    return World(fresh_db, acme, budi)


def run_app(identity: Identity | None = None, *, page: str | None = None, query: dict | None = None) -> AppTest:
    """The dashboard as ``identity`` (None: signed out), on ``page`` (e.g. "views/versions.py")."""
    app = AppTest.from_file(APP, default_timeout=60)
    if identity is not None:
        app.session_state["identity"] = identity
    for key, value in (query or {}).items():
        app.query_params[key] = value
    app.run()
    assert not app.exception, app.exception
    if page is not None:
        app.switch_page(page).run()
        assert not app.exception, app.exception
    return app


def texts(app: AppTest) -> str:
    """Everything the page shows as text (markdown, text, captions, alerts, titles), one string."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "text", "caption", "info", "warning", "error",
                 "success"):
        parts += [str(element.value) for element in getattr(app, kind)]
    return "\n".join(parts)
