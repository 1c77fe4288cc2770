"""End to end in a real browser: `streamlit run` on a free local port, Debian's chromium driven by Playwright.

A client signs in, edits a draft, approves it; the database then holds the new version, an approval
bound to it and the audit events. A screenshot of the review page is kept in test-artifacts/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from pipeline import review
from pipeline.store.models import Approval, AuditEvent
from tests.dashboard.seed import PASSWORD, seed_client
from tests.helpers.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
STARTUP_SECONDS = 60
UI_TIMEOUT_MS = 30_000


def start_dashboard(port: int, home: Path) -> subprocess.Popen:
    streamlit = Path(sys.executable).with_name("streamlit")
    env = {**os.environ, "CASTMILL_HOME": str(home)}
    log = open(home / "streamlit.log", "wb")
    return subprocess.Popen(
        [str(streamlit), "run", "dashboard/app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_healthy(base_url: str, server: subprocess.Popen, home: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"streamlit exited: {(home / 'streamlit.log').read_text()[-2000:]}")
        try:
            if requests.get(f"{base_url}/_stcore/health", timeout=2).text == "ok":
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"streamlit did not answer within {STARTUP_SECONDS} s")


@contextmanager
def signed_in_page(url: str, email: str):
    """Chromium on ``url``, signed in as ``email`` through the form shown there; yields the page."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(UI_TIMEOUT_MS)
        expect.set_options(timeout=UI_TIMEOUT_MS)  # expect() has its own 5 s default; a busy machine needs more
        page.goto(url)
        page.get_by_role("textbox", name="Email").fill(email)
        page.get_by_role("textbox", name="Password").fill(PASSWORD)
        page.get_by_role("button", name=re.compile("Sign in")).click()
        yield page
        browser.close()


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@pytest.mark.slow
def test_a_client_edits_and_approves_a_draft_in_a_real_browser(fresh_db, castmill_home):
    from playwright.sync_api import expect

    # A one-stage client: its drafts wait for the client, and its own edit stays with the client.
    acme = seed_client(fresh_db, "acme", stages=1, timezone="America/New_York", platforms=("linkedin",),
                       highlights=0)
    draft_id = acme.draft_ids[0]
    new_text = "Our favourite moment of the week, in the client's own words. <b>Not bold</b>"

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = start_dashboard(port, castmill_home)
    try:
        wait_until_healthy(base_url, server, castmill_home)
        with signed_in_page(base_url, acme.user_email) as page:
            expect(page.get_by_role("heading", name="Review queue")).to_be_visible()

            box = page.get_by_label("Post", exact=True)
            expect(box).to_have_count(1)
            box.fill(new_text)
            box.press("Control+Enter")  # Streamlit takes a text area's value on Ctrl+Enter or blur
            expect(page.get_by_text("Unsaved changes.")).to_be_visible()
            page.get_by_role("button", name=re.compile("Save edit")).click()
            expect(page.get_by_text(f"Saved draft {draft_id} as version 2.")).to_be_visible()
            expect(page.get_by_label("Post", exact=True)).to_have_value(new_text)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "review-page.png"), full_page=True)

            page.get_by_role("button", name=re.compile("Approve$")).click()
            expect(page.get_by_text(f"Draft {draft_id} approved (version 2).")).to_be_visible()
            expect(page.get_by_text("Nothing waiting for you here.")).to_be_visible()
    finally:
        stop(server)

    with fresh_db.session() as session:
        version = review.latest_version(session, draft_id)
        assert (version.number, version.parts, version.author) == (2, [new_text], acme.user_email)
        approval = session.scalar(select(Approval).where(Approval.draft_id == draft_id))
        assert (approval.version_id, approval.version_hash, approval.actor) == (
            version.id, review.hash_of(version), acme.user_email)
        assert review.approved_version(session, draft_id).id == version.id
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.actor == acme.user_email)
                                       .order_by(AuditEvent.id)))
    assert actions == ["user.login", "draft.edit", "draft.approve"]
    assert (ARTIFACTS / "review-page.png").stat().st_size > 10_000


@pytest.mark.slow
def test_a_notices_link_opened_signed_out_opens_its_draft_after_sign_in(fresh_db, castmill_home):
    """The browser asks for /review by its path (not a page hash, as AppTest does): signed out, the sign-in
    form shows on that address, and the draft opens alone once signed in."""
    from playwright.sync_api import expect

    acme = seed_client(fresh_db, "acme", stages=1, platforms=("linkedin",), highlights=2)
    assert len(acme.draft_ids) > 1
    draft_id = acme.draft_ids[-1]
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = start_dashboard(port, castmill_home)
    try:
        wait_until_healthy(base_url, server, castmill_home)
        with signed_in_page(f"{base_url}/review?draft={draft_id}", acme.user_email) as page:
            expect(page.get_by_role("button", name=re.compile("Show the whole queue"))).to_be_visible()
            expect(page).to_have_url(re.compile(rf"\?draft={draft_id}$"))
            expect(page.get_by_label("Post", exact=True)).to_have_count(1)
    finally:
        stop(server)
