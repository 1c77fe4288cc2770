"""The "new episode" notice: the VA hears of each episode a watched feed brought in, once.

It goes through the ``[notify]`` channels (the webhook and the email of ``pipeline.publish.notify``, with
their settings and SMTP routine). With no channel configured it is logged, and the caller records "log".
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import asdict, dataclass
from email.message import EmailMessage

import requests

from pipeline.core.settings import NotifySettings, Settings
from pipeline.media.safe_fetch import RefusedURL, fetch, safe_session
from pipeline.publish.notify import NOTIFY_TIMEOUT, NotifyError, load_notify_settings
from pipeline.publish.smtp import SmtpServer, open_smtp

log = logging.getLogger("castmill.feeds")

LOGGED = "log"  # how a notice was "sent" when no channel is configured


@dataclass(frozen=True)
class EpisodeNotice:
    client: str  # slug
    title: str
    status: str  # processed | queued | failed
    episode_id: int | None  # None while it waits in the queue, or when its download failed
    feed_id: int
    feed_title: str
    published: str | None  # ISO 8601 UTC, as the feed dates it
    error: str = ""

    def line(self) -> str:
        outcome = {"processed": f"ready as episode {self.episode_id}, drafts waiting for review",
                   "queued": "queued for processing"}.get(self.status, f"processing failed: {self.error}")
        return f"Castmill: new episode for {self.client}: {self.title!r} from feed {self.feed_id} - {outcome}"


def tell_new_episode(settings: Settings, notice: EpisodeNotice) -> str:
    """Send ``notice`` to every configured channel; returns how it went out: "webhook", "email",
    "webhook,email", "log" (no channel configured) or "" (every channel refused it; logged as a warning)."""
    notify = load_notify_settings(settings)
    if not notify.enabled:
        log.info("%s", notice.line())
        return LOGGED
    sent = []
    for name, send in (("webhook", _post_webhook), ("email", _send_email)):
        try:
            if send(notify, settings, notice):
                sent.append(name)
        except NotifyError as exc:
            log.warning("new-episode notice not sent: %s", exc)
    return ",".join(sent)


def _post_webhook(notify: NotifySettings, settings: Settings, notice: EpisodeNotice) -> bool:
    if not notify.webhook_url:
        return False
    payload = {"source": "castmill", "event": "new_episode", "text": notice.line(), "episode": asdict(notice)}
    try:
        with safe_session(settings.network) as session:
            response = fetch(session, notify.webhook_url, what="notification webhook URL", method="POST",
                             json=payload, timeout=NOTIFY_TIMEOUT)
    except RefusedURL as exc:  # only the host is named: a hook's path is its secret
        raise NotifyError(str(exc.seen_from(notify.webhook_url, "notification webhook URL", redact=True))) from None
    except requests.RequestException as exc:
        raise NotifyError(f"webhook unreachable: {type(exc).__name__}") from exc
    if response.status_code >= 300:
        raise NotifyError(f"webhook answered HTTP {response.status_code}")
    return True


def _send_email(notify: NotifySettings, _settings: Settings, notice: EpisodeNotice) -> bool:
    if not (notify.email_to and notify.smtp_host):
        return False
    message = EmailMessage()
    message["Subject"] = f"Castmill: new episode for {notice.client}: {notice.title}"
    message["From"] = notify.email_from
    message["To"] = ", ".join(notify.email_to)
    message.set_content(notice.line() + "\n\nOpen the dashboard's Episodes page to review it.\n")
    server = SmtpServer(notify.smtp_host, notify.smtp_port, implicit_tls=notify.smtp_ssl,
                        starttls=notify.smtp_starttls and not notify.smtp_ssl)
    try:
        with open_smtp(server, username=notify.smtp_username, password=notify.smtp_password,
                       timeout=NOTIFY_TIMEOUT) as smtp:
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise NotifyError(f"email via {notify.smtp_host}:{notify.smtp_port} failed: {type(exc).__name__}") from exc
    return True
