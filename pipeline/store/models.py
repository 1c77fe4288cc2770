"""SQLAlchemy ORM models: every box of the pipeline is a row.

Schema changes go through an Alembic migration in ``pipeline/store/migrations``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pipeline.core.clock import utcnow
from pipeline.core.vocab import DEFAULT_LATE_MINUTES

class Base(DeclarativeBase):
    pass


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    language: Mapped[str] = mapped_column(String(8), default="en")
    brand_voice: Mapped[str] = mapped_column(Text, default="")
    hashtags: Mapped[list] = mapped_column(JSON, default=list)
    platforms: Mapped[list] = mapped_column(JSON, default=list)
    posting_slots: Mapped[list] = mapped_column(JSON, default=list)
    # The profile's [highlights] table (bounds, weights, per-platform bounds).
    highlight_settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # Weights re-fitted from good/bad labels (``castmill refit``); empty until then.
    fitted_weights: Mapped[dict] = mapped_column(JSON, default=dict)
    handles: Mapped[dict] = mapped_column(JSON, default=dict)
    call_to_action: Mapped[str] = mapped_column(Text, default="")
    # Absolute folder of the client's own templates; empty = the shipped ones only.
    templates_dir: Mapped[str] = mapped_column(Text, default="")
    # The profile's [clips] table: kinds, aspects, style, fit rendered by `castmill process`.
    clip_settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # 2: the VA reviews, then the client approves; 1: the client approves alone.
    approval_stages: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    # Languages spoken on the show (Whisper codes, or "auto"); empty: the posts' ``language``.
    spoken_languages: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # Quote highlights spoken in another language as an English machine translation (the profile's
    # translate_quotes; pipeline/highlights/translation.py).
    translate_quotes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # The profile's ``speakers``: "auto" (diarize, count estimated), "off", or how many speak ("2").
    speakers: Mapped[str] = mapped_column(String(8), default="auto", server_default="auto")
    # The profile's [reminders] table: the client's own reminder timing over [notices] (only the fields set).
    reminder_settings: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    # The profile's [evergreen] table: the client's own recycling rules over [evergreen] (only the fields set).
    evergreen_settings: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    episodes: Mapped[list["Episode"]] = relationship(back_populates="client")

    @property
    def languages_spoken(self) -> list[str]:
        return list(self.spoken_languages or []) or [self.language or "en"]


class Episode(Base):
    __tablename__ = "episodes"
    __table_args__ = (UniqueConstraint("client_id", "sha256", name="uq_episode_client_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    source_uri: Mapped[str] = mapped_column(Text)
    media_path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text, default="")
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    has_video: Mapped[bool] = mapped_column(default=False)
    probe: Mapped[dict] = mapped_column(JSON, default=dict)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # From the feed entry: {"number": itunes:episode, "link": the episode's web page, "guest": …}.
    feed_meta: Mapped[dict] = mapped_column(JSON, default=dict)
    # Names the VA gave the diarized speakers: {"S1": "Dinda", "S2": "Guest"}; unnamed ones keep their label.
    speaker_names: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    client: Mapped[Client] = relationship(back_populates="episodes")
    stages: Mapped[list["EpisodeStage"]] = relationship(
        back_populates="episode", cascade="all, delete-orphan", order_by="EpisodeStage.id"
    )
    transcripts: Mapped[list["Transcript"]] = relationship(
        back_populates="episode", cascade="all, delete-orphan"
    )
    highlights: Mapped[list["Highlight"]] = relationship(
        back_populates="episode", cascade="all, delete-orphan", order_by="Highlight.rank"
    )

    def stage(self, name: str) -> "EpisodeStage | None":
        return next((s for s in self.stages if s.stage == name), None)


class EpisodeStage(Base):
    """The status of one stage for one episode; ``input_key`` says what it was computed from."""

    __tablename__ = "episode_stages"
    __table_args__ = (UniqueConstraint("episode_id", "stage", name="uq_stage_episode_stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    input_key: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worker: Mapped[str | None] = mapped_column(String(200))  # host:pid of the queue worker that last ran it

    episode: Mapped[Episode] = relationship(back_populates="stages")


class QueueJobError(Base):
    """Why a job of the queue (``pipeline.jobs``) failed last, one line: an ingest job that never made an
    episode has no stage row to hold it. Keyed by procrastinate's job id."""

    __tablename__ = "queue_job_errors"

    job_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    error: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Transcript(Base):
    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    engine: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(200))
    # The main language; every segment carries its own, and language_shares each one's part.
    language: Mapped[str] = mapped_column(String(16))
    language_shares: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    duration: Mapped[float] = mapped_column(Float)
    segments: Mapped[list] = mapped_column(JSON)
    input_key: Mapped[str] = mapped_column(Text)
    seconds_taken: Mapped[float] = mapped_column(Float, default=0.0)
    # What the VA should know about the transcript, e.g. an English-only model on French audio.
    warnings: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    episode: Mapped[Episode] = relationship(back_populates="transcripts")


class Highlight(Base):
    """One mined moment of an episode: cut points, explained score, suggestions."""

    __tablename__ = "highlights"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    features: Mapped[dict] = mapped_column(JSON)
    reasons: Mapped[list] = mapped_column(JSON)
    caveats: Mapped[list] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text)
    quote: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    key_phrases: Mapped[list] = mapped_column(JSON, default=list)
    hashtags: Mapped[list] = mapped_column(JSON, default=list)
    llm: Mapped[dict | None] = mapped_column(JSON)
    # The highlight in the posts' language when it was spoken in another: {"from", "to", "by", "text",
    # "quote", "title", "key_phrases", "hashtags"} (pipeline/highlights/translation.py); None otherwise.
    translation: Mapped[dict | None] = mapped_column(JSON)
    # Who speaks in it, most first ("S1" …; the episode's speaker_names give their names), and who says the quote.
    speakers: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    quote_by: Mapped[str] = mapped_column(String(8), default="", server_default="")
    input_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    episode: Mapped[Episode] = relationship(back_populates="highlights")

    @property
    def key(self) -> str:
        """The cut as text: drafts and clips are keyed by it, so they survive re-mining the same cut."""
        return f"{self.start:.2f}-{self.end:.2f}"


class HighlightFeedback(Base):
    """A good/bad label on a highlight. Keeps its own copy of the features so labels
    survive re-mining (which replaces the highlight rows) and can re-fit weights."""

    __tablename__ = "highlight_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    highlight_id: Mapped[int | None] = mapped_column(ForeignKey("highlights.id", ondelete="SET NULL"), index=True)
    label: Mapped[str] = mapped_column(String(8))  # good | bad
    features: Mapped[dict] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Draft(Base):
    """A post for one platform, about one highlight or the whole episode. Its text lives in versions."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("episode_id", "highlight_key", "platform", name="uq_draft_subject_platform"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    highlight_id: Mapped[int | None] = mapped_column(ForeignKey("highlights.id", ondelete="SET NULL"))
    # "episode" for the episode post, else "<start>-<end>" of the highlight: stable across re-mining.
    highlight_key: Mapped[str] = mapped_column(String(40))
    platform: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    # draft (waiting for the VA) | client_review (VA approved, or a one-stage client: waiting for the client)
    # | changes_requested | approved (final: may be scheduled) | rejected. See pipeline/review/workflow.py.
    status: Mapped[str] = mapped_column(String(24), default="draft")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    versions: Mapped[list["DraftVersion"]] = relationship(
        back_populates="draft", cascade="all, delete-orphan", order_by="DraftVersion.number"
    )

    @property
    def latest(self) -> "DraftVersion | None":
        return self.versions[-1] if self.versions else None


class DraftVersion(Base):
    """One immutable text of a draft; edits and regenerations add versions, never overwrite."""

    __tablename__ = "draft_versions"
    __table_args__ = (UniqueConstraint("draft_id", "number", name="uq_draft_version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    # The post, then thread replies when the platform threads (X, Bluesky, Mastodon, Threads).
    parts: Mapped[list] = mapped_column(JSON)
    hashtags: Mapped[list] = mapped_column(JSON, default=list)
    media: Mapped[list] = mapped_column(JSON, default=list)
    # Posted as the first comment (or reply) right after the post; "" = none. Part of the approved content.
    first_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    author: Mapped[str] = mapped_column(String(200))
    # What produced it: "template <path> sha256:<12>", "llm <model>" or "edit".
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    draft: Mapped[Draft] = relationship(back_populates="versions")

    @property
    def text(self) -> str:
        return "\n\n".join(self.parts)


class Clip(Base):
    """A rendered media file for a highlight: a video, an audiogram, an audio snippet, or a thumbnail."""

    __tablename__ = "clips"
    __table_args__ = (UniqueConstraint("highlight_key", "episode_id", "kind", "aspect", "format",
                                       name="uq_clip_variant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    highlight_id: Mapped[int | None] = mapped_column(ForeignKey("highlights.id", ondelete="SET NULL"))
    highlight_key: Mapped[str] = mapped_column(String(40))  # "<start>-<end>", like drafts
    kind: Mapped[str] = mapped_column(String(16))  # video | audiogram | audio | thumbnail | card (quote card)
    aspect: Mapped[str] = mapped_column(String(8), default="")
    format: Mapped[str] = mapped_column(String(8))  # mp4 | mp3 | m4a | jpg | png
    engine: Mapped[str] = mapped_column(String(16), default="")
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    # What it was rendered from (cut, style, engine, source hash): unchanged input = not re-rendered.
    input_key: Mapped[str] = mapped_column(Text)
    probe: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="ready")  # ready | failed
    error: Mapped[str] = mapped_column(Text, default="")  # why the last render failed, one line
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- review and auth: users, comments, approvals, audit events (migration 0006) ---


class User(Base):
    """A person who signs in to the dashboard. A client user sees only their own client's work."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id PHC string, never the password
    role: Mapped[str] = mapped_column(String(16))  # admin | va | client
    # Required for role "client", NULL for staff (admin, va).
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")  # the viewer's IANA zone
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    client: Mapped[Client | None] = relationship()


class LoginAttempt(Base):
    """One sign-in try, kept for rate limiting; written for unknown emails too."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_at", "email", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))  # lower-case, as typed
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ok: Mapped[bool] = mapped_column(default=False)


class Comment(Base):
    """A remark on one version of a draft. HTML in ``body`` is stored as typed and shown as text."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("draft_versions.id", ondelete="CASCADE"))
    # NULL for a review-link identity (it has no user row); ``author`` always says who.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Approval(Base):
    """A review decision on one exact version of a draft (bound by ``version_hash``).

    stage: va | client. decision: approved | rejected | changes_requested.
    An edit (or a later rejection or request for changes) sets ``voided_at``: a voided approval no longer counts.
    """

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("draft_versions.id", ondelete="CASCADE"))
    # sha256 of the version's parts + hashtags + media as canonical JSON (pipeline.review.workflow.version_hash).
    version_hash: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))  # NULL: review link
    actor: Mapped[str] = mapped_column(String(320))  # the email, or "review link <client>"
    decision: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text, default="")
    # Non-empty when the version was approved although it breaks a platform rule.
    override_reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """Who did what to which entity, with the state before and after. Never updated; deleted only when its
    client is erased (pipeline/clientdata/erase.py), which leaves one content-free "client.erase" event.

    No foreign keys on purpose: the trail outlives the users, clients and drafts it names.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))  # an email, or "system" / "scheduler"
    user_id: Mapped[int | None] = mapped_column(Integer)
    client_id: Mapped[int | None] = mapped_column(Integer, index=True)  # scopes the event to a client's users
    action: Mapped[str] = mapped_column(String(64), index=True)  # "draft.approve", "post.schedule" …
    entity_type: Mapped[str] = mapped_column(String(32))  # "draft", "user", "post" …
    entity_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


# --- calendar and publishing: accounts, scheduled posts, attempts, metrics (migration 0007) ---


class Account(Base):
    """A client's account on one platform. The token is never stored in plain text: either the
    name of an environment variable or a Fernet-encrypted blob (key from CASTMILL_SECRET_KEY)."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("client_id", "platform", "name", name="uq_account_client_platform_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32))  # a key of pipeline.publish.publishers.PUBLISHERS
    name: Mapped[str] = mapped_column(String(64), default="default")
    base_url: Mapped[str] = mapped_column(Text, default="")  # instance / API root; empty = the platform's own
    handle: Mapped[str] = mapped_column(String(200), default="")
    token_env: Mapped[str] = mapped_column(String(128), default="")
    token_encrypted: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    extra: Mapped[dict] = mapped_column(JSON, default=dict)
    last_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_check_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScheduledPost(Base):
    """One approved draft version due on one account at one instant (UTC).

    status: scheduled | publishing | published | unknown | failed | missed | cancelled.
    Claimed by one atomic UPDATE (scheduled -> publishing, lease_until, worker); see pipeline.publish.scheduler.
    """

    __tablename__ = "scheduled_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("draft_versions.id", ondelete="RESTRICT"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(32))  # the publisher used: outbox when no account
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)  # UTC
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")  # the zone the time was chosen in
    status: Mapped[str] = mapped_column(String(16), default="scheduled", index=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worker: Mapped[str] = mapped_column(String(128), default="")
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    late_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_LATE_MINUTES)  # publish if late by at most this
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    remote_id: Mapped[str] = mapped_column(Text, default="")
    remote_url: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The version's first comment, posted after the post (pipeline.publish.comments):
    # none | pending | posting | posted | failed | unknown | checking.
    comment_status: Mapped[str] = mapped_column(String(16), default="none", server_default="none", index=True)
    comment_remote_id: Mapped[str] = mapped_column(Text, default="", server_default="")
    comment_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    comment_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the comment may next be tried or looked up; while posting or checking, when that hold runs out.
    comment_next_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the VA's notice of the comment's failure was queued (migration 0020): it is reported once.
    comment_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PublishAttempt(Base):
    """Written before the platform call (outcome "started") and completed after it."""

    __tablename__ = "publish_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("scheduled_posts.id", ondelete="CASCADE"), index=True)
    # "post", or "comment" for the post's first comment
    kind: Mapped[str] = mapped_column(String(16), default="post", server_default="post")
    worker: Mapped[str] = mapped_column(String(128), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # started | published | failed | retry | unknown | reconciled_published | reconciled_absent
    outcome: Mapped[str] = mapped_column(String(32), default="started")
    remote_id: Mapped[str] = mapped_column(Text, default="")
    remote_url: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")


class Metric(Base):
    __tablename__ = "metrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("scheduled_posts.id", ondelete="CASCADE"), index=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    reposts: Mapped[int] = mapped_column(Integer, default=0)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    views: Mapped[int | None] = mapped_column(Integer)


class SlotProposal(Base):
    """Posting slots for one platform of a client, proposed from its engagement (``publish/best_time.py``).

    status: proposed | accepted | rejected | superseded (``vocab.PROPOSAL_STATUSES``). Accepting replaces the
    platform's slots in the client's profile with ``slots``, only while they still equal ``current_slots``.
    """

    __tablename__ = "slot_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    slots: Mapped[list] = mapped_column(JSON, default=list)  # PostingSlot dicts of this platform
    current_slots: Mapped[list] = mapped_column(JSON, default=list)  # the platform's slots when proposed
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)  # measure, posts, rates, intervals per slot
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="proposed", index=True)
    decided_by: Mapped[str] = mapped_column(String(320), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- notices: the notification outbox and each user's preferences (migration 0016) ---


class NotificationPreference(Base):
    """How and when one user is told (no row: email, at once). See pipeline/publish/preferences.py."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    channel: Mapped[str] = mapped_column(String(8), default="email")  # email | webhook | off
    cadence: Mapped[str] = mapped_column(String(12), default="immediate")  # immediate | daily
    webhook_url: Mapped[str] = mapped_column(Text, default="")  # for channel "webhook"; fetched via safe_fetch
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Notification(Base):
    """One thing to tell one recipient, in the outbox until it is sent (pipeline/publish/notices.py).

    The unique key (kind, recipient, item, period_key) makes a second reminder for the same draft in the same
    period impossible, whichever scheduler process tries. ``status``: pending | sending | sent | failed |
    unknown | skipped (vocab.NOTICE_STATUSES). ``handed_at`` is set just before the message leaves: a sender
    that dies after it leaves the row ``unknown`` (never resent), before it the row is sent again.
    """

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("kind", "recipient", "item", "period_key", name="uq_notification_once"),
                      Index("ix_notifications_status_send_after", "status", "send_after"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # vocab.NOTICE_KINDS
    recipient: Mapped[str] = mapped_column(String(64))  # "user:<id>", or "team" ([notify]'s email_to and webhook)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(40))  # "draft:<id>", "post:<id>" or "entry:<id>" (a feed entry)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("scheduled_posts.id", ondelete="CASCADE"), index=True)
    period_key: Mapped[str] = mapped_column(String(64))  # which reminder period, decision or failure it is about
    summary: Mapped[str] = mapped_column(Text, default="")  # one line for the message and `castmill notices list`
    link: Mapped[str] = mapped_column(Text, default="")  # the item in the dashboard (never a review-link token)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    send_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # now, or the recipient's next digest
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # a failed one's retry
    worker: Mapped[str] = mapped_column(String(128), default="")
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- watched feeds: subscriptions and the entries seen in them (migration 0015) ---


class FeedSubscription(Base):
    """A feed a client's new episodes come from, polled by the scheduler (``pipeline.watch``).

    The poll is a conditional GET with the last ``etag``/``last_modified``; a failed poll counts in
    ``failures`` and pushes ``next_poll_at`` back exponentially; the first poll that works resets both.
    """

    __tablename__ = "feed_subscriptions"
    __table_args__ = (UniqueConstraint("client_id", "url", name="uq_feed_subscription_client_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")  # the feed's own title, as last read
    # Only entries published after this are new; older ones are taken only by the backfill.
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    added_by: Mapped[str] = mapped_column(String(200), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The newest N entries older than the subscription, processed at its first poll (0: none); done once.
    backfill: Mapped[int] = mapped_column(Integer, default=0)
    backfilled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    etag: Mapped[str] = mapped_column(Text, default="")
    last_modified: Mapped[str] = mapped_column(Text, default="")
    last_poll_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_result: Mapped[str] = mapped_column(Text, default="")  # "2 new episodes", "not modified", "failed" …
    last_error: Mapped[str] = mapped_column(Text, default="")  # the last failure's one-line reason
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive failed polls
    next_poll_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # Set while a poll holds the subscription (its claim, see pipeline.watch.poll); a claim older than
    # pipeline.watch.options.POLL_LEASE is taken for a dead poller's.
    polling_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FeedEntry(Base):
    """An entry of a watched feed that Castmill has seen, known by its GUID and by its enclosure URL.

    One row per client and enclosure URL, written before the entry is processed, so it is processed once.
    status: old (listed before the subscription; never processed) | processing | processed | queued |
    duplicate (its media is an episode the client already had) | failed (retried a few times).
    """

    __tablename__ = "feed_entries"
    __table_args__ = (UniqueConstraint("client_id", "enclosure_url", name="uq_feed_entry_client_enclosure"),
                      Index("ix_feed_entries_client_guid", "client_id", "guid"))

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("feed_subscriptions.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    guid: Mapped[str] = mapped_column(Text, default="")
    enclosure_url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")  # as the feed last called it
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episodes.id", ondelete="SET NULL"))
    # When the VA was told about it, and how: "webhook", "email", "log" (no channel configured) …
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notified_via: Mapped[str] = mapped_column(String(64), default="")
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- evergreen posts: published posts recycled into free slots (migration 0019) ---


class EvergreenPost(Base):
    """A published post the VA marked evergreen: its text may go out again after a while.

    ``account_id`` is the account the original went out on (no key: a removed account must still
    read as "changed"); ``stop_reason`` says in one line why recycling stopped for good.
    """

    __tablename__ = "evergreen_posts"
    __table_args__ = (UniqueConstraint("post_id", name="uq_evergreen_post"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    # NULL once the original post (or its draft) was removed: recycling stops.
    post_id: Mapped[int | None] = mapped_column(ForeignKey("scheduled_posts.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(32))  # the draft's platform (x, bluesky …)
    account_id: Mapped[int | None] = mapped_column(Integer)
    # Its handle then: a removed account's id may be reused by a new row, the handle tells them apart.
    account_handle: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    stop_reason: Mapped[str] = mapped_column(Text, default="")
    marked_by: Mapped[str] = mapped_column(String(320))
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EvergreenRepost(Base):
    """One copy of an evergreen post: a new draft (its own version, reviewed like any draft) and, once
    approved and placed, its scheduled post. ``number`` counts the copies of one evergreen post from 1."""

    __tablename__ = "evergreen_reposts"
    __table_args__ = (UniqueConstraint("evergreen_id", "number", name="uq_evergreen_repost_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    evergreen_id: Mapped[int] = mapped_column(ForeignKey("evergreen_posts.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("scheduled_posts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
