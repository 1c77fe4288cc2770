"""Telling people about posts that need attention: failed, missed, or unknown and not reconcilable.

Channels: a webhook (JSON POST, Slack/Zapier/Make style: a ``text`` summary plus the posts) and/or
email through an SMTP server. Configure them in ``$CASTMILL_HOME/castmill.toml``::

    [notify]
    webhook_url = "https://hooks.example.com/castmill"
    email_to = ["va@example.com"]
    email_from = "castmill@example.com"
    smtp_host = "smtp.example.com"
    smtp_port = 587
    smtp_starttls = true
    smtp_username = "castmill"      # the password only from CASTMILL_SMTP_PASSWORD

Each post is reported once: ``notify_pending`` claims posts by setting ``notified_at`` (one guarded
UPDATE, so two scheduler processes do not both send), sends one digest, and clears the claim again
when no channel took it, so the next tick retries.
"""

from __future__ import annotations

import logging
import os
import smtplib
from dataclasses import asdict, dataclass
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import requests

from sqlalchemy import and_, or_, select, update

from pipeline.core.clock import as_utc
from pipeline.core.settings import NetworkSettings, NotifySettings, Settings
from pipeline.media.safe_fetch import RefusedURL, safe_session
from pipeline.core.errors import CastmillError
from pipeline.core.vocab import MISSED, POST_FAILED
from pipeline.store.models import Client, ScheduledPost
from pipeline.publish.attempts import RECONCILE_FAILED, SessionFactory
from pipeline.publish.smtp import SmtpServer, open_smtp

log = logging.getLogger("castmill.notify")

SMTP_PASSWORD_ENV = "CASTMILL_SMTP_PASSWORD"
WEBHOOK_URL_ENV = "CASTMILL_NOTIFY_WEBHOOK_URL"
NOTIFY_TIMEOUT = 10  # seconds for the webhook call and the SMTP connection


class NotifyError(CastmillError):
    """No channel accepted the notification."""


def load_notify_settings(settings: Settings) -> NotifySettings:
    """The ``[notify]`` settings plus the environment's webhook URL and SMTP password."""
    data = settings.notify.model_dump()
    if url := os.environ.get(WEBHOOK_URL_ENV):
        data["webhook_url"] = url
    if password := os.environ.get(SMTP_PASSWORD_ENV):
        data["smtp_password"] = password
    return NotifySettings(**data)


@dataclass(frozen=True)
class Notice:
    post_id: int
    client: str  # slug
    platform: str
    status: str  # failed | missed | unknown
    due_at: str  # ISO 8601 UTC
    due_local: str  # "2026-12-01 09:00 America/New_York"
    error: str
    draft_id: int

    def line(self) -> str:
        return (f"post {self.post_id} ({self.client}, {self.platform}) due {self.due_local}: {self.status.upper()}"
                f" - {self.error}")


def _summary(notices: list[Notice]) -> str:
    clients = sorted({n.client for n in notices})
    return f"Castmill: {len(notices)} post(s) need attention ({', '.join(clients)})"


# --- channels -------------------------------------------------------------------------------------

class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, http: requests.Session | None = None, network: NetworkSettings | None = None):
        self.url = url
        # The URL is user-supplied: safe_fetch's checks with the [network] settings (default: loaded).
        self.http = http or safe_session(network)

    def send(self, notices: list[Notice]) -> None:
        payload = {"source": "castmill", "event": "posts_need_attention",
                   "text": "\n".join([_summary(notices)] + [n.line() for n in notices]),
                   "posts": [asdict(n) for n in notices]}
        try:
            response = self.http.post(self.url, json=payload, timeout=NOTIFY_TIMEOUT)
        except RefusedURL as exc:  # only the host is named: a hook's path is its secret
            raise NotifyError(str(exc.seen_from(self.url, "notification webhook URL", redact=True))) from None
        except requests.RequestException as exc:
            raise NotifyError(f"webhook {_host(self.url)} unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 300:
            raise NotifyError(f"webhook {_host(self.url)} answered HTTP {response.status_code}")


class EmailChannel:
    name = "email"

    def __init__(self, settings: NotifySettings):
        self.settings = settings

    def message(self, notices: list[Notice]) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = _summary(notices)
        message["From"] = self.settings.email_from
        message["To"] = ", ".join(self.settings.email_to)
        body = [_summary(notices), ""] + [n.line() for n in notices]
        body += ["", "Open the dashboard's calendar to retry, reschedule or cancel these posts."]
        message.set_content("\n".join(body))
        return message

    def send(self, notices: list[Notice]) -> None:
        s = self.settings
        server = SmtpServer(s.smtp_host, s.smtp_port, implicit_tls=s.smtp_ssl, starttls=s.smtp_starttls and not s.smtp_ssl)
        try:
            with open_smtp(server, username=s.smtp_username, password=s.smtp_password, timeout=NOTIFY_TIMEOUT) as smtp:
                smtp.send_message(self.message(notices))
        except (smtplib.SMTPException, OSError) as exc:
            # smtplib's messages carry the server's reply, never our password.
            raise NotifyError(f"email via {s.smtp_host}:{s.smtp_port} failed: {type(exc).__name__}: "
                              f"{str(exc)[:200]}") from exc


class Notifier:
    """Sends a digest to every configured channel; delivered when at least one channel took it."""

    def __init__(self, channels: list):
        self.channels = channels

    @classmethod
    def from_settings(cls, settings: NotifySettings, http: requests.Session | None = None,
                      network: NetworkSettings | None = None) -> "Notifier":
        """``network``: the ``[network]`` settings the webhook is checked with (default: loaded)."""
        channels: list = []
        if settings.webhook_url:
            channels.append(WebhookChannel(settings.webhook_url, http, network))
        if settings.email_to and settings.smtp_host:
            channels.append(EmailChannel(settings))
        return cls(channels)

    def send(self, notices: list[Notice]) -> list[str]:
        """Names of the channels that took it; raises NotifyError when none did."""
        delivered, problems = [], []
        for channel in self.channels:
            try:
                channel.send(notices)
                delivered.append(channel.name)
            except NotifyError as exc:
                problems.append(str(exc))
                log.warning("notification not sent: %s", exc)
        if self.channels and not delivered:
            raise NotifyError("; ".join(problems))
        return delivered


# --- which posts, once each -------------------------------------------------------------------------

def _needs_attention():
    return and_(ScheduledPost.notified_at.is_(None),
                or_(ScheduledPost.status.in_((POST_FAILED, MISSED)),
                    and_(ScheduledPost.status == "unknown", ScheduledPost.error.startswith(RECONCILE_FAILED))))


def notify_pending(session_factory: SessionFactory, notifier: Notifier, *, now: datetime, limit: int = 200) -> int:
    """Report posts that need attention and were not reported yet; returns how many were reported."""
    if not notifier.channels:
        return 0
    now = as_utc(now)
    with session_factory() as session:
        pending = select(ScheduledPost.id).where(_needs_attention()).order_by(ScheduledPost.due_at).limit(limit)
        claimed = [row.id for row in session.execute(
            update(ScheduledPost).where(ScheduledPost.id.in_(pending), ScheduledPost.notified_at.is_(None))
            .values(notified_at=now).returning(ScheduledPost.id),
            execution_options={"synchronize_session": False})]
    if not claimed:
        return 0
    notices = _notices(session_factory, claimed)
    try:
        notifier.send(notices)
    except NotifyError:
        with session_factory() as session:  # nobody was told: let the next tick try again
            session.execute(update(ScheduledPost).where(ScheduledPost.id.in_(claimed),
                                                        ScheduledPost.notified_at == now)
                            .values(notified_at=None), execution_options={"synchronize_session": False})
        return 0
    log.info("notified about %d post(s): %s", len(notices), ", ".join(str(n.post_id) for n in notices))
    return len(notices)


def _notices(session_factory: SessionFactory, post_ids: list[int]) -> list[Notice]:
    with session_factory() as session:
        rows = session.execute(select(ScheduledPost, Client.slug, Client.timezone)
                               .join(Client, Client.id == ScheduledPost.client_id)
                               .where(ScheduledPost.id.in_(post_ids)).order_by(ScheduledPost.due_at)).all()
        return [_notice(post, slug, tz) for post, slug, tz in rows]


def _notice(post: ScheduledPost, slug: str, client_tz: str) -> Notice:
    due = as_utc(post.due_at)
    zone_name = post.timezone or client_tz or "UTC"
    local = due.astimezone(ZoneInfo(zone_name))
    return Notice(post_id=post.id, client=slug, platform=post.platform, status=post.status,
                  due_at=due.isoformat(), due_local=f"{local:%Y-%m-%d %H:%M} {zone_name}",
                  error=post.error or "", draft_id=post.draft_id)


def _host(url: str) -> str:
    return requests.utils.urlparse(url).netloc or "?"
