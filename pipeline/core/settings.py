"""Settings and client profiles, validated with pydantic.

Precedence, lowest first: the defaults below (mirrored in config/castmill.toml),
``$CASTMILL_HOME/castmill.toml``, then environment variables.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.core.clock import Weekday
from pipeline.core.errors import ConfigError
from pipeline.core.vocab import AUTO_LANGUAGE, AUTO_MODEL, ENGINES, WHISPER_LANGUAGES, Aspect, CardAspect, ClipKind, is_english


S3_SCHEME = "s3://"
# S3's rule for bucket names: 3-63 lower-case letters, digits, dots and hyphens, a letter or digit at each end.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class StorageSettings(BaseModel):
    database_url: str = ""
    # Where episode media and rendered clips are kept so that workers on other machines can read them.
    # "": where they already are (the episode's own file; clips under $CASTMILL_HOME/clips), one machine.
    # An absolute folder every machine mounts at the same path (NFS …), e.g. "/mnt/castmill-media".
    # An S3 bucket and an optional key prefix, e.g. "s3://castmill-media/prod"; credentials come from the
    # standard AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or profile, never from this file.
    media_url: str = ""  # or CASTMILL_MEDIA_URL
    # An S3-compatible server instead of AWS, e.g. "http://127.0.0.1:9000" for MinIO; "": AWS itself.
    s3_endpoint_url: str = ""  # or CASTMILL_S3_ENDPOINT_URL
    # The bucket's region (requests are signed for it).
    s3_region: str = "us-east-1"  # or CASTMILL_S3_REGION

    @field_validator("media_url")
    @classmethod
    def _media_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return ""
        if value.startswith(S3_SCHEME):
            bucket, prefix = split_s3_url(value)
            return f"{S3_SCHEME}{bucket}/{prefix}".rstrip("/")
        if "://" in value:
            raise ValueError(f"{value!r} is neither a folder nor s3://bucket/prefix")
        folder = Path(value).expanduser()
        if not folder.is_absolute():
            raise ValueError(f"the folder {value!r} must be an absolute path, the same on every machine")
        return str(folder)

    @field_validator("s3_endpoint_url")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value:
            return ""
        url = urlsplit(value)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL, e.g. http://127.0.0.1:9000")
        if url.username or url.password:
            raise ValueError("put S3 credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, not in the URL")
        return value

    @field_validator("s3_region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", value):
            raise ValueError(f"{value!r} is not a region name like \"us-east-1\"")
        return value

    @property
    def media_bucket(self) -> str:
        """The bucket of an ``s3://`` media_url ("" for a folder or the default)."""
        return split_s3_url(self.media_url)[0] if self.media_url.startswith(S3_SCHEME) else ""

    @property
    def media_prefix(self) -> str:
        """The key prefix of an ``s3://`` media_url, without slashes at either end ("" for none)."""
        return split_s3_url(self.media_url)[1] if self.media_url.startswith(S3_SCHEME) else ""


def split_s3_url(url: str) -> tuple[str, str]:
    """(bucket, key) of ``s3://bucket/key``; a ValueError says what is wrong with anything else."""
    if not url.startswith(S3_SCHEME):
        raise ValueError(f"{url!r} is not an s3://bucket/key URL")
    if any(c in url for c in "?#"):
        raise ValueError(f"{url!r} has a query or fragment; write s3://bucket/prefix")
    bucket, _, key = url[len(S3_SCHEME):].partition("/")
    if not bucket:
        raise ValueError(f"{url!r} names no bucket; write s3://bucket or s3://bucket/prefix")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ValueError(f"{bucket!r} is not a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)")
    key = key.strip("/")
    if key and any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"{url!r} has an empty, '.' or '..' part in its key")
    return bucket, key


class IngestSettings(BaseModel):
    max_download_bytes: int = Field(2 * 1024**3, gt=0)
    http_timeout: float = Field(30, gt=0)
    feed_latest: int = Field(5, gt=0)


class TranscribeSettings(BaseModel):
    engine: str = "faster-whisper"
    # "auto": tiny.en for English-only clients, the multilingual base otherwise; or a model name or path.
    model: str = AUTO_MODEL
    beam_size: int = Field(5, ge=1, le=20)
    vad: bool = True
    compute_type: str = "int8"
    batch_size: int = Field(8, ge=1, le=64)
    # The batch for a multilingual model (base): measured on the 60-minute episode, batch 4 took the same
    # wall time as 8 (329 s vs 330 s) and peaked at 1.18 GiB instead of 1.56 GiB.
    multilingual_batch_size: int = Field(4, ge=1, le=64)

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if value not in ENGINES:
            raise ValueError(f"unknown engine {value!r}; choose one of {', '.join(ENGINES)}")
        return value


class ModelSettings(BaseModel):
    hub_url: str = "https://huggingface.co"
    openai_base_url: str = "https://openaipublic.azureedge.net/main/whisper/models"


class LLMSettings(BaseModel):
    """An OpenAI-compatible chat-completions endpoint that may re-rank highlights (off by default)."""

    enabled: bool = False
    base_url: str = "https://api.openai.com/v1"
    # Prefer the CASTMILL_LLM_API_KEY environment variable over writing the key in a file.
    api_key: str = Field("", repr=False)
    model: str = "gpt-4o-mini"
    timeout: float = Field(30, gt=0)
    max_retries: int = Field(3, ge=0, le=10)
    # Only the best N candidates by feature score are sent (cost and latency stay bounded).
    max_candidates: int = Field(20, ge=1, le=100)
    # Share of the final score that comes from the model (the rest from the explained features).
    weight: float = Field(0.5, ge=0, le=1)


class ClipBounds(BaseModel):
    min_seconds: float = Field(gt=0)
    max_seconds: float = Field(gt=0)


class HighlightOverrides(BaseModel):
    """Per-client highlight settings in a client profile's ``[highlights]`` table."""

    min_seconds: float | None = Field(None, gt=0)
    max_seconds: float | None = Field(None, gt=0)
    # Feature name -> weight; only the features given change (see FeatureWeights).
    weights: dict[str, float] = {}
    # Platform name -> clip length bounds, e.g. tiktok = { min_seconds = 20, max_seconds = 60 }.
    platforms: dict[str, ClipBounds] = {}


class HighlightSettings(HighlightOverrides):
    top: int = Field(8, ge=1, le=50)
    min_seconds: float = Field(15, gt=0)
    max_seconds: float = Field(90, gt=0)
    llm: LLMSettings = LLMSettings()


class DraftSettings(BaseModel):
    # Rewrite each rendered draft with the LLM configured in [highlights.llm] (needs enabled = true there).
    llm_rewrite: bool = False


class NotifySettings(BaseModel):
    """Where failed, missed and unresolved posts are reported (once each): a JSON POST and/or email."""

    webhook_url: str = ""  # or CASTMILL_NOTIFY_WEBHOOK_URL
    email_to: list[str] = []
    email_from: str = "castmill@localhost"
    smtp_host: str = ""
    smtp_port: int = Field(25, gt=0, lt=65536)
    smtp_starttls: bool = False
    smtp_ssl: bool = False  # SMTPS (port 465) instead of plain/STARTTLS
    smtp_username: str = ""
    smtp_password: str = Field("", repr=False)  # from CASTMILL_SMTP_PASSWORD only; never written in the file

    @property
    def enabled(self) -> bool:
        return bool(self.webhook_url or (self.email_to and self.smtp_host))


class ReminderOverrides(BaseModel):
    """A client's own reminder timing (the profile's ``[reminders]`` table); unset fields keep [notices]'."""

    model_config = ConfigDict(extra="forbid")

    # Hours a draft may wait for the client's approval before the client is reminded.
    after_hours: float | None = Field(None, gt=0, le=24 * 60)
    # For a draft already on the calendar: remind this many hours before its slot (whichever comes first).
    before_slot_hours: float | None = Field(None, ge=0, le=24 * 60)
    # At most one reminder per draft per this many hours while it keeps waiting.
    every_hours: float | None = Field(None, ge=1, le=24 * 60)
    # Hours of waiting after which the VA is told the approval stalls.
    stall_after_hours: float | None = Field(None, gt=0, le=24 * 365)
    # false: this client gets no reminders (the VA still hears of stalls).
    enabled: bool | None = None


class EvergreenOverrides(BaseModel):
    """A client's own evergreen rules (the profile's ``[evergreen]`` table); unset fields keep castmill.toml's."""

    model_config = ConfigDict(extra="forbid")

    # Days that must pass after a text went out before a copy of it is queued again.
    min_interval_days: int | None = Field(None, ge=1, le=3650)
    # Recycled posts per platform per week (Monday to Sunday in the client's zone) at most.
    max_per_week: int | None = Field(None, ge=0, le=100)
    # true: a recycled post is approved by Castmill itself (audited as such); false: the VA, then the client.
    auto_approve: bool | None = None


class EvergreenSettings(EvergreenOverrides):
    """Recycling posts the VA marked evergreen into free posting slots (`castmill evergreen`)."""

    model_config = ConfigDict(extra="forbid")

    min_interval_days: int = Field(30, ge=1, le=3650)
    max_per_week: int = Field(2, ge=0, le=100)
    auto_approve: bool = False
    # Days ahead the recycler looks for a free slot.
    horizon_days: int = Field(14, ge=1, le=90)


class NoticeSettings(ReminderOverrides):
    """Reminders to clients whose approval is awaited, and notices to the VA (stalls, changes requested,
    failed and missed posts). Sent by the scheduler's pass through [notify]'s SMTP server, or to a user's
    webhook; each user chooses email, webhook or off, at once or in a daily digest (`castmill user notify`)."""

    model_config = ConfigDict(extra="forbid")

    after_hours: float = Field(24, gt=0, le=24 * 60)
    before_slot_hours: float = Field(24, ge=0, le=24 * 60)
    every_hours: float = Field(24, ge=1, le=24 * 60)
    stall_after_hours: float = Field(72, gt=0, le=24 * 365)
    enabled: bool = True
    # The hour (0-23, in each user's own time zone) of the daily digest for users who chose one.
    digest_hour: int = Field(8, ge=0, le=23)
    # Sends of one notification before it is left failed; the wait doubles from backoff_seconds each time.
    max_attempts: int = Field(8, ge=1, le=50)
    backoff_seconds: float = Field(60, gt=0)
    backoff_max_seconds: float = Field(6 * 3600, gt=0)
    # Hours the review link in a client's reminder works.
    review_link_hours: int = Field(72, ge=1, le=24 * 90)


# A host name in [network] allow: letters, digits, hyphens (and underscores) in dot-separated labels,
# optionally "*." in front for every name under a domain.
_HOST_NAME = re.compile(r"^(\*\.)?[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$")


class NetworkSettings(BaseModel):
    """Where Castmill may fetch user-supplied URLs: feeds, enclosures, feed artwork and webhooks."""

    # Feeds, enclosures, cover art and webhooks are fetched only from public internet addresses, over http or
    # https. Loopback (this machine), private (a LAN: 10/8, 172.16/12, 192.168/16, fc00::/7), link-local
    # (169.254/16 with the cloud metadata address 169.254.169.254, fe80::/10), multicast, reserved and
    # unspecified addresses are refused unless listed here. An entry is an IP address ("192.168.1.20"), a
    # network ("192.168.1.0/24", "fd00::/8") or a host name ("nas.local"; "*.lan" for every name under lan)
    # that may then point anywhere. No ports, no URLs. Empty: public addresses only.
    allow: list[str] = []  # or CASTMILL_NETWORK_ALLOW, comma-separated: "192.168.1.20,nas.local"

    @field_validator("allow")
    @classmethod
    def _entries(cls, value: list[str]) -> list[str]:
        return [allow_entry(entry) for entry in value]


def allow_entry(text: str) -> str:
    """One [network] allow entry in its canonical form (an address, a network or a lower-case host name);
    a ValueError in one line says what is wrong with anything else."""
    entry = str(text).strip()
    hint = "write an IP address (192.168.1.20), a network (192.168.1.0/24) or a host name (nas.local)"
    if not entry:
        raise ValueError(f"an empty entry; {hint}")
    if "://" in entry:
        raise ValueError(f"{entry!r} is a URL; {hint}")
    bare = entry[1:-1] if entry.startswith("[") and entry.endswith("]") else entry
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        pass
    if "/" in bare:
        try:
            return str(ipaddress.ip_network(bare, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not a network; {hint}") from None
    name = bare.lower().rstrip(".")
    if ":" in name and _HOST_NAME.match(name.rsplit(":", 1)[0]):
        raise ValueError(f"{entry!r} has a port; entries are hosts without ports: {name.rsplit(':', 1)[0]!r}")
    if len(name) > 253 or not _HOST_NAME.match(name):
        raise ValueError(f"{entry!r} is not an address, a network or a host name; {hint}")
    return name


class QueueSettings(BaseModel):
    """The PostgreSQL job queue behind ``castmill worker`` and ``castmill process --queue``."""

    concurrency: int = Field(1, ge=1, le=64)  # jobs one worker runs at once (threads)
    max_attempts: int = Field(4, ge=1, le=50)  # runs of a job, first included, before it is parked as failed
    retry_wait: float = Field(5, ge=0)  # seconds before the first retry of a transient failure; doubles after
    heartbeat: float = Field(10, gt=0)  # seconds between a worker's heartbeats
    stalled_after: float = Field(60, gt=0)  # a worker silent this long is dead: its running jobs go back to the queue
    graceful_timeout: float = Field(0, ge=0)  # on SIGTERM, seconds to let running jobs finish (0: wait until they do)


class FeedSettings(BaseModel):
    """Watched feeds (``castmill feeds add``): polled by ``castmill scheduler run``, new episodes processed once."""

    poll_minutes: float = Field(30, ge=1, le=24 * 60)  # minutes between two polls of one feed
    # A feed that fails (404, 500, timeout, refused) is polled again after poll_minutes × 2^failures, at most this.
    max_backoff_hours: float = Field(24, ge=1, le=24 * 14)
    # New episodes taken from one feed in one poll, newest first; the rest wait for the next poll.
    max_new_per_poll: int = Field(5, ge=1, le=100)
    # Put new episodes on the PostgreSQL job queue for `castmill worker`s instead of processing them in the
    # scheduler's process (like `castmill process --queue`); PostgreSQL only.
    queue: bool = False


class ServerSettings(BaseModel):
    """Castmill run as a service (``castmill serve``, the systemd units of ``castmill deploy``)."""

    # The address clients open, e.g. "https://review.example.com": review links, notices and
    # `castmill deploy`'s Caddy site use it. Or CASTMILL_PUBLIC_URL. Not set: the dashboard answers for the
    # address it listens on (``serve.dashboard.public_url_of``).
    public_url: str = "http://127.0.0.1:8501"
    # Where Streamlit listens. Behind Caddy keep 127.0.0.1: only the proxy is reachable from outside.
    dashboard_address: str = "127.0.0.1"
    dashboard_port: int = Field(8501, gt=0, lt=65536)
    # `castmill worker` processes `castmill serve` starts (PostgreSQL only; 0: none).
    workers: int = Field(0, ge=0, le=32)
    # Largest upload through the dashboard, in MB (Streamlit's server.maxUploadSize; Caddy allows the same).
    max_upload_mb: int = Field(2048, ge=1, le=20480)

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) address like https://review.example.com")
        if parts.query or parts.fragment:
            raise ValueError(f"{value!r} has a query or fragment; give the address the dashboard is opened at")
        return url


class BackupSettings(BaseModel):
    """The daily backup `castmill serve` takes (and the systemd timer of `castmill deploy`)."""

    # Folder for the daily archives; empty: <home>/backups. Better on another disk or a mounted share.
    folder: str = ""
    # When to take it, HH:MM in this machine's local time; "" turns the daily backup off.
    daily_at: str = Field("03:30", pattern=r"^$|^([01][0-9]|2[0-3]):[0-5][0-9]$")
    # Archives kept in that folder; older ones are deleted after each successful backup.
    keep: int = Field(14, ge=1, le=3650)


class BestTimeSettings(BaseModel):
    """Posting slots learned from the client's own engagement (``castmill slots propose``)."""

    # Published posts with settled numbers a platform needs before any proposal is made for it.
    min_posts: int = Field(30, ge=5, le=10000)
    # Width of a time-of-week bin in hours (a divisor of 24): 3 gives 7 x 8 = 56 bins, enough posts per
    # bin for a client posting a few times a week; 1 needs hundreds of posts to say anything.
    block_hours: int = 3
    # Only posts published within this many days count (older audiences and habits differ).
    lookback_days: int = Field(182, ge=7, le=3660)
    # A post's numbers count once they were fetched at least this many hours after publishing
    # (most engagement comes on the first day; a fresh post would look poor).
    settle_hours: float = Field(24, ge=0, le=720)
    # The prior's weight in posts: a bin's estimate is pulled toward the current slots' rate as if it
    # had this many more posts at that rate.
    prior_posts: float = Field(8, gt=0, le=1000)
    # A bin proposed instead of a current slot must beat that slot's estimate by this share (0.2: 20 %),
    # and the lower end of its interval must be above the current slots' rate.
    margin: float = Field(0.2, ge=0, le=5)
    # Posts a bin needs of its own before it can be proposed.
    min_bin_posts: int = Field(4, ge=1, le=1000)
    # Two-sided coverage of the intervals shown and tested (0.9: 90 %).
    confidence: float = Field(0.9, gt=0.5, lt=1)
    # Slots proposed for a platform that has none yet.
    new_slots: int = Field(3, ge=1, le=50)

    @field_validator("block_hours")
    @classmethod
    def _divides_the_day(cls, value: int) -> int:
        if value < 1 or 24 % value:
            raise ValueError(f"block_hours must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24), not {value}")
        return value


class Settings(BaseModel):
    home: Path
    storage: StorageSettings = StorageSettings()
    ingest: IngestSettings = IngestSettings()
    transcribe: TranscribeSettings = TranscribeSettings()
    models: ModelSettings = ModelSettings()
    highlights: HighlightSettings = HighlightSettings()
    drafts: DraftSettings = DraftSettings()
    notify: NotifySettings = NotifySettings()
    notices: NoticeSettings = NoticeSettings()
    queue: QueueSettings = QueueSettings()
    feeds: FeedSettings = FeedSettings()
    network: NetworkSettings = NetworkSettings()
    server: ServerSettings = ServerSettings()
    backup: BackupSettings = BackupSettings()
    best_time: BestTimeSettings = BestTimeSettings()
    evergreen: EvergreenSettings = EvergreenSettings()

    @property
    def rewrite_llm(self) -> LLMSettings | None:
        """The endpoint for draft rewriting, or None when rewriting is off."""
        llm = self.highlights.llm
        return llm if self.drafts.llm_rewrite and llm.enabled else None

    @property
    def database_url(self) -> str:
        return self.storage.database_url or f"sqlite:///{self.home / 'castmill.db'}"

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def media_cache_dir(self) -> Path:
        """Where media read from shared storage (S3) is kept on this machine, re-used while unchanged."""
        return self.home / "cache" / "media"


HEX_COLOUR = r"^#[0-9A-Fa-f]{6}$"


class CaptionStyleOverrides(BaseModel):
    """The client's own caption look, laid over the chosen preset; unset fields keep the preset's."""

    model_config = ConfigDict(extra="forbid")

    font: str | None = None  # a font family fontconfig knows, e.g. "DejaVu Sans"
    size: float | None = Field(None, gt=0.01, le=0.12)  # share of the frame height
    colour: str | None = Field(None, pattern=HEX_COLOUR)
    highlight: str | None = Field(None, pattern=HEX_COLOUR)  # the word being spoken
    outline: str | None = Field(None, pattern=HEX_COLOUR)
    outline_width: float | None = Field(None, ge=0, le=0.02)
    position: float | None = Field(None, ge=0.12, le=0.80)  # vertical centre, share of the height
    uppercase: bool | None = None
    # One colour per speaker for the words not being spoken: S1 the first, S2 the second … (cycling);
    # needs a diarized transcript. Empty or unset: every word in ``colour``.
    speaker_colours: list[str] | None = Field(None, max_length=12)

    @field_validator("speaker_colours")
    @classmethod
    def _hex_colours(cls, value: list[str] | None) -> list[str] | None:
        for colour in value or []:
            if len(colour) != 7 or colour[0] != "#" or any(c not in "0123456789abcdefABCDEF" for c in colour[1:]):
                raise ValueError(f"speaker colour {colour!r} is not #RRGGBB")
        return value


class CardSettings(BaseModel):
    """The client's quote cards: image posts with a pull quote, made by `castmill process` when [clips]
    kinds lists "card", or by `castmill clips card`."""

    model_config = ConfigDict(extra="forbid")

    background: str = "#14213D"  # colours are "#RRGGBB"
    text: str = "#F5F3EE"  # the quote and the show's name
    accent: str = "#FCA311"  # the rule above the quote and the speaker's name
    font: str = Field("DejaVu Serif", min_length=1)  # a font family fontconfig knows
    # 4:5 is the portrait feed post (1080×1350), 1:1 the square one (1080×1080): vocab.CARD_ASPECTS.
    sizes: list[CardAspect] = Field(["4:5", "1:1"], min_length=1)

    @field_validator("background", "text", "accent")
    @classmethod
    def _hex_colour(cls, value: str) -> str:
        if len(value) != 7 or value[0] != "#" or any(c not in "0123456789abcdefABCDEF" for c in value[1:]):
            raise ValueError(f"{value!r} is not a colour; write it as #RRGGBB, e.g. \"#14213D\"")
        return value


class ClipSettings(BaseModel):
    """Which clips `castmill process` renders for every highlight (none unless the profile says so)."""

    model_config = ConfigDict(extra="forbid")  # a misplaced top-level key under [clips] is an error

    kinds: list[ClipKind] = []
    aspects: list[Aspect] = ["9:16"]
    style: Literal["default", "upper", "minimal"] = "default"
    # The older framing switch for video clips: a centre crop, or the whole picture on a blurred copy.
    # It decides only while ``reframe`` is not given: fit = "blur" then means reframe = "fit", fit = "crop"
    # means reframe = "auto".
    fit: Literal["crop", "blur"] = "crop"
    # How a video clip is framed when its source is wider than the clip (16:9 -> 9:16). "auto": a crop
    # that follows the speaking face; two faces stacked ("split") when it cannot tell which face speaks
    # or the turns come too quickly; the whole picture on a blurred copy when there is no usable face;
    # a centre crop when faces cannot be looked for (a clip too short to sample). The choice and its
    # reason are stored with the clip. "centre": always a centre crop. "fit": always the blurred fit.
    # "split": two faces stacked wherever two are in every shot, else as "auto". A portrait source and
    # audiograms are never reframed.
    reframe: Literal["auto", "centre", "fit", "split"] = "auto"
    caption_style: CaptionStyleOverrides = CaptionStyleOverrides()
    # Cover art for audiograms when the feed has none (a path relative to the profile file);
    # with neither, a generated title card.
    cover: str = ""
    # The clip's JPEG thumbnail: a frame of the clip, or the title card.
    thumbnail: Literal["frame", "title"] = "frame"
    # Quote cards: colours, font and sizes (the [clips.card] table).
    card: CardSettings = CardSettings()

    @model_validator(mode="before")
    @classmethod
    def _reframe_from_fit(cls, data):
        if isinstance(data, dict) and data.get("reframe") is None:
            data = {**data, "reframe": cls.reframe_for(None, data.get("fit") or "crop")}
        return data

    @staticmethod
    def reframe_for(reframe: str | None, fit: str) -> str:
        """The reframe mode of a [clips] table, also one stored before ``reframe`` existed (see the field)."""
        return reframe or ("fit" if fit == "blur" else "auto")


class PostingSlot(BaseModel):
    """A recurring time the client posts on a platform, in the client's time zone."""

    model_config = ConfigDict(extra="forbid")

    platform: str
    days: list[Weekday]
    time: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")  # "09:00", local to the client


class ClientProfile(BaseModel):
    """A client as written in config/clients/*.toml."""

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    name: str = Field(min_length=1)
    timezone: str = "UTC"
    language: str = Field("en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    brand_voice: str = ""
    hashtags: list[str] = []
    platforms: list[str] = []
    # Platform name -> the client's handle there (available to templates as client.handles.x).
    handles: dict[str, str] = {}
    call_to_action: str = ""
    # Folder with the client's own templates (posts/<platform>[.<lang>].j2); relative to the profile file.
    templates_dir: str = ""
    highlights: HighlightOverrides = HighlightOverrides()
    clips: ClipSettings = ClipSettings()
    # 2: the VA reviews, then the client approves; 1: the client approves alone.
    approval_stages: Literal[1, 2] = 2
    posting_slots: list[PostingSlot] = []
    # Languages spoken on the show (Whisper codes, or "auto" to detect any); empty: just ``language``.
    # English only gets the small English model; anything else the multilingual one.
    languages: list[str] = []
    # Quote a highlight spoken in another language than ``language`` as a machine translation
    # (Whisper's translate task over the highlight's audio), labelled as such in review.
    # Whisper translates into English only, so this needs language = "en".
    translate_quotes: bool = False
    # When this client is reminded of drafts waiting for their approval; unset: [notices] of castmill.toml.
    reminders: ReminderOverrides = ReminderOverrides()
    # How this client's evergreen posts are recycled (auto_approve among them); unset: [evergreen] of castmill.toml.
    evergreen: EvergreenOverrides = EvergreenOverrides()
    # Who is speaking: "auto" labels every transcript's speakers (S1, S2 …, their number estimated),
    # a number (1-20) says how many speak, "off" skips diarization.
    speakers: int | Literal["auto", "off"] = "auto"

    @field_validator("speakers")
    @classmethod
    def _speaker_count(cls, value):
        if isinstance(value, int) and not 1 <= value <= 20:
            raise ValueError(f"speakers must be \"auto\", \"off\" or a number from 1 to 20, not {value}")
        return value

    @model_validator(mode="after")
    def _translation_into_english(self) -> "ClientProfile":
        if self.translate_quotes and not is_english(self.language):
            raise ValueError(f"translate_quotes: Whisper translates only into English, and the posts' language is "
                             f"{self.language!r}; set language = \"en\" or turn translate_quotes off")
        return self

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        return [check_spoken_language(code) for code in value]

    @field_validator("timezone")
    @classmethod
    def _real_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Asia/Jakarta)")
        return value


def check_spoken_language(code: str) -> str:
    """``code`` if Whisper knows it (or it is "auto"); else a ValueError that lists the codes."""
    if code == AUTO_LANGUAGE or code in WHISPER_LANGUAGES:
        return code
    raise ValueError(f"unknown spoken language {code!r}; use \"auto\" or one of: {', '.join(WHISPER_LANGUAGES)}")


def speakers_setting(stored: str | None) -> int | str:
    """The profile's ``speakers`` from its stored text: "auto", "off" or how many speak."""
    value = stored or "auto"
    return int(value) if value.isdigit() else value


def default_home() -> Path:
    return Path(os.environ.get("CASTMILL_HOME") or Path.home() / ".castmill").expanduser()


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", source=path) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError("not UTF-8 text", source=path) from exc


NETWORK_ALLOW_ENV = "CASTMILL_NETWORK_ALLOW"


def env_list(value: str) -> list[str]:
    """A comma-separated environment value as a list, blanks dropped."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _env_overrides() -> dict:
    overrides: dict = {}
    for variable, key in (("CASTMILL_DATABASE_URL", "database_url"), ("CASTMILL_MEDIA_URL", "media_url"),
                          ("CASTMILL_S3_ENDPOINT_URL", "s3_endpoint_url"), ("CASTMILL_S3_REGION", "s3_region")):
        if value := os.environ.get(variable):
            overrides.setdefault("storage", {})[key] = value
    if hub := os.environ.get("CASTMILL_MODEL_HUB_URL"):
        overrides.setdefault("models", {})["hub_url"] = hub
    if base := os.environ.get("CASTMILL_OPENAI_MODEL_URL"):
        overrides.setdefault("models", {})["openai_base_url"] = base
    if key := os.environ.get("CASTMILL_LLM_API_KEY"):
        overrides.setdefault("highlights", {}).setdefault("llm", {})["api_key"] = key
    if public_url := os.environ.get("CASTMILL_PUBLIC_URL"):
        overrides.setdefault("server", {})["public_url"] = public_url
    if allow := os.environ.get(NETWORK_ALLOW_ENV):
        overrides.setdefault("network", {})["allow"] = env_list(allow)
    return overrides



def _merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(home: Path | None = None) -> Settings:
    """Settings for ``home`` (default ``$CASTMILL_HOME`` or ``~/.castmill``)."""
    home = (home or default_home()).expanduser().resolve()
    data: dict = {}
    user_file = home / "castmill.toml"
    if user_file.is_file():
        data = _read_toml(user_file)
    data = _merge(data, _env_overrides())
    try:
        return Settings(home=home, **data)
    except ValidationError as exc:
        raise ConfigError(first_error(exc), source=user_file) from exc


def load_client_profile(path: Path) -> ClientProfile:
    try:
        profile = ClientProfile(**_read_toml(path))
    except ValidationError as exc:
        raise ConfigError(first_error(exc), source=path) from exc
    clips = profile.clips.model_copy(update={"cover": _cover_file(profile, Path(path))})
    return profile.model_copy(update={"templates_dir": _templates_dir(profile, Path(path)), "clips": clips})


def _cover_file(profile: ClientProfile, path: Path) -> str:
    """The profile's cover image made absolute; a named file that is not there is an error now, not at render time."""
    if not profile.clips.cover:
        return ""
    cover = (path.parent / profile.clips.cover).resolve()
    if not cover.is_file():
        raise ConfigError(f"clips.cover {profile.clips.cover!r} does not exist ({cover})", source=path)
    return str(cover)


def _templates_dir(profile: ClientProfile, path: Path) -> str:
    """The profile's templates folder made absolute; ``<profile folder>/<slug>/`` when it has posts/."""
    if profile.templates_dir:
        folder = (path.parent / profile.templates_dir).resolve()
        if not (folder / "posts").is_dir():
            raise ConfigError(f"templates_dir {profile.templates_dir!r} has no posts/ folder ({folder})", source=path)
        return str(folder)
    default = (path.parent / profile.slug).resolve()
    return str(default) if (default / "posts").is_dir() else ""


def first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    message = err["msg"].removeprefix("Value error, ")  # pydantic's prefix for our own ValueErrors
    return f"{where}: {message}" if where else message
