"""The publisher contract: one subclass per platform, over ``requests``.

The scheduler (``pipeline.publish.scheduler``) owns retries, leases and statuses; a
publisher does exactly one platform call sequence per ``publish`` and says what
happened in the platform's own terms:

- it returns a ``Published`` (remote id and URL) when the platform accepted the post;
- it raises ``PublishError`` with ``retryable`` set only when the platform says the
  error is temporary (429, 5xx, documented transient codes), and ``retry_after``
  from the ``Retry-After`` header when there is one;
- it raises ``AuthError`` for 401/403 and expired tokens (never retryable);
- it raises ``OutcomeUnknown`` when the request may have reached the platform but
  no answer came back (timeout, connection reset after sending). The scheduler
  then calls ``find_existing`` before anything is sent again.

``find_existing`` answers "was this post already published?" using the
platform's idempotency feature where it exists (Mastodon ``Idempotency-Key``,
Bluesky's client-chosen record key) or a search of the account's recent posts
for the idempotency key's marker. ``find_existing`` may itself raise
``OutcomeUnknown`` when the platform cannot tell (e.g. TikTok private posts are not
listed): the post then stays ``unknown`` and the VA is notified.

Matching by text needs a time window, because a caption may legitimately repeat ("New episode
out now!") and an old post with the same text must not pass for this one (the new post would
then silently never go out). ``Post.first_attempt_at`` is when the first attempt at this post
started:

- text-matching look-ups only consider platform posts created at or after
  ``first_attempt_at - LOOKUP_CLOCK_SKEW`` (``lookup_since``), judged by the creation time the
  platform lists; a listed post whose time cannot be read is not matched (``created_within``).
  With ``first_attempt_at`` None, ``find_existing`` keeps matching without a window;
- the look-up at the start of ``publish()`` ("did an earlier attempt get through?") is skipped
  entirely when ``first_attempt_at`` is None: nothing can exist yet, and it saves a read and
  the platform's quota.

Publishers with a real idempotency feature (Bluesky's record key, YouTube's tag, LinkedIn's
duplicate answer) need no window.
Tokens never appear in messages or logs.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import ClassVar

import requests

from pipeline.core.errors import CastmillError
from pipeline.media.safe_fetch import RefusedURL, safe_session

# Seconds for connecting and for each read; a publish that outlives these is OutcomeUnknown.
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 60

# Text matches may be this much older than our first attempt: the platform stamps a post with its
# own clock, ours may run ahead of it, and a post our first attempt created must still be found.
LOOKUP_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class MediaFile:
    path: Path
    kind: str  # "video" | "image" | "audio"
    mime: str  # "video/mp4", "image/jpeg", "audio/mpeg" …
    alt: str = ""  # alt text / description where the platform takes one


@dataclass(frozen=True)
class Post:
    """What to publish: the draft version's parts (a thread when more than one) and its media."""

    parts: tuple[str, ...]
    # Stable per scheduled post; the same key for every attempt at the same post.
    idempotency_key: str
    media: tuple[MediaFile, ...] = ()
    title: str = ""  # YouTube/TikTok title; ignored by platforms without one
    link: str = ""  # the episode link, where a platform has a separate link field
    # When the first attempt at this post started (UTC); None = this is the first attempt.
    first_attempt_at: datetime | None = None
    # What a long-form publisher needs of the client (newsletter layout, blog language):
    # {"client_name", "language", "templates_dir"}; empty for social posts.
    context: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Account:
    """One platform account of a client. ``token`` is resolved from the environment or the
    encrypted store by the caller; ``base_url`` points at the platform (or a local fake in tests)."""

    platform: str
    base_url: str
    token: str = ""
    handle: str = ""  # username / DID / page id / channel id, as the platform needs
    extra: dict = field(default_factory=dict)  # platform specifics (e.g. bluesky app password, IG user id)
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Published:
    remote_id: str
    url: str = ""
    note: str = ""  # something the VA should know, e.g. "posted privately: the TikTok app is not audited"


@dataclass(frozen=True)
class CredentialStatus:
    ok: bool
    message: str  # one line, no token in it
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Engagement:
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    views: int | None = None


class PublishError(CastmillError):
    """The platform refused or failed the post; ``str()`` carries the platform's own message."""

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None,
                 status: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


class AuthError(PublishError):
    """Credentials missing, wrong or expired: never retried, shown to the VA as 'reconnect'."""


class OutcomeUnknown(PublishError):
    """The request may have been accepted; reconcile with ``find_existing`` before any retry."""

    def __init__(self, message: str):
        super().__init__(message, retryable=False)


class QuotaExhausted(PublishError):
    """The platform's posting quota is used up; the post can be retried after ``resets_at``."""

    def __init__(self, message: str, *, resets_at: datetime | None = None):
        super().__init__(message, retryable=False)
        self.resets_at = resets_at


class Publisher:
    """Base class. Subclasses set ``name`` and implement ``publish`` and ``find_existing``."""

    name: ClassVar[str]
    # Media kinds this publisher can upload (others are refused before any call).
    media_kinds: ClassVar[tuple[str, ...]] = ("video", "image")

    def __init__(self, account: Account, http: requests.Session | None = None):
        self.account = account
        # An account's URL is user-supplied (a webhook, a Mastodon instance, a WordPress site): by default
        # every call goes through safe_fetch's checks with the [network] settings loaded from CASTMILL_HOME.
        self.http = http or safe_session()

    def publish(self, post: Post) -> Published:
        raise NotImplementedError

    def find_existing(self, post: Post) -> Published | None:
        raise NotImplementedError

    # Whether ``publish_comment`` and ``find_comment`` are implemented (a post's first comment).
    supports_comments: ClassVar[bool] = False

    def publish_comment(self, post_remote_id: str, text: str, *, key: str) -> Published:
        """Post ``text`` as the first comment (or self-reply) under our published post ``post_remote_id``.
        ``key`` is the same for every attempt at this comment. Errors as for ``publish``; the scheduler
        calls ``find_comment`` after an ``OutcomeUnknown`` before anything is sent again."""
        raise NotImplementedError

    def find_comment(self, post_remote_id: str, text: str, *, key: str) -> Published | None:
        """Our comment ``text`` (attempted under ``key``) under the post, when it exists; reads only."""
        raise NotImplementedError

    def check_credentials(self) -> CredentialStatus:
        return CredentialStatus(True, "no check available for this platform", self.account.expires_at)

    def fetch_engagement(self, remote_id: str) -> Engagement | None:
        """Engagement for a published post; None where the platform API offers none."""
        return None

    # -- shared HTTP handling: every subclass goes through ``request`` ---------------------------

    def request(self, method: str, url: str, *, sent: bool = True, **kwargs) -> requests.Response:
        """One HTTP call mapped onto the error classes above.

        ``sent=True`` (the default) marks a call that creates something on the platform: a
        timeout or dropped connection then means OutcomeUnknown. For reads and uploads that
        create nothing visible (``sent=False``) the same failures are plain retryable errors.
        """
        kwargs.setdefault("timeout", (CONNECT_TIMEOUT, READ_TIMEOUT))
        try:
            response = self.http.request(method, url, **kwargs)
        except RefusedURL as exc:  # nothing was sent; the path may hold a secret, so only the host is named
            raise PublishError(str(exc.seen_from(url, f"{self.name} URL", redact=True))) from None
        except requests.ConnectTimeout as exc:
            raise PublishError(f"{self.name}: could not connect to {self._host()}", retryable=True) from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            if sent:
                raise OutcomeUnknown(f"{self.name}: no answer from {self._host()} after sending") from exc
            raise PublishError(f"{self.name}: no answer from {self._host()}", retryable=True) from exc
        if response.status_code >= 400:
            raise self.error_for(response)
        return response

    def error_for(self, response: requests.Response) -> PublishError:
        status = response.status_code
        message = f"{self.name}: HTTP {status}: {self.error_message(response)}"
        if status in (401, 403):
            return AuthError(message, status=status)
        if status == 429 or status >= 500:
            return PublishError(message, retryable=True, retry_after=retry_after_seconds(response), status=status)
        return PublishError(message, status=status)

    def error_message(self, response: requests.Response) -> str:
        """The platform's own error text; subclasses override for their error shape."""
        try:
            body = response.json()
        except ValueError:
            return response.text[:200] or response.reason or "no message"
        if isinstance(body, dict):
            for key in ("error_description", "message", "error", "detail", "title"):
                value = body.get(key)
                if isinstance(value, str) and value:
                    return value
                if isinstance(value, dict) and isinstance(value.get("message"), str):
                    return value["message"]
        return str(body)[:200]

    def _host(self) -> str:
        return requests.utils.urlparse(self.account.base_url).netloc or self.account.base_url


def json_object(response: requests.Response) -> dict:
    """The response's JSON body when it is an object; {} for anything else (HTML error pages, lists, nothing)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def part_key(key: str, index: int) -> str:
    """The idempotency key of thread part ``index`` (0-based): ``key``, then ``key/2``, ``key/3`` …"""
    return key if index == 0 else f"{key}/{index + 1}"


def caption_of(post: Post) -> str:
    """One text for platforms without threads: the parts, separated by a blank line."""
    return "\n\n".join(part.strip() for part in post.parts if part.strip())


def normalized(text: str) -> str:
    """Text as compared when looking for an already-published post: NFC, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def int_or_none(value) -> int | None:
    """A number from an API answer (number or numeric text); None when missing or unreadable."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def count_of(value) -> int:
    """A count from an API answer (number or numeric text); 0 when missing or unreadable."""
    return int_or_none(value) or 0


def optional_count(value) -> int | None:
    """Like ``count_of`` but None when the platform gave no number (e.g. views not reported yet)."""
    return int_or_none(value) if not isinstance(value, bool) else None


def lookup_since(post: Post) -> datetime | None:
    """The earliest creation time a platform post may have to count as an attempt at ``post``
    (None: no window, any post with the same text counts)."""
    if post.first_attempt_at is None:
        return None
    first = post.first_attempt_at
    first = first.replace(tzinfo=timezone.utc) if first.tzinfo is None else first
    return first - LOOKUP_CLOCK_SKEW


def created_within(created, since: datetime | None) -> bool:
    """Whether a listed post created at ``created`` (the platform's value) may be an attempt at a post
    whose window starts at ``since``: always without a window, never when the time cannot be read."""
    if since is None:
        return True
    moment = platform_time(created)
    return moment is not None and moment >= since


def platform_time(value) -> datetime | None:
    """A platform's creation time as an aware datetime: ISO 8601 text (``2024-05-01T10:00:00+0000``,
    ``2024-05-01T10:00:00.000Z``; without an offset it is taken as UTC) or Unix seconds (a number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def retry_after_seconds(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None without one."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
        except (TypeError, ValueError):
            return None
