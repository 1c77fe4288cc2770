"""The notification outbox: reminders to clients whose approval drafts wait for, and notices to the VA (an
approval stalls, a client asks for changes, a post failed, was missed or stays unknown, a post's first comment
failed for good, a watched feed brought a new episode). One outbox for all.

One pass (``NoticeService.run``, from every scheduler tick):

1. **queue**: each thing to tell becomes one ``Notification`` row per recipient, inserted with ON CONFLICT
   DO NOTHING on (kind, recipient, item, period_key). Two scheduler processes queueing the same reminder
   therefore make one row: one reminder per draft per period, whatever runs. The feed watch queues its
   new-episode notices itself (``queue_new_episode``, in the transaction that settles the feed entry), keyed
   by the entry, so an episode is announced once whoever polls its feed.
2. **send**: due rows are claimed by one guarded UPDATE (pending or failed-and-due -> sending, with a lease)
   and grouped by recipient: one message per recipient and pass. A digest user's rows all come due at
   their digest hour, so they arrive as one mail.

Who waits for the client (``review.queries.awaiting_client``): a draft in ``client_review``, or a one-stage
client's draft in ``draft``, since its latest version was made or the VA approved it. Its reminder is due
``after_hours`` later or, when it is on the calendar (a ``scheduled`` post of the draft), ``before_slot_hours``
before the slot if that comes first; then once per ``every_hours`` (the period) while it keeps waiting. A
new version starts the count again. After ``stall_after_hours`` the VA hears that the approval stalls.

Never sent twice: a row is marked ``sent`` only after the SMTP server accepted the message (or the webhook
answered 2xx). Anything that fails before the message leaves is ``failed`` with its reason and tried again
with back-off (``backoff_seconds`` doubling, ``max_attempts`` in all). Just before a message leaves, its rows
get ``handed_at``; a sender that dies after that point (the server may have accepted, we never heard) leaves
rows whose lease runs out, and they become ``unknown``, never sent again: at most once, and the VA sees them
in ``castmill notices list``. Rows whose sender died before ``handed_at`` are simply sent again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from itertools import groupby
from pathlib import Path

import requests
from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pipeline.access.auth import make_review_link_token, review_link_url
from pipeline.access.identity import Identity
from pipeline.access.permissions import require_staff
from pipeline.core.clock import as_utc, to_local, to_utc
from pipeline.core.settings import NetworkSettings, NotifySettings, Settings
from pipeline.core.vocab import (APPROVAL_REMINDER, APPROVAL_STALLED, CHANGES_REQUESTED_NOTICE, CLIENT,
                                 COMMENT_FAILED_NOTICE, NEW_EPISODE_NOTICE, NOTICE_FAILED, NOTICE_PENDING,
                                 NOTICE_SENDING, NOTICE_SENT, NOTICE_SKIPPED, NOTICE_UNKNOWN, NOTIFY_DAILY,
                                 NOTIFY_EMAIL, NOTIFY_WEBHOOK, POST_NOTICE_KINDS, SCHEDULED, STAFF_ROLES)
from pipeline.media.safe_fetch import safe_session
from pipeline.platforms import UnknownPlatform, get_platform
from pipeline.publish.attempts import SessionFactory, retry_when_locked
from pipeline.publish.comments import FailedComment, claim_comments_to_report
from pipeline.publish.notify import (DraftNotice, EmailChannel, ItemNotice, Notice, Notifier, NotifyError,
                                     NotifyUnknown, claim_posts_to_report, digest_key, load_notify_settings, post_json,
                                     post_notices, send_email)
from pipeline.publish.options import NoticeOptions, default_worker_id
from pipeline.publish.preferences import effective, preferences_by_user
from pipeline.review.queries import AwaitingClient, SentBack, awaiting_client, sent_back_by_client
from pipeline.store.models import Client, Draft, Notification, ScheduledPost, User

log = logging.getLogger("castmill.notices")

TEAM = "team"  # the recipient that is [notify]'s email_to and webhook_url
DRAFT_KINDS = (APPROVAL_REMINDER, APPROVAL_STALLED)  # sent only while the draft still waits for the client
POST_KINDS = tuple(POST_NOTICE_KINDS.values())  # told as the post is when the message leaves
ITEM_KINDS = (COMMENT_FAILED_NOTICE, NEW_EPISODE_NOTICE)  # told in the words stored when queued


@dataclass(frozen=True)
class Recipient:
    key: str  # "user:<id>" or "team"
    user_id: int | None
    email: str
    role: str  # admin | va | client; "team" for the team
    client_id: int | None  # a client user's client
    timezone: str
    channel: str  # email | webhook | team
    cadence: str  # immediate | daily
    webhook_url: str = field(default="", repr=False)

    @property
    def is_client(self) -> bool:
        return self.role == CLIENT


@dataclass(frozen=True)
class PassReport:
    queued: int = 0  # notifications added to the outbox
    delivered: int = 0  # notifications sent
    failed: int = 0  # not sent this time (retried later unless out of attempts)
    unknown: int = 0  # handed over, answer lost: never resent
    skipped: int = 0  # no longer relevant, or nobody to tell any more
    messages: int = 0  # emails and webhook calls made


@dataclass
class NoticeService:
    """Everything one pass needs. ``email``: the [notify] SMTP server for users' own email (None: users who
    chose email are not told); ``team``: [notify]'s email_to and webhook for the VA team."""

    session_factory: SessionFactory
    team: Notifier | None = None
    email: NotifySettings | None = None
    options: NoticeOptions = field(default_factory=NoticeOptions)
    public_url: str = "http://127.0.0.1:8501"
    home: Path | None = None
    network: NetworkSettings | None = None
    worker: str = field(default_factory=default_worker_id)
    http: requests.Session | None = None

    @classmethod
    def from_settings(cls, settings: Settings, session_factory: SessionFactory, *, worker: str | None = None,
                      http: requests.Session | None = None) -> "NoticeService":
        notify = load_notify_settings(settings)
        return cls(session_factory, team=Notifier.from_settings(notify, http, settings.network),
                   email=notify if notify.smtp_host else None, options=NoticeOptions.from_settings(settings.notices),
                   public_url=settings.server.public_url, home=settings.home, network=settings.network,
                   worker=worker or default_worker_id(), http=http)

    def run(self, *, now: datetime) -> PassReport:
        now = as_utc(now)
        queued = self.queue(now=now)
        return replace(self.send(now=now), queued=queued)

    # --- links ---------------------------------------------------------------------------------------

    def draft_link(self, draft_id: int) -> str:
        """The draft alone on the dashboard's review page (``?draft=ID``)."""
        return f"{self.public_url.rstrip('/')}/review?draft={draft_id}"

    def post_link(self, post_id: int) -> str:
        """The post on the dashboard's calendar (``?post=ID``)."""
        return f"{self.public_url.rstrip('/')}/calendar?post={post_id}"

    def episode_link(self, episode_id: int | None) -> str:
        """The episode on the dashboard's Episodes page (``?episode=ID``); the page itself while it has no id
        (queued, or its download failed)."""
        page = f"{self.public_url.rstrip('/')}/episodes"
        return page if episode_id is None else f"{page}?episode={episode_id}"

    # --- 1. queue ------------------------------------------------------------------------------------

    def queue(self, *, now: datetime) -> int:
        """Add what is due to be told now to the outbox; returns how many rows were added."""
        now = as_utc(now)
        with self.session_factory() as session:
            audience = self._audience(session)
            clients = {c.id: c for c in session.scalars(select(Client))}
            waiting = awaiting_client(session)
            slots = _slots(session, [w.draft_id for w in waiting])
            sent_back = sent_back_by_client(session)
        staff = _staff(audience)
        rows = []
        for draft in waiting:
            options = self.options.for_client(clients[draft.client_id].reminder_settings)
            client_users = [r for r in audience if r.is_client and r.client_id == draft.client_id]
            rows += self._reminder_rows(draft, slots.get(draft.draft_id), clients[draft.client_id], options,
                                        client_users, now)
            rows += self._stall_rows(draft, slots.get(draft.draft_id), clients[draft.client_id], options, staff, now)
        for back in sent_back:
            rows += [self._row(CHANGES_REQUESTED_NOTICE, r, back.client_id, f"decision:{back.decision_id}",
                               _changes_summary(back), now, draft_id=back.draft_id) for r in staff]
        queued = _insert_rows(self.session_factory, rows)
        return queued + (self._queue_posts(staff, now) + self._queue_comments(staff, now) if staff else 0)

    def queue_new_episode(self, session: Session, *, entry_id: int, client_id: int, episode_id: int | None,
                          summary: str, now: datetime) -> int:
        """The VA's notice of a feed entry's new episode, queued in the caller's transaction (the one settling the
        entry) for every staff recipient; returns how many there are (0: nobody can be told)."""
        staff = _staff(self._audience(session))
        rows = [self._row(NEW_EPISODE_NOTICE, r, client_id, "new", summary, as_utc(now), item=f"entry:{entry_id}",
                          link=self.episode_link(episode_id)) for r in staff]
        if rows:
            _insert_into(session, rows)
        return len(staff)

    def _audience(self, session: Session) -> list[Recipient]:
        """Everyone who can be told something now: the team (when [notify] has a channel) and every enabled user
        whose channel works. A staff user whose email is in [notify] email_to hears it through the team mail."""
        team_addresses = {a.lower() for a in self._team_email_to()}
        audience = [Recipient(TEAM, None, "", TEAM, None, "UTC", TEAM, "immediate")] if self._team_ready() else []
        users = session.scalars(select(User).where(User.disabled.is_(False)).order_by(User.id)).all()
        preferences = preferences_by_user(session, [u.id for u in users])
        for user in users:
            channel, cadence, url = effective(preferences.get(user.id))
            if self._unreachable(channel, url) or (user.role != CLIENT and user.email in team_addresses):
                continue
            audience.append(Recipient(f"user:{user.id}", user.id, user.email, user.role, user.client_id,
                                      user.timezone or "UTC", channel, cadence, url))
        return audience

    def _team_ready(self) -> bool:
        return self.team is not None and bool(self.team.channels)

    def _team_email_to(self) -> list[str]:
        channels = self.team.channels if self.team is not None else []
        return [address for c in channels if isinstance(c, EmailChannel) for address in c.settings.email_to]

    def _unreachable(self, channel: str, webhook_url: str) -> str:
        """Why a user with this channel cannot be told now ("" when they can)."""
        if channel == NOTIFY_EMAIL:
            return "" if self.email is not None else "no SMTP server in [notify] (smtp_host)"
        if channel == NOTIFY_WEBHOOK:
            return "" if webhook_url else "no webhook URL"
        return "notifications are off"

    def _reminder_rows(self, draft: AwaitingClient, slot: datetime | None, client: Client, options: NoticeOptions,
                       recipients: list[Recipient], now: datetime) -> list[dict]:
        if not options.enabled or not recipients:
            return []
        deadline = reminder_deadline(draft.since, slot, options)
        if now < deadline:
            return []
        period = int((now - deadline) / timedelta(hours=options.every_hours))
        summary = _reminder_summary(draft, slot, client.timezone or "UTC")
        return [self._row(APPROVAL_REMINDER, r, draft.client_id, f"v{draft.version_number}:p{period}", summary, now,
                          draft_id=draft.draft_id) for r in recipients]

    def _stall_rows(self, draft: AwaitingClient, slot: datetime | None, client: Client, options: NoticeOptions,
                    staff: list[Recipient], now: datetime) -> list[dict]:
        if now < draft.since + timedelta(hours=options.stall_after_hours):
            return []
        summary = _stall_summary(draft, slot, client, now)
        return [self._row(APPROVAL_STALLED, r, draft.client_id, f"v{draft.version_number}", summary, now,
                          draft_id=draft.draft_id) for r in staff]

    def _queue_posts(self, staff: list[Recipient], now: datetime) -> int:
        """Posts that failed, were missed or stay unknown: claimed and queued for the staff in one transaction."""

        @retry_when_locked
        def claim_and_queue() -> int:
            with self.session_factory() as session:
                post_ids = claim_posts_to_report(session, now=now)
                if not post_ids:
                    return 0
                owners = dict(session.execute(select(ScheduledPost.id, ScheduledPost.client_id)
                                              .where(ScheduledPost.id.in_(post_ids))).all())
                rows = [self._row(notice.kind, r, owners[notice.post_id], f"{notice.status}@{now.isoformat()}",
                                  replace(notice, link="").line(), now, post_id=notice.post_id,
                                  draft_id=notice.draft_id)
                        for notice in post_notices(session, post_ids) for r in staff]
                return _insert_into(session, rows)

        return claim_and_queue()

    def _queue_comments(self, staff: list[Recipient], now: datetime) -> int:
        """First comments that failed for good: claimed and queued for the staff in one transaction, once per post."""

        @retry_when_locked
        def claim_and_queue() -> int:
            with self.session_factory() as session:
                rows = [self._row(COMMENT_FAILED_NOTICE, r, comment.client_id, "comment", _comment_summary(comment),
                                  now, post_id=comment.post_id)
                        for comment in claim_comments_to_report(session, now=now) for r in staff]
                return _insert_into(session, rows) if rows else 0

        return claim_and_queue()

    def _row(self, kind: str, recipient: Recipient, client_id: int, period_key: str, summary: str, now: datetime, *,
             draft_id: int | None = None, post_id: int | None = None, item: str = "", link: str = "") -> dict:
        """One outbox row; ``item`` and ``link`` default to the post's, else the draft's."""
        item = item or (f"post:{post_id}" if post_id is not None else f"draft:{draft_id}")
        link = link or (self.post_link(post_id) if post_id is not None else self.draft_link(draft_id))
        return dict(kind=kind, recipient=recipient.key, client_id=client_id, item=item, draft_id=draft_id,
                    post_id=post_id, period_key=period_key, summary=summary, link=link, status=NOTICE_PENDING,
                    attempts=0, last_error="", send_after=self._send_after(recipient, now), worker="", created_at=now)

    def _send_after(self, recipient: Recipient, now: datetime) -> datetime:
        if recipient.cadence != NOTIFY_DAILY:
            return now
        return next_digest(now, recipient.timezone, self.options.digest_hour)

    # --- 2. send -------------------------------------------------------------------------------------

    def send(self, *, now: datetime) -> PassReport:
        """Send every due notification, one message per recipient."""
        now = as_utc(now)
        self._settle_abandoned(now)
        claimed = self._claim(now)
        if not claimed:
            return PassReport()
        with self.session_factory() as session:
            rows = list(session.scalars(select(Notification).where(Notification.id.in_(claimed))
                                        .order_by(Notification.recipient, Notification.id)))
        totals = PassReport()
        for recipient, group in groupby(rows, key=lambda row: row.recipient):
            totals = _add(totals, self._deliver(recipient, list(group), now))
        return totals

    @retry_when_locked
    def _settle_abandoned(self, now: datetime) -> None:
        """Rows whose sender died mid-send (lease over): unknown if the message may have left, else due again."""
        abandoned = and_(Notification.status == NOTICE_SENDING, Notification.lease_until < now)
        with self.session_factory() as session:
            session.execute(update(Notification).where(abandoned, Notification.handed_at.is_not(None))
                            .values(status=NOTICE_UNKNOWN, lease_until=None,
                                    last_error="the sender stopped after handing it over; it may have been "
                                               "delivered, so it is not sent again"),
                            execution_options={"synchronize_session": False})
            session.execute(update(Notification).where(abandoned, Notification.handed_at.is_(None))
                            .values(status=NOTICE_FAILED, lease_until=None, next_attempt_at=now,
                                    last_error="the sender stopped before sending it; sent again"),
                            execution_options={"synchronize_session": False})

    @retry_when_locked
    def _claim(self, now: datetime) -> list[int]:
        due = or_(and_(Notification.status == NOTICE_PENDING, Notification.send_after <= now),
                  and_(Notification.status == NOTICE_FAILED, Notification.next_attempt_at <= now))
        with self.session_factory() as session:
            rows = session.execute(
                update(Notification).where(due)
                .values(status=NOTICE_SENDING, worker=self.worker, attempts=Notification.attempts + 1,
                        lease_until=now + timedelta(seconds=self.options.lease_seconds), handed_at=None)
                .returning(Notification.id), execution_options={"synchronize_session": False}).all()
        return sorted(row.id for row in rows)

    def _deliver(self, recipient_key: str, rows: list[Notification], now: datetime) -> PassReport:
        keep, drop, message = self._prepare(recipient_key, rows)
        report = self._finish_skipped(drop) if drop else PassReport()
        if message is None:
            return report
        ids = self._hand_over([row.id for row in keep], now)
        if len(ids) < len(keep):  # a lease ran out meanwhile and another sender took some: they are its now
            keep = [row for row in keep if row.id in ids]
            if not keep:
                return report
            keep, drop, message = self._prepare(recipient_key, keep)
            if message is None:
                return _add(report, self._finish_skipped(drop))
        try:
            message()
        except NotifyUnknown as exc:
            log.warning("notice to %s: %s", recipient_key, exc)
            self._mark(ids, status=NOTICE_UNKNOWN, last_error=str(exc)[:500], lease_until=None)
            return _add(report, PassReport(unknown=len(ids), messages=1))
        except NotifyError as exc:
            log.warning("notice to %s not sent: %s", recipient_key, exc)
            self._fail(keep, str(exc), now)
            return _add(report, PassReport(failed=len(ids), messages=1))
        self._mark(ids, status=NOTICE_SENT, sent_at=now, last_error="", lease_until=None)
        log.info("sent %d notice(s) to %s", len(ids), recipient_key)
        return _add(report, PassReport(delivered=len(ids), messages=1))

    @retry_when_locked
    def _prepare(self, recipient_key: str, rows: list[Notification]):
        """(rows to send, rows to skip with why, a function sending the message or None). Its transaction may
        write (a reminder's review link is audited), so a lost SQLite write race runs it again."""
        with self.session_factory() as session:
            recipient, why_not = self._resolve(session, recipient_key)
            if recipient is None:
                return [], [(row, why_not) for row in rows], None
            keep, drop = _still_relevant(session, recipient, rows)
            return keep, drop, (self._message(session, recipient, keep) if keep else None)

    def _resolve(self, session: Session, key: str) -> tuple[Recipient | None, str]:
        """The recipient as it is now, or None and why nobody is told."""
        if key == TEAM:
            if self._team_ready():
                return Recipient(TEAM, None, "", TEAM, None, "UTC", TEAM, "immediate"), ""
            return None, "[notify] has no webhook_url or email_to any more"
        user = session.get(User, int(key.partition(":")[2])) if key.startswith("user:") else None
        if user is None or user.disabled:
            return None, "the user is gone or disabled"
        channel, cadence, url = effective(preferences_by_user(session, [user.id]).get(user.id))
        if why := self._unreachable(channel, url):
            return None, why
        return Recipient(key, user.id, user.email, user.role, user.client_id, user.timezone or "UTC", channel,
                         cadence, url), ""

    def _message(self, session: Session, recipient: Recipient, rows: list[Notification]):
        """A function that sends the rows' message to the recipient (built here, while the session is open)."""
        notices = _notices(session, rows)
        if recipient.channel == TEAM:
            team = self.team
            return lambda: team.send(notices)
        review_url = ""
        if recipient.is_client:
            review_url, notices = self._with_review_link(session, recipient, notices)
        if recipient.channel == NOTIFY_WEBHOOK:
            payload = _webhook_payload(recipient, notices, review_url)
            http = self.http or safe_session(self.network)
            return lambda: post_json(http, recipient.webhook_url, payload, digest_key(notices))
        message = self._email(recipient, notices, review_url)
        return lambda: send_email(self.email, message, [recipient.email])

    def _with_review_link(self, session: Session, recipient: Recipient, notices: list) -> tuple[str, list]:
        """A fresh review link for the client's queue, and each draft's notice pointing at the draft through it."""
        slug = session.get(Client, recipient.client_id).slug
        token = make_review_link_token(session, slug, self.options.review_link_hours, home=self.home,
                                       actor="notices")
        url = review_link_url(self.public_url, token)
        return url, [replace(n, link=f"{url}&draft={n.draft_id}") for n in notices]

    def _email(self, recipient: Recipient, notices: list, review_url: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.email.email_from
        message["To"] = recipient.email
        if recipient.is_client:
            message["Subject"] = f"Reminder: {len(notices)} post(s) waiting for your approval"
            body = [f"{len(notices)} post(s) are waiting for your approval:", ""]
            body += [f"- {n.summary}\n  {n.link}" for n in notices]
            body += ["", f"Open your review queue: {review_url}",
                     f"The link works for {self.options.review_link_hours} hours and opens only your own drafts."]
        else:
            message["Subject"] = _digest_subject(notices)
            body = [_digest_subject(notices), ""] + [n.line() for n in notices]
        message.set_content("\n".join(body))
        return message

    # --- outcomes ------------------------------------------------------------------------------------

    @retry_when_locked
    def _hand_over(self, ids: list[int], now: datetime) -> set[int]:
        """Mark the rows as leaving now (and renew their lease); the ids this sender still held."""
        with self.session_factory() as session:
            rows = session.execute(
                update(Notification).where(Notification.id.in_(ids), Notification.worker == self.worker,
                                           Notification.status == NOTICE_SENDING)
                .values(handed_at=now, lease_until=now + timedelta(seconds=self.options.lease_seconds))
                .returning(Notification.id), execution_options={"synchronize_session": False}).all()
        return {row.id for row in rows}

    @retry_when_locked
    def _mark(self, ids: list[int], **values) -> None:
        with self.session_factory() as session:
            session.execute(update(Notification).where(Notification.id.in_(ids), Notification.worker == self.worker,
                                                       Notification.status == NOTICE_SENDING).values(**values),
                            execution_options={"synchronize_session": False})

    @retry_when_locked
    def _fail(self, rows: list[Notification], reason: str, now: datetime) -> None:
        with self.session_factory() as session:
            for row in rows:
                attempts = row.attempts  # counted when claimed
                retry_at = now + timedelta(seconds=self.backoff(attempts)) if attempts < self.options.max_attempts else None
                session.execute(update(Notification).where(Notification.id == row.id,
                                                           Notification.worker == self.worker,
                                                           Notification.status == NOTICE_SENDING)
                                .values(status=NOTICE_FAILED, last_error=reason[:500], next_attempt_at=retry_at,
                                        lease_until=None, handed_at=None),
                                execution_options={"synchronize_session": False})

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after ``attempts`` tries."""
        o = self.options
        return min(o.backoff_max_seconds, o.backoff_seconds * 2 ** max(0, attempts - 1))

    def _finish_skipped(self, rows: list[tuple[Notification, str]]) -> PassReport:
        for row, reason in rows:
            self._mark([row.id], status=NOTICE_SKIPPED, last_error=reason, lease_until=None)
        return PassReport(skipped=len(rows))


def notify_pending(session_factory: SessionFactory, notifier: Notifier, *, now: datetime) -> int:
    """One pass of the outbox with only the team's channels ([notify]): queue what needs telling, send what is
    due. Returns how many notifications were delivered."""
    return NoticeService(session_factory, team=notifier).run(now=now).delivered


# --- deadlines and periods ------------------------------------------------------------------------------------

def reminder_deadline(since: datetime, slot: datetime | None, options: NoticeOptions) -> datetime:
    """When a draft waiting since ``since`` (on the calendar at ``slot``, or not) first earns a reminder."""
    deadline = as_utc(since) + timedelta(hours=options.after_hours)
    if slot is not None:
        deadline = min(deadline, as_utc(slot) - timedelta(hours=options.before_slot_hours))
    return deadline


def next_digest(now: datetime, timezone_name: str, hour: int) -> datetime:
    """The next ``hour``:00 in the zone, strictly after ``now`` (UTC)."""
    local = to_local(as_utc(now), timezone_name)
    candidate = to_utc(datetime.combine(local.date(), time(hour)), timezone_name)
    return candidate if candidate > as_utc(now) else to_utc(
        datetime.combine(local.date() + timedelta(days=1), time(hour)), timezone_name)


def _slots(session: Session, draft_ids: list[int]) -> dict[int, datetime]:
    """The earliest scheduled slot of each draft that has one."""
    if not draft_ids:
        return {}
    slots: dict[int, datetime] = {}
    for draft_id, due in session.execute(select(ScheduledPost.draft_id, ScheduledPost.due_at)
                                         .where(ScheduledPost.draft_id.in_(draft_ids),
                                                ScheduledPost.status == SCHEDULED)):
        slots[draft_id] = min(slots.get(draft_id, as_utc(due)), as_utc(due))
    return slots


# --- what the messages say ---------------------------------------------------------------------------------------

def _label(platform: str) -> str:
    try:
        return get_platform(platform).label
    except UnknownPlatform:
        return platform


def _when(instant: datetime, zone: str) -> str:
    return f"{to_local(instant, zone):%a %d %b %H:%M} ({zone})"


def _reminder_summary(draft: AwaitingClient, slot: datetime | None, zone: str) -> str:
    text = (f"{_label(draft.platform)} post for \u201c{draft.episode_title}\u201d, "
            f"waiting for your approval since {_when(draft.since, zone)}")
    return text + (f"; due to go out {_when(slot, zone)}" if slot else "")


def _stall_summary(draft: AwaitingClient, slot: datetime | None, client: Client, now: datetime) -> str:
    zone = client.timezone or "UTC"
    hours = (now - draft.since).total_seconds() / 3600
    text = (f"{_label(draft.platform)} post for \u201c{draft.episode_title}\u201d has waited {hours:.0f} h for "
            f"{client.name}'s approval (since {_when(draft.since, zone)})")
    return text + (f"; due to go out {_when(slot, zone)}" if slot else "")


def _changes_summary(back: SentBack) -> str:
    return (f"{back.actor} asked for changes to the {_label(back.platform)} post for \u201c{back.episode_title}\u201d: "
            f"{_one_line(back.reason)}")


def _comment_summary(comment: FailedComment) -> str:
    outcome = "failed" if comment.status == "failed" else "may or may not be there"
    return (f"the first comment of post {comment.post_id} on {_label(comment.platform)} {outcome}: "
            f"{_one_line(comment.error) or 'no reason given'}")


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _digest_subject(notices: list) -> str:
    clients = ", ".join(sorted({n.client for n in notices}))
    if all(isinstance(n, Notice) for n in notices):
        return f"Castmill: {len(notices)} post(s) need attention ({clients})"
    return f"Castmill: {len(notices)} notice(s) ({clients})"


def _webhook_payload(recipient: Recipient, notices: list, review_url: str) -> dict:
    text = [_digest_subject(notices)] + [n.line() for n in notices]
    payload = {"source": "castmill", "event": "notices", "text": "\n".join(text),
               "items": [{"kind": n.kind, "client": n.client, "draft_id": n.draft_id,
                          "post_id": getattr(n, "post_id", None), "line": n.line(), "link": n.link} for n in notices]}
    if recipient.is_client:
        payload["review_link"] = review_url
    return payload


def _notices(session: Session, rows: list[Notification]) -> list:
    """The rows as the notices a channel sends: failed, missed or unknown posts as they are now, the others with
    the stored line."""
    posts = {row.post_id: row.link for row in rows if row.kind in POST_KINDS}
    by_post = {n.post_id: n for n in post_notices(session, list(posts), posts)} if posts else {}
    slugs = dict(session.execute(select(Client.id, Client.slug)
                                 .where(Client.id.in_({row.client_id for row in rows}))).all())
    draft_ids = {row.draft_id for row in rows if row.kind not in POST_KINDS + ITEM_KINDS}
    platforms = dict(session.execute(select(Draft.id, Draft.platform).where(Draft.id.in_(draft_ids))).all()) \
        if draft_ids else {}

    def notice(row: Notification):
        client = slugs.get(row.client_id, "?")
        if row.kind in POST_KINDS:
            return by_post[row.post_id]
        if row.kind in ITEM_KINDS:
            return ItemNotice(row.kind, row.item, client, row.summary, row.link, post_id=row.post_id)
        return DraftNotice(row.kind, row.draft_id, client, platforms.get(row.draft_id, ""), row.summary, row.link)

    return [notice(row) for row in rows]


def _staff(audience: list[Recipient]) -> list[Recipient]:
    """Who hears the VA's notices: the team and every staff user."""
    return [r for r in audience if r.role == TEAM or r.role in STAFF_ROLES]


def _still_relevant(session: Session, recipient: Recipient, rows: list[Notification]
                    ) -> tuple[list[Notification], list[tuple[Notification, str]]]:
    """Rows to send, and rows to skip with why: another client's row for a client user (never sent), a draft
    that no longer waits for the client (approved, sent back or edited since it was queued)."""
    keep, drop = [], []
    waiting = {(w.draft_id, f"v{w.version_number}") for w in awaiting_client(session)} \
        if any(row.kind in DRAFT_KINDS for row in rows) else set()
    for row in rows:
        if recipient.is_client and row.client_id != recipient.client_id:
            drop.append((row, "not this user's client"))
        elif row.kind in DRAFT_KINDS and (row.draft_id, row.period_key.split(":")[0]) not in waiting:
            drop.append((row, "no longer waiting for the client's approval"))
        else:
            keep.append(row)
    return keep, drop


# --- the outbox's rows ---------------------------------------------------------------------------------------

@retry_when_locked
def _insert_rows(session_factory: SessionFactory, rows: list[dict]) -> int:
    if not rows:
        return 0
    with session_factory() as session:
        return _insert_into(session, rows)


def _insert_into(session: Session, rows: list[dict], chunk: int = 500) -> int:
    """INSERT … ON CONFLICT DO NOTHING: a row already queued (same kind, recipient, item, period) is kept as is."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    added = 0
    for start in range(0, len(rows), chunk):
        result = session.execute(insert(Notification).values(rows[start:start + chunk]).on_conflict_do_nothing())
        added += max(0, result.rowcount or 0)
    return added


def _add(a: PassReport, b: PassReport) -> PassReport:
    return PassReport(a.queued + b.queued, a.delivered + b.delivered, a.failed + b.failed, a.unknown + b.unknown,
                      a.skipped + b.skipped, a.messages + b.messages)


# --- the outbox as staff see it ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class OutboxEntry:
    id: int
    kind: str
    recipient: str  # the user's email, or "team"
    client_slug: str
    item: str  # "draft:<id>", "post:<id>" or "entry:<id>" (a watched feed's entry)
    period_key: str
    status: str
    attempts: int
    last_error: str
    summary: str
    link: str
    created_at: datetime
    send_after: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None

    def to_dict(self) -> dict:
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name in ("created_at", "send_after", "next_attempt_at", "sent_at"):
            values[name] = values[name].isoformat() if values[name] else None
        return values


def outbox(session: Session, identity: Identity, *, status: str | None = None, client_slug: str | None = None,
           limit: int = 100) -> list[OutboxEntry]:
    """The newest notifications first (staff only: they name every client's drafts and every user)."""
    require_staff(identity, "see the notification outbox")
    query = (select(Notification, Client.slug).join(Client, Client.id == Notification.client_id)
             .order_by(Notification.id.desc()).limit(max(1, limit)))
    if status:
        query = query.where(Notification.status == status)
    if client_slug:
        query = query.where(Client.slug == client_slug)
    rows = session.execute(query).all()
    user_ids = {int(n.recipient.partition(":")[2]) for n, _ in rows if n.recipient.startswith("user:")}
    emails = dict(session.execute(select(User.id, User.email).where(User.id.in_(user_ids))).all()) if user_ids else {}
    return [OutboxEntry(n.id, n.kind, _recipient_name(n.recipient, emails), slug, n.item, n.period_key, n.status,
                        n.attempts, n.last_error or "", n.summary or "", n.link or "", as_utc(n.created_at),
                        as_utc(n.send_after), as_utc(n.next_attempt_at) if n.next_attempt_at else None,
                        as_utc(n.sent_at) if n.sent_at else None) for n, slug in rows]


def _recipient_name(key: str, emails: dict[int, str]) -> str:
    if key.startswith("user:"):
        return emails.get(int(key.partition(":")[2]), key)
    return key
