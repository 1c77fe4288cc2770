"""What the calendar shows: one ``CalendarEntry`` per post, read in one query, scoped to the viewer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pipeline.core.clock import as_utc
from pipeline.access.auth import Identity, check_session
from pipeline.calendar.scheduling import PREVIEW_CHARS
from pipeline.core.clock import to_local, to_utc
from pipeline.core.errors import NotFoundError
from pipeline.core.vocab import OUTBOX, POST_STATUS_COLOURS
from pipeline.store.models import Account, Client, Draft, DraftVersion, ScheduledPost


@dataclass(frozen=True)
class CalendarEntry:
    """One post as the calendar shows it."""

    post_id: int
    draft_id: int
    client_slug: str
    platform: str  # the draft's platform (x, mastodon …)
    account: str  # the account's name, or "outbox" when the client has none for the platform
    publisher: str  # the publisher that will send it: the platform, or "outbox"
    due_at_utc: datetime
    client_timezone: str
    due_local_client: datetime  # aware, in the client's zone
    status: str
    text_preview: str  # the first PREVIEW_CHARS characters of the text
    error: str
    remote_url: str
    late_minutes: int

    @property
    def colour(self) -> str:
        return POST_STATUS_COLOURS.get(self.status, "#000000")

    def due_in(self, tz: str) -> datetime:
        """The due time in another zone (the viewer's)."""
        return to_local(self.due_at_utc, tz)

    def to_dict(self) -> dict:
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values["due_at_utc"] = self.due_at_utc.isoformat()
        values["due_local_client"] = self.due_local_client.isoformat()
        return values


def entries(session: Session, identity: Identity, *, start_utc: datetime, end_utc: datetime,
            client_slug: str | None = None, platform: str | None = None,
            statuses: list[str] | tuple[str, ...] | None = None) -> list[CalendarEntry]:
    """Posts due in [start_utc, end_utc) that ``identity`` may see, in due order; one query."""
    check_session(identity)
    query = (_visible_posts(identity)
             .where(ScheduledPost.due_at >= as_utc(start_utc), ScheduledPost.due_at < as_utc(end_utc))
             .order_by(ScheduledPost.due_at, ScheduledPost.id))
    if client_slug:
        query = query.where(Client.slug == client_slug)
    if platform:
        query = query.where(Draft.platform == platform)
    if statuses:
        query = query.where(ScheduledPost.status.in_(list(statuses)))
    return [_entry(*row) for row in session.execute(query)]


def post_entry(session: Session, identity: Identity, post_id: int) -> CalendarEntry:
    """One post as the calendar shows it (a notice's link opens it); another client's post is "not found"."""
    check_session(identity)
    row = session.execute(_visible_posts(identity).where(ScheduledPost.id == post_id)).first()
    if row is None:
        raise NotFoundError(f"no scheduled post {post_id}")
    return _entry(*row)


def _visible_posts(identity: Identity) -> Select:
    """Posts with what an entry shows, narrowed to those ``identity`` may see."""
    query = (select(ScheduledPost, Draft.platform, Client.slug, Client.timezone, DraftVersion.parts, Account.name)
             .join(Draft, Draft.id == ScheduledPost.draft_id)
             .join(Client, Client.id == ScheduledPost.client_id)
             .join(DraftVersion, DraftVersion.id == ScheduledPost.version_id)
             .outerjoin(Account, Account.id == ScheduledPost.account_id))
    if not identity.is_staff:
        query = query.where(ScheduledPost.client_id == identity.client_id)
    return query


def _entry(post: ScheduledPost, platform: str, slug: str, client_tz: str, parts: list, account: str | None
           ) -> CalendarEntry:
    due = as_utc(post.due_at)
    client_tz = client_tz or "UTC"
    return CalendarEntry(post_id=post.id, draft_id=post.draft_id, client_slug=slug, platform=platform,
                         account=account or OUTBOX, publisher=post.platform, due_at_utc=due,
                         client_timezone=client_tz, due_local_client=to_local(due, client_tz), status=post.status,
                         text_preview="\n\n".join(parts or [])[:PREVIEW_CHARS], error=post.error or "",
                         remote_url=post.remote_url or "", late_minutes=post.late_minutes)


def local_day_range(first: date, last: date, tz: str) -> tuple[datetime, datetime]:
    """UTC bounds [start, end) covering the local days ``first``..``last`` (inclusive) in ``tz``."""
    return (to_utc(datetime.combine(first, time()), tz),
            to_utc(datetime.combine(last + timedelta(days=1), time()), tz))
