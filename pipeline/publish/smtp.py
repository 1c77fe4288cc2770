"""One SMTP connection routine for everything Castmill sends by email: notices and newsletters.

``open_smtp`` greets the server, switches to TLS (``smtps://`` from the first byte, or STARTTLS) and
signs in; smtplib's errors carry the server's replies, never the password.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from urllib.parse import urlparse

from pipeline.core.errors import CastmillError

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool  # smtps://: TLS from the first byte
    starttls: bool

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class SmtpAddressError(CastmillError):
    """An SMTP address that is not smtp://host:port or smtps://host:port."""


def smtp_server(base_url: str, starttls: str = "") -> SmtpServer:
    """The server an account's ``base_url`` (``smtp://host:port`` or ``smtps://host:port``) names."""
    parsed = urlparse(base_url)
    if parsed.scheme not in DEFAULT_PORTS or not parsed.hostname:
        raise SmtpAddressError(f"the SMTP address {base_url!r} is not smtp://host:port or smtps://host:port")
    implicit_tls = parsed.scheme == "smtps"
    wants_starttls = not implicit_tls and (starttls or "true").strip().lower() not in ("false", "0", "no", "off")
    return SmtpServer(parsed.hostname, parsed.port or DEFAULT_PORTS[parsed.scheme], implicit_tls, wants_starttls)


def open_smtp(server: SmtpServer, *, username: str = "", password: str = "", timeout: float) -> smtplib.SMTP:
    """A connection that has greeted the server, switched to TLS where asked and signed in.
    Raises smtplib's errors (which carry the server's replies, never the password) and OSError."""
    context = ssl.create_default_context()
    if server.implicit_tls:
        smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
    try:
        smtp.ehlo()
        if server.starttls:
            smtp.starttls(context=context)
            smtp.ehlo()
        if username:
            smtp.login(username, password)
    except BaseException:
        smtp.close()
        raise
    return smtp


