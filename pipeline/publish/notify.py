"""The VA team's channels ([notify]) and the one way Castmill sends a notice by email.

Posts that need attention (failed, missed, or unknown and not reconcilable) and the other notices to the
VA (an approval stalls, a client asks for changes) go through the notification outbox
(``pipeline.publish.notices``); for the team it hands them to a ``Notifier`` as one digest.

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

Each post is reported once: the outbox claims posts by setting ``notified_at`` (one guarded UPDATE, so two
scheduler processes do not both report one) in the same transaction that queues their notifications; a
digest no channel took is retried with back-off on later passes (``notices``).

``send_email`` is the SMTP transaction every notice by email goes through: anything that goes wrong
before the message's final "." is a ``NotifyError`` (nothing was sent: retry), a lost answer after it is
``NotifyUnknown`` (the server may have it: never resent).
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
from sqlalchemy.orm import Session

from pipeline.core.clock import as_utc
from pipeline.core.settings import NetworkSettings, NotifySettings, Settings
from pipeline.media.safe_fetch import RefusedURL, safe_session
from pipeline.core.errors import CastmillError
from pipeline.core.vocab import MISSED, POST_FAILED, POST_NOTICE_KINDS
from pipeline.store.models import Client, ScheduledPost
from pipeline.publish.attempts import RECONCILE_FAILED
from pipeline.publish.publishers.newsletter import wire_bytes
from pipeline.publish.smtp import SmtpServer, open_smtp

log = logging.getLogger("castmill.notify")

SMTP_PASSWORD_ENV = "CASTMILL_SMTP_PASSWORD"
WEBHOOK_URL_ENV = "CASTMILL_NOTIFY_WEBHOOK_URL"
NOTIFY_TIMEOUT = 10  # seconds for the webhook call and the SMTP connection


class NotifyError(CastmillError):
    """No channel accepted the notification (nothing was sent: it may be tried again)."""


class NotifyUnknown(NotifyError):
    """The message left, but its answer was lost: it may have been delivered, so it is never sent again."""


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
    link: str = ""  # the post in the dashboard's calendar

    @property
    def kind(self) -> str:
        return POST_NOTICE_KINDS.get(self.status, "post_failed")

    def line(self) -> str:
        return (f"post {self.post_id} ({self.client}, {self.platform}) due {self.due_local}: {self.status.upper()}"
                f" - {self.error}" + (f"\n  {self.link}" if self.link else ""))


@dataclass(frozen=True)
class DraftNotice:
    """A notice about a draft: its approval stalls, the client asked for changes, or it waits for the client."""

    kind: str  # vocab.APPROVAL_STALLED | CHANGES_REQUESTED_NOTICE | APPROVAL_REMINDER
    draft_id: int
    client: str  # slug
    platform: str
    summary: str  # one line in the product's words
    link: str = ""  # the draft in the dashboard

    def line(self) -> str:
        return f"draft {self.draft_id} ({self.client}, {self.platform}): {self.summary}" + (
            f"\n  {self.link}" if self.link else "")


@dataclass(frozen=True)
class ItemNotice:
    """A notice told in the words stored when it was queued: a post's first comment failed for good, a watched
    feed brought an episode."""

    kind: str  # vocab.COMMENT_FAILED_NOTICE | NEW_EPISODE_NOTICE
    item: str  # what it is about, as the outbox keys it: "post:<id>", "entry:<id>"
    client: str  # slug
    summary: str  # one line in the product's words
    link: str = ""  # the item in the dashboard
    post_id: int | None = None
    draft_id: int | None = None

    def line(self) -> str:
        return f"{self.client}: {self.summary}" + (f"\n  {self.link}" if self.link else "")


def _summary(notices: list) -> str:
    clients = sorted({n.client for n in notices})
    if all(isinstance(n, Notice) for n in notices):
        return f"Castmill: {len(notices)} post(s) need attention ({', '.join(clients)})"
    return f"Castmill: {len(notices)} notice(s) ({', '.join(clients)})"


def _as_dict(notice) -> dict:
    return asdict(notice) | {"kind": notice.kind}


# --- channels -------------------------------------------------------------------------------------

class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, http: requests.Session | None = None, network: NetworkSettings | None = None):
        self.url = url
        # The URL is user-supplied: safe_fetch's checks with the [network] settings (default: loaded).
        self.http = http or safe_session(network)

    def send(self, notices: list) -> None:
        posts = [n for n in notices if isinstance(n, Notice)]
        payload = {"source": "castmill", "event": "posts_need_attention" if len(posts) == len(notices) else "notices",
                   "text": "\n".join([_summary(notices)] + [n.line() for n in notices]),
                   "posts": [asdict(n) for n in posts], "items": [_as_dict(n) for n in notices]}
        post_json(self.http, self.url, payload, digest_key(notices))


def digest_key(notices: list) -> str:
    """The same for the same notices: a digest sent again after a lost answer carries the key it first had."""
    import hashlib

    names = sorted(f"{n.kind}:{_item_id(n)}" for n in notices)
    return hashlib.sha256("|".join(names).encode()).hexdigest()[:32]


def _item_id(notice) -> str:
    return str(getattr(notice, "post_id", None) or getattr(notice, "draft_id", None) or getattr(notice, "item", ""))


def post_json(http: requests.Session, url: str, payload: dict, key: str = "") -> None:
    """POST ``payload`` to a user-supplied webhook. ``key`` goes out as Idempotency-Key, so a receiver can drop a
    repeat. Not reached or refused: NotifyError; sent but no answer in time: NotifyUnknown."""
    headers = {"Idempotency-Key": key} if key else {}
    try:
        response = http.post(url, json=payload, headers=headers, timeout=NOTIFY_TIMEOUT)
    except RefusedURL as exc:  # only the host is named: a hook's path is its secret
        raise NotifyError(str(exc.seen_from(url, "notification webhook URL", redact=True))) from None
    except (requests.ConnectionError, requests.ConnectTimeout) as exc:
        raise NotifyError(f"webhook {_host(url)} unreachable: {type(exc).__name__}") from exc
    except requests.RequestException as exc:
        raise NotifyUnknown(f"webhook {_host(url)} gave no answer ({type(exc).__name__}); it may have the notice"
                            ) from exc
    if response.status_code >= 300:
        raise NotifyError(f"webhook {_host(url)} answered HTTP {response.status_code}")


class EmailChannel:
    name = "email"

    def __init__(self, settings: NotifySettings):
        self.settings = settings

    def message(self, notices: list) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = _summary(notices)
        message["From"] = self.settings.email_from
        message["To"] = ", ".join(self.settings.email_to)
        body = [_summary(notices), ""] + [n.line() for n in notices]
        if any(isinstance(n, Notice) for n in notices):
            body += ["", "Open the dashboard's calendar to retry, reschedule or cancel these posts."]
        message.set_content("\n".join(body))
        return message

    def send(self, notices: list) -> None:
        send_email(self.settings, self.message(notices), list(self.settings.email_to))


def send_email(settings: NotifySettings, message: EmailMessage, recipients: list[str]) -> None:
    """One SMTP transaction through the [notify] server. NotifyError when nothing was sent (retry it);
    NotifyUnknown when the message went out and the server's answer was lost (never send it again)."""
    s = settings
    where = f"{s.smtp_host}:{s.smtp_port}"
    server = SmtpServer(s.smtp_host, s.smtp_port, implicit_tls=s.smtp_ssl, starttls=s.smtp_starttls and not s.smtp_ssl)
    try:
        smtp = open_smtp(server, username=s.smtp_username, password=s.smtp_password, timeout=NOTIFY_TIMEOUT)
    except (smtplib.SMTPException, OSError) as exc:
        # smtplib's messages carry the server's reply, never our password.
        raise NotifyError(f"email via {where} failed: {_reason(exc)}") from exc
    try:
        _transaction(smtp, where, s.email_from, recipients, message)
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _transaction(smtp: smtplib.SMTP, where: str, sender: str, recipients: list[str], message: EmailMessage) -> None:
    try:
        _expect(smtp.mail(sender), (250,), where, f"the sender {sender}")
        for recipient in recipients:
            _expect(smtp.rcpt(recipient), (250, 251), where, f"the recipient {recipient}")
        _expect(smtp.docmd("DATA"), (354,), where, "DATA")
        smtp.send(wire_bytes(message))  # a server delivers only after the final ".": if this fails, it never left
    except (smtplib.SMTPException, OSError) as exc:
        raise NotifyError(f"email via {where} failed before the message was sent: {_reason(exc)}") from exc
    try:
        reply = smtp.getreply()
    except (smtplib.SMTPException, OSError) as exc:
        raise NotifyUnknown(f"email via {where}: the server took the message but gave no answer ({_reason(exc)}); "
                            "it may have been delivered") from exc
    _expect(reply, (250,), where, "the message")


def _expect(reply: tuple[int, bytes], codes: tuple[int, ...], where: str, what: str) -> None:
    code, text = reply
    if code not in codes:
        said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        raise NotifyError(f"email via {where}: the server refused {what}: {code} {' '.join(said.split())}")


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}" if str(exc) else type(exc).__name__


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

    def send(self, notices: list) -> list[str]:
        """Names of the channels that took it; raises NotifyError when none did (NotifyUnknown when one of them
        may have)."""
        delivered, problems, unsure = [], [], False
        for channel in self.channels:
            try:
                channel.send(notices)
                delivered.append(channel.name)
            except NotifyError as exc:
                problems.append(str(exc))
                unsure = unsure or isinstance(exc, NotifyUnknown)
                log.warning("notification not sent: %s", exc)
        if self.channels and not delivered:
            raise (NotifyUnknown if unsure else NotifyError)("; ".join(problems))
        return delivered


# --- which posts, once each -------------------------------------------------------------------------

def _needs_attention():
    return and_(ScheduledPost.notified_at.is_(None),
                or_(ScheduledPost.status.in_((POST_FAILED, MISSED)),
                    and_(ScheduledPost.status == "unknown", ScheduledPost.error.startswith(RECONCILE_FAILED))))


def claim_posts_to_report(session: Session, *, now: datetime, limit: int = 200) -> list[int]:
    """Mark posts that need attention and were not reported yet as reported (``notified_at``); their ids.
    One guarded UPDATE: of two schedulers, one gets each post. The caller queues the notices in the same
    transaction, so a claim never outlives a crash without them."""
    pending = select(ScheduledPost.id).where(_needs_attention()).order_by(ScheduledPost.due_at).limit(limit)
    return sorted(row.id for row in session.execute(
        update(ScheduledPost).where(ScheduledPost.id.in_(pending), ScheduledPost.notified_at.is_(None))
        .values(notified_at=as_utc(now)).returning(ScheduledPost.id),
        execution_options={"synchronize_session": False}))


def post_notices(session: Session, post_ids: list[int], links: dict[int, str] | None = None) -> list[Notice]:
    """The posts as they are now, due order; ``links``: post id -> the post in the dashboard."""
    rows = session.execute(select(ScheduledPost, Client.slug, Client.timezone)
                           .join(Client, Client.id == ScheduledPost.client_id)
                           .where(ScheduledPost.id.in_(post_ids)).order_by(ScheduledPost.due_at)).all()
    return [_notice(post, slug, tz, (links or {}).get(post.id, "")) for post, slug, tz in rows]


def _notice(post: ScheduledPost, slug: str, client_tz: str, link: str) -> Notice:
    due = as_utc(post.due_at)
    zone_name = post.timezone or client_tz or "UTC"
    local = due.astimezone(ZoneInfo(zone_name))
    return Notice(post_id=post.id, client=slug, platform=post.platform, status=post.status,
                  due_at=due.isoformat(), due_local=f"{local:%Y-%m-%d %H:%M} {zone_name}",
                  error=post.error or "", draft_id=post.draft_id, link=link)


def _host(url: str) -> str:
    return requests.utils.urlparse(url).netloc or "?"
