"""The "new episode" notice: the VA hears of each episode a watched feed brought in, once.

It goes into the notification outbox (``pipeline.publish.notices``) as a staff notice: one row per staff
recipient, keyed by the feed entry, queued in the transaction that settles the entry. The outbox's send pass
delivers it with each user's channel and digest preferences and retries it with back-off while the server
refuses it. With nobody to tell (no [notify] channel, no reachable staff user) it is logged, and the entry
records "log".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from pipeline.publish.notices import NoticeService

log = logging.getLogger("castmill.feeds")

LOGGED = "log"  # how a notice was "sent" when nobody can be told
QUEUED = "outbox"  # queued in the notification outbox for the staff


@dataclass(frozen=True)
class EpisodeNotice:
    entry_id: int
    client_id: int
    client: str  # slug
    title: str
    status: str  # processed | queued | failed
    episode_id: int | None  # None while it waits in the queue, or when its download failed
    feed_id: int
    error: str = ""

    def outcome(self) -> str:
        return {"processed": f"ready as episode {self.episode_id}, drafts waiting for review",
                "queued": "queued for processing"}.get(self.status, f"processing failed: {self.error}")

    def summary(self) -> str:
        """The outbox's line (the client is named beside it)."""
        return f"new episode \u201c{self.title}\u201d from feed {self.feed_id} - {self.outcome()}"

    def line(self) -> str:
        """The log's line."""
        return f"Castmill: new episode for {self.client}: {self.title!r} from feed {self.feed_id} - {self.outcome()}"


def tell_new_episode(session: Session, notices: NoticeService, notice: EpisodeNotice, *, now: datetime) -> str:
    """Queue ``notice`` for the staff in ``session``'s transaction; returns how it went: "outbox", or "log" when
    nobody can be told (then it is logged)."""
    told = notices.queue_new_episode(session, entry_id=notice.entry_id, client_id=notice.client_id,
                                     episode_id=notice.episode_id, summary=notice.summary(), now=now)
    if told:
        return QUEUED
    log.info("%s (nobody to tell: no [notify] channel and no reachable staff user)", notice.line())
    return LOGGED
