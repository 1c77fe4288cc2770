"""Every row that belongs to one client, table by table: what an export holds and an erasure removes.

A row belongs to the client when it names the client (``client_id``), or hangs under a row that does:
an episode's stages, transcripts, highlights and clips; a draft's versions, comments and approvals; a
post's attempts and metrics; the notifications about them (a client user is only ever told about its
own client); the feeds it watches and the entries seen in them. Beside those: the client's own users,
their notification preferences and sign-in attempts (by email), and the audit events of the client, of
its users and of its review links.

``TABLES`` is in deletion order, children before parents. A new table with a key to one of these
must be added here: ``tests/clientdata/test_erase.py`` fails for any table it does not find in ``TABLES``
or ``NOT_OWNED``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from pipeline.store.clients import get_client
from pipeline.store.models import (Account, Approval, AuditEvent, Client, Clip, Comment, Draft, DraftVersion, Episode,
                                   EpisodeStage, EvergreenPost, EvergreenRepost, FeedEntry, FeedSubscription, Highlight, HighlightFeedback, LoginAttempt,
                                   Metric, Notification, NotificationPreference, PublishAttempt, ScheduledPost,
                                   SlotProposal, Transcript, User)

# Children before parents: the order rows are deleted in.
TABLES = (Notification, NotificationPreference, Metric, PublishAttempt, EvergreenRepost, EvergreenPost, ScheduledPost, Approval, Comment, DraftVersion,
          Draft, HighlightFeedback, Clip, Highlight, Transcript, EpisodeStage, FeedEntry, FeedSubscription, Episode,
          Account, SlotProposal, AuditEvent, LoginAttempt, User, Client)

# Tables that hold no client's rows, or hold them without a key to the client: why each is left out.
NOT_OWNED = {
    "alembic_version": "the schema's revision",
    "queue_job_errors": "keyed by the queue's job id; erase.py removes those of the client's jobs with the jobs",
}


@dataclass(frozen=True)
class ClientScope:
    """The rows of client ``client_id`` (``slug``), as queries."""

    client_id: int
    slug: str

    def episodes(self) -> Select:
        return select(Episode.id).where(Episode.client_id == self.client_id)

    def drafts(self) -> Select:
        return select(Draft.id).where(or_(Draft.client_id == self.client_id, Draft.episode_id.in_(self.episodes())))

    def posts(self) -> Select:
        return select(ScheduledPost.id).where(or_(ScheduledPost.client_id == self.client_id,
                                                  ScheduledPost.draft_id.in_(self.drafts())))

    def users(self) -> Select:
        """The client's own users (a client user belongs to exactly one client; staff to none)."""
        return select(User.id).where(User.client_id == self.client_id)

    def emails(self) -> Select:
        return select(User.email).where(User.client_id == self.client_id)

    @property
    def review_link_actor(self) -> str:
        return f"review link {self.slug}"  # how auth names a review-link identity in the audit trail

    def where(self, model) -> ColumnElement[bool]:
        """The condition selecting the client's rows of ``model`` (one of ``TABLES``)."""
        conditions = {
            Client: lambda: Client.id == self.client_id,
            Episode: lambda: Episode.client_id == self.client_id,
            EpisodeStage: lambda: EpisodeStage.episode_id.in_(self.episodes()),
            Transcript: lambda: Transcript.episode_id.in_(self.episodes()),
            Highlight: lambda: Highlight.episode_id.in_(self.episodes()),
            Clip: lambda: Clip.episode_id.in_(self.episodes()),
            HighlightFeedback: lambda: HighlightFeedback.client_id == self.client_id,
            Draft: lambda: Draft.id.in_(self.drafts()),
            DraftVersion: lambda: DraftVersion.draft_id.in_(self.drafts()),
            Comment: lambda: Comment.draft_id.in_(self.drafts()),
            Approval: lambda: Approval.draft_id.in_(self.drafts()),
            Account: lambda: Account.client_id == self.client_id,
            SlotProposal: lambda: SlotProposal.client_id == self.client_id,
            EvergreenPost: lambda: EvergreenPost.client_id == self.client_id,
            EvergreenRepost: lambda: EvergreenRepost.client_id == self.client_id,
            FeedSubscription: lambda: FeedSubscription.client_id == self.client_id,
            FeedEntry: lambda: FeedEntry.client_id == self.client_id,
            ScheduledPost: lambda: ScheduledPost.id.in_(self.posts()),
            PublishAttempt: lambda: PublishAttempt.post_id.in_(self.posts()),
            Metric: lambda: Metric.post_id.in_(self.posts()),
            User: lambda: User.client_id == self.client_id,
            NotificationPreference: lambda: NotificationPreference.user_id.in_(self.users()),
            Notification: lambda: or_(Notification.client_id == self.client_id,
                                      Notification.draft_id.in_(self.drafts()), Notification.post_id.in_(self.posts())),
            LoginAttempt: lambda: LoginAttempt.email.in_(self.emails()),
            AuditEvent: lambda: or_(AuditEvent.client_id == self.client_id, AuditEvent.user_id.in_(self.users()),
                                    AuditEvent.actor.in_(self.emails()), AuditEvent.actor == self.review_link_actor),
        }
        return conditions[model]()

    def counts(self, session: Session) -> dict[str, int]:
        """How many rows of each table belong to the client, by table name (every table of ``TABLES``)."""
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model).where(self.where(model)))
                for model in reversed(TABLES)}


def scope_of(client: Client) -> ClientScope:
    return ClientScope(client.id, client.slug)


def find_client(session: Session, slug: str) -> Client:
    """The client ``slug``; an unknown one is a one-line NotFoundError naming the known slugs (nothing to add:
    exporting or erasing a client that is not there is a mistaken slug)."""
    return get_client(session, slug, hint="")
