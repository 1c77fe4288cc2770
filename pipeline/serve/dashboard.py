"""The dashboard's Streamlit command line, the same for `make dashboard`, `castmill serve`, the systemd unit
and the tests: where it listens, the public address it answers for, its cookie secret and upload limit."""

from __future__ import annotations

import hashlib
import hmac
import sys
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.access.auth import secret_key
from pipeline.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
# Streamlit reads its cookie secret from here; on the command line it would show in `ps`.
COOKIE_SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"


def public_origin(public_url: str) -> tuple[str, str, int, str]:
    """(origin, host, port, path) of the address clients open, e.g. https://review.example.com/castmill."""
    parts = urlsplit(public_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    default_port = port == (443 if parts.scheme == "https" else 80)
    origin = f"{parts.scheme}://{parts.hostname}" + ("" if default_port else f":{port}")
    return origin, parts.hostname or "", port, parts.path.strip("/")


def public_url_of(settings: Settings, *, port: int | None = None, address: str | None = None) -> str:
    """Where clients open the dashboard: ``[server] public_url`` when it is set (or CASTMILL_PUBLIC_URL);
    otherwise the address it listens on, so a laptop's `make dashboard` on another port shows that port."""
    server = settings.server
    if "public_url" in server.model_fields_set:
        return server.public_url
    host = address or server.dashboard_address
    if host in ("0.0.0.0", "::", ""):  # every interface: this machine's own browser reaches it here
        host = "127.0.0.1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port or server.dashboard_port}"


def cookie_secret(home: Path) -> str:
    """Streamlit's cookie key, derived from the home's secret key: stable across restarts (an open tab's
    XSRF cookie stays valid) and the same for every dashboard of one home, never written anywhere."""
    return hmac.new(secret_key(home).encode(), b"castmill streamlit cookie secret", hashlib.sha256).hexdigest()


def streamlit_command(settings: Settings, *, python: str | None = None, port: int | None = None,
                      address: str | None = None) -> list[str]:
    """`python -m streamlit run dashboard/app.py` with the flags a dashboard behind a proxy needs."""
    server = settings.server
    origin, host, public_port, path = public_origin(public_url_of(settings, port=port, address=address))
    return [
        python or sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.address", address or server.dashboard_address,
        "--server.port", str(port or server.dashboard_port),
        "--server.baseUrlPath", path,
        # Same-origin checks against the address the browser shows, not the one Streamlit listens on.
        "--server.enableCORS", "true",
        "--server.corsAllowedOrigins", origin,
        "--server.enableXsrfProtection", "true",
        "--browser.serverAddress", host,
        "--browser.serverPort", str(public_port),
        "--server.maxUploadSize", str(server.max_upload_mb),
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]


def streamlit_env(settings: Settings, base: dict[str, str]) -> dict[str, str]:
    """The environment for the dashboard process: ``base`` plus the home and the cookie secret."""
    return {**base, "CASTMILL_HOME": str(settings.home), COOKIE_SECRET_ENV: cookie_secret(settings.home)}
