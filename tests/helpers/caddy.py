"""Debian's Caddy for tests, kept inside a temporary folder: its config, its data (the local CA) and its
home live there, so it never touches the system's Caddy, its trust store or its ports.

Usage::

    from tests.helpers.caddy import CaddyServer, caddy

    caddy("validate", "--adapter", "caddyfile", "--config", str(caddyfile), folder=tmp_path)

    with CaddyServer(caddyfile, tmp_path) as server:
        requests.get(url, verify=str(server.root_certificate))
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.helpers.processes import stop_process

CADDY = "/usr/bin/caddy"
STARTUP_SECONDS = 20


def caddy_env(folder: Path) -> dict[str, str]:
    """Caddy's environment with every place it writes under ``folder``."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(folder), "XDG_DATA_HOME": str(folder / "data"),
            "XDG_CONFIG_HOME": str(folder / "config")}


def caddy(*args: str, folder: Path) -> subprocess.CompletedProcess:
    """Run ``caddy ARGS`` to completion; output as text."""
    return subprocess.run([CADDY, *args], env=caddy_env(folder), capture_output=True, text=True, timeout=60)


def root_certificate(folder: Path) -> Path:
    """The root of the CA that ``tls internal`` signs with."""
    return folder / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"


class CaddyServer:
    """``caddy run`` with a Caddyfile, started once its local CA exists (wait for its site to answer apart)."""

    def __init__(self, caddyfile: Path, folder: Path):
        self.caddyfile = caddyfile
        self.folder = folder
        self.log = folder / "caddy.log"
        self.process: subprocess.Popen | None = None

    @property
    def root_certificate(self) -> Path:
        return root_certificate(self.folder)

    def start(self) -> "CaddyServer":
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [CADDY, "run", "--adapter", "caddyfile", "--config", str(self.caddyfile)],
                env=caddy_env(self.folder), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.root_certificate.is_file():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"caddy did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        stop_process(self.process)

    def __enter__(self) -> "CaddyServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
