"""The dashboard as clients reach it on a server: Streamlit on a local port with the settings' command line,
Debian's Caddy in front of it over HTTPS with the site `castmill deploy` writes (`tls internal`), and
Debian's chromium, driven by Playwright, trusting Caddy's CA through a throwaway NSS database.
Certificate errors are not ignored anywhere.

A review link opens the client's queue through Caddy; the client signs in with a password and approves a
draft, and the database holds the approval. A page of another site can neither open the dashboard's
websocket nor upload without the XSRF token. A screenshot is kept in test-artifacts/.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from pipeline.access import auth
from pipeline.core.settings import load_settings
from pipeline.serve.dashboard import streamlit_command, streamlit_env
from pipeline.serve.deploy import Install, Site, render_files
from pipeline.store.models import Approval
from tests.dashboard.seed import PASSWORD, seed_client
from tests.dashboard.test_browser import CHROMIUM, stop
from tests.helpers.caddy import CaddyServer
from tests.helpers.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
STARTUP_SECONDS = 60
UI_TIMEOUT_MS = 30_000
FOREIGN_ORIGIN = "https://evil.example"


def write_server_settings(home: Path, public_url: str, dashboard_port: int) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "castmill.toml").write_text(f'[server]\npublic_url = "{public_url}"\ndashboard_port = {dashboard_port}\n')


def start_dashboard(settings) -> subprocess.Popen:
    """Streamlit exactly as `castmill dashboard` starts it, from the home's settings."""
    with open(settings.home / "streamlit.log", "wb") as log:
        return subprocess.Popen(streamlit_command(settings), cwd=ROOT, env=streamlit_env(settings, dict(os.environ)),
                                stdout=log, stderr=subprocess.STDOUT)


def start_caddy(settings, https_port: int, folder: Path) -> CaddyServer:
    site = Site("localhost", local_tls=True, https_port=https_port, bind="127.0.0.1", admin="off")
    folder.mkdir()
    caddyfile = folder / "Caddyfile"
    caddyfile.write_text(render_files(settings, site, Install(home=settings.home))["Caddyfile"])
    return CaddyServer(caddyfile, folder).start()


def wait_for_health(url: str, root_crt: Path, processes: dict[str, subprocess.Popen], logs: list[Path]) -> None:
    """Until the dashboard answers through Caddy, with Caddy's certificate checked against its root."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited: " + " | ".join(log.read_text()[-1500:] for log in logs))
        try:
            if requests.get(f"{url}/_stcore/health", verify=str(root_crt), timeout=2).text == "ok":
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"no answer through Caddy within {STARTUP_SECONDS} s: "
                         + " | ".join(log.read_text()[-1500:] for log in logs))


def trusting_home(folder: Path, root_crt: Path) -> Path:
    """A HOME whose NSS database (what chromium trusts on Linux) holds Caddy's root and nothing else."""
    nssdb = folder / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    certutil = ["certutil", "-d", f"sql:{nssdb}"]
    subprocess.run([*certutil, "-N", "--empty-password"], check=True, capture_output=True)
    subprocess.run([*certutil, "-A", "-t", "C,,", "-n", "castmill-test", "-i", str(root_crt)], check=True,
                   capture_output=True)
    return folder


def websocket_handshake(port: int, origin: str, root_crt: Path) -> tuple[int, bytes]:
    """Status and raw answer to a browser's websocket upgrade of Streamlit's stream, sent from ``origin``."""
    request = (f"GET /_stcore/stream HTTP/1.1\r\nHost: localhost:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n")
    context = ssl.create_default_context(cafile=str(root_crt))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(request.encode())
            head, body = read_answer(tls)
    return int(head.split(b" ", 2)[1]), body


def read_answer(tls: ssl.SSLSocket) -> tuple[bytes, bytes]:
    """An HTTP answer's head and its Content-Length body (none for a 101)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += tls.recv(4096)
    head, body = data.split(b"\r\n\r\n", 1)
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    while length and len(body) < int(length.group(1)):
        body += tls.recv(4096)
    return head, body


def cross_site_upload(url: str, root_crt: Path, *, cookie: str, header: str | None) -> requests.Response:
    """An upload to Streamlit as a page of another site would send it: the browser adds the XSRF cookie,
    but a foreign page cannot read it to put it in the X-Xsrftoken header."""
    headers = {"Origin": FOREIGN_ORIGIN, "Cookie": f"_streamlit_xsrf={cookie}"}
    if header is not None:
        headers["X-Xsrftoken"] = header
    return requests.put(f"{url}/_stcore/upload_file/no-session/no-file", headers=headers, verify=str(root_crt),
                        files={"file": ("a.txt", b"not for you")}, timeout=10)


def check_https_and_headers(url: str, root_crt: Path) -> None:
    answer = requests.get(f"{url}/_stcore/health", verify=str(root_crt), timeout=5)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "Server" not in answer.headers and "Strict-Transport-Security" not in answer.headers  # local CA: no HSTS
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, verify=True, timeout=5)  # the system's CAs do not know Caddy's


def check_cross_site_refusals(url: str, https_port: int, root_crt: Path) -> None:
    assert websocket_handshake(https_port, url, root_crt) == (101, b"")
    # Caddy's own refusal: Streamlit never sees it.
    assert websocket_handshake(https_port, FOREIGN_ORIGIN, root_crt) == (403, b"cross-site websocket refused")

    token = requests.get(f"{url}/_stcore/health", verify=str(root_crt), timeout=5).cookies["_streamlit_xsrf"]
    refused = cross_site_upload(url, root_crt, cookie=token, header=None)
    assert (refused.status_code, "XSRF" in refused.text) == (403, True)  # refused by Streamlit
    # The same request with the token passes the XSRF check and fails only on the made-up session.
    assert cross_site_upload(url, root_crt, cookie=token, header=token).status_code == 400


def new_page(browser):
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)  # expect() has its own 5 s default; a busy machine needs more
    return page


def launch(playwright, home: Path):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, env={**os.environ, "HOME": str(home)})


def check_untrusting_browser_refuses(playwright, url: str, home: Path) -> None:
    """The same chromium without Caddy's root: the certificate is refused, so nothing is being ignored."""
    from playwright.sync_api import Error as PlaywrightError

    home.mkdir()
    browser = launch(playwright, home)
    with pytest.raises(PlaywrightError, match="ERR_CERT_AUTHORITY_INVALID"):
        new_page(browser).goto(url)
    browser.close()


def open_review_link(browser, review_link: str) -> None:
    from playwright.sync_api import expect

    page = new_page(browser)
    page.goto(review_link)
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    expect(page.get_by_label("Post", exact=True)).to_have_count(1)


def sign_in_and_approve(browser, url: str, email: str, draft_id: int) -> None:
    from playwright.sync_api import expect

    page = new_page(browser)
    page.goto(url)
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in")).click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    expect(page.get_by_label("Post", exact=True)).to_have_count(1)
    assert page.url.startswith(f"{url}/")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-page-through-caddy.png"), full_page=True)
    page.get_by_role("button", name=re.compile("Approve$")).click()
    expect(page.get_by_text(f"Draft {draft_id} approved (version 1).")).to_be_visible()


@pytest.mark.slow
def test_a_client_signs_in_and_approves_through_caddy_over_https(fresh_db, castmill_home, tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.delenv("CASTMILL_PUBLIC_URL", raising=False)
    acme = seed_client(fresh_db, "acme", stages=1, platforms=("linkedin",), highlights=0)
    draft_id = acme.draft_ids[0]
    https_port, dashboard_port = free_port(), free_port()
    url = f"https://localhost:{https_port}"
    write_server_settings(castmill_home, url, dashboard_port)
    settings = load_settings(castmill_home)
    with fresh_db.session() as session:
        review_link = auth.review_link_url(settings.server.public_url,
                                           auth.make_review_link_token(session, "acme", home=settings.home))

    dashboard = start_dashboard(settings)
    caddy = None
    try:
        caddy = start_caddy(settings, https_port, tmp_path / "caddy")
        root_crt = caddy.root_certificate
        wait_for_health(url, root_crt, {"streamlit": dashboard, "caddy": caddy.process},
                        [settings.home / "streamlit.log", caddy.log])
        check_https_and_headers(url, root_crt)
        check_cross_site_refusals(url, https_port, root_crt)
        with sync_playwright() as playwright:
            check_untrusting_browser_refuses(playwright, url, tmp_path / "untrusting-home")
            browser = launch(playwright, trusting_home(tmp_path / "browser-home", root_crt))
            open_review_link(browser, review_link)
            sign_in_and_approve(browser, url, acme.user_email, draft_id)
            browser.close()
    finally:
        if caddy is not None:
            caddy.stop()
        stop(dashboard)

    with fresh_db.session() as session:
        approval = session.scalar(select(Approval).where(Approval.draft_id == draft_id))
        assert approval is not None and approval.actor == acme.user_email
    assert (ARTIFACTS / "review-page-through-caddy.png").stat().st_size > 10_000
