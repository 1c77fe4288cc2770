"""Shared Meta Graph API plumbing for the Instagram, Facebook and Threads publishers.

- **Auth**: the access token travels in an ``Authorization: Bearer`` header. The Graph API accepts
  it there as well as in ``access_token`` (restfb/restfb#1107, huandu/facebook#205); a header keeps
  it out of URLs, proxies and logs.
- **Errors**: ``{"error": {"message", "type", "code", "error_subcode", "is_transient",
  "error_user_msg"}}`` (https://developers.facebook.com/docs/graph-api/guides/error-handling).
  The HTTP status says little (most errors are 400), so the ``code`` decides: 190/102 = expired or
  invalid token, 10 and 200–299 = permission missing (both "reconnect"); 4, 17, 32, 613 = throttling
  and 1, 2, 341, 368 = temporary trouble (wait and retry), as is anything ``is_transient``.
- **Containers** (Instagram and Threads): create a media container, poll its status with a
  bounded exponential backoff until it is FINISHED (ERROR/EXPIRED fail with the platform's words),
  then publish it. Only the publish call makes something visible, so only it is ``sent=True``.
- **Engagement reads** (``fetch_engagement``): a node's count fields and its insights edge
  (``{"data": [{"name", "period", "values": [{"value"}]}]}``, read by ``insight_values``). Insights
  need their own permission (``instagram_manage_insights``, ``threads_manage_insights``,
  ``pages_read_engagement``); a permission error names it (``PermissionMissing``).
- **Finding a post again**: none of these APIs has an idempotency key, so ``find_existing``
  compares the post's text (caption / message / description, whitespace-normalized) with the
  account's most recent posts, counting only those created since ``base.lookup_since(post)`` (by
  their ``timestamp`` / ``created_time``) so that an old post with the same caption is not taken
  for this one. ``publish`` only looks on a retry (``Post.first_attempt_at`` set).
- **First comments** (Instagram and Facebook, ``comment_text_field`` set): ``POST /{media-or-post-id}/comments``
  with ``message`` → ``{id}``; the same edge read back (newest first) finds a comment an unknown outcome
  may have left, by its text under our post.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

import requests
from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_exponential

from pipeline.publish.publishers.base import (Account, AuthError, CredentialStatus, MediaFile, OutcomeUnknown,
                                                Published, PublishError, Publisher, created_within, int_or_none,
                                                normalized, retry_after_seconds)

# Graph error codes (error-handling guide, "Error Codes" table).
TOKEN_CODES = frozenset({102, 190})  # API session / access token expired: get a new token
THROTTLING_CODES = frozenset({4, 17, 32, 341, 613})  # too many calls: wait and retry
TEMPORARY_CODES = frozenset({1, 2, 368})  # unknown / service downtime / temporarily blocked: wait and retry
PERMISSION_CODE = 10  # permission denied; 200-299 are permission errors too

# How many recent posts ``find_existing`` looks through (one page of the edge).
RECENT_POSTS = 25


@dataclass(frozen=True)
class GraphError:
    """The ``error`` object of a Graph API answer."""

    message: str
    code: int | None = None
    subcode: int | None = None
    transient: bool = False

    @classmethod
    def of(cls, response: requests.Response) -> "GraphError | None":
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            return None
        if not isinstance(error, dict):
            return None
        message = error.get("error_user_msg") or error.get("message") or "no message"
        return cls(str(message), int_or_none(error.get("code")), int_or_none(error.get("error_subcode")),
                   bool(error.get("is_transient")))

    def describe(self) -> str:
        codes = f"code {self.code}" + (f"/{self.subcode}" if self.subcode else "")
        return f"{self.message} ({codes})"


class PermissionMissing(AuthError):
    """A Graph permission error (code 10 or 200–299): the token works but lacks a permission."""

    def __init__(self, detail: str, *, needed: str = "", status: int | None = None):
        what = f"a permission is missing ({needed})" if needed else "a permission is missing"
        super().__init__(f"{detail}; {what}: reconnect the account", status=status)
        self.detail = detail

    def needing(self, permission: str) -> "PermissionMissing":
        return PermissionMissing(self.detail, needed=permission, status=self.status)


def public_url(account: Account, media: MediaFile) -> str:
    """Where Meta's servers download ``media`` from.

    Instagram and Threads fetch media themselves ("media must be hosted on a publicly accessible
    server"), so the account says where its clips are published: ``extra["media_base_url"]`` is
    the public bucket / folder the VA syncs rendered clips to, and a clip's URL is that base plus
    the file's name (``https://cdn.example.com/acme/clips/`` + ``ep12-h3.mp4``).
    """
    base = str(account.extra.get("media_base_url") or "").strip()
    if not base:
        raise PublishError(f"{account.platform}: the account has no media_base_url; {account.platform} downloads "
                           "videos from a public URL, so set extra.media_base_url to where the clips are served")
    return base.rstrip("/") + "/" + requests.utils.quote(media.path.name)


class GraphPublisher(Publisher):
    """Base for publishers on a Meta Graph API host."""

    default_base_url: ClassVar[str] = "https://graph.facebook.com"
    api_version: ClassVar[str] = "v21.0"
    # Container polling: waits of 2, 4, 8, 16, 30, 30 … s, at most ``poll_attempts`` checks
    # (about five minutes, the Threads guide's "no more than 5 minutes").
    poll_first_wait: ClassVar[float] = 2.0
    poll_max_wait: ClassVar[float] = 30.0
    poll_attempts: ClassVar[int] = 13
    # Container status field and the fields that carry its failure reason.
    status_field: ClassVar[str] = "status_code"
    status_detail_fields: ClassVar[tuple[str, ...]] = ("status",)

    def __init__(self, account: Account, http: requests.Session | None = None):
        super().__init__(account, http)
        self.sleep = time.sleep  # tests swap in a recorder

    # ---------------------------------------------------------------- HTTP

    def api_root(self) -> str:
        return (self.account.base_url or self.default_base_url).rstrip("/")

    def graph_url(self, path: str) -> str:
        return f"{self.api_root()}/{self.api_version}/{path.lstrip('/')}"

    def graph(self, method: str, path: str, *, sent: bool, params: dict | None = None,
              data: dict | None = None) -> dict:
        """One Graph call with the token in the header; the JSON answer."""
        self.require_token()
        response = self.request(method, self.graph_url(path), sent=sent, params=params, data=data,
                                headers={"Authorization": f"Bearer {self.account.token}"})
        return self.json_of(response, published=sent)

    def json_of(self, response: requests.Response, *, published: bool = False) -> dict:
        """The JSON object of an answer; garbage after a publishing call leaves the outcome unknown."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            return body
        if published:
            raise OutcomeUnknown(f"{self.name}: {self._host()} accepted the call but its answer was not JSON")
        raise PublishError(f"{self.name}: unexpected answer from {self._host()} (not a JSON object)",
                           retryable=True, status=response.status_code)

    def require_token(self) -> None:
        if not self.account.token:
            raise AuthError(f"{self.name}: no access token for this account; reconnect it")

    def user_id(self) -> str:
        """The IG user / Page / Threads user id the account publishes as (``Account.handle``)."""
        user = str(self.account.extra.get("user_id") or self.account.handle or "").strip()
        if not user:
            raise PublishError(f"{self.name}: the account has no user id (set its handle to the numeric id)")
        return user

    # ---------------------------------------------------------------- errors

    def error_message(self, response: requests.Response) -> str:
        error = GraphError.of(response)
        return error.describe() if error else super().error_message(response)

    def error_for(self, response: requests.Response) -> PublishError:
        error = GraphError.of(response)
        if error is None:
            return super().error_for(response)
        status = response.status_code
        message = f"{self.name}: {error.describe()}"
        specific = self.platform_error(error, message, response)
        if specific is not None:
            return specific
        if error.code in TOKEN_CODES:
            return AuthError(f"{message}; the access token expired or was revoked: reconnect the account",
                             status=status)
        if error.code == PERMISSION_CODE or (error.code is not None and 200 <= error.code <= 299):
            return PermissionMissing(message, status=status)
        if error.transient or error.code in THROTTLING_CODES | TEMPORARY_CODES or status == 429 or status >= 500:
            return PublishError(message, retryable=True, retry_after=graph_retry_after(response), status=status)
        return PublishError(message, status=status)

    def platform_error(self, error: GraphError, message: str, response: requests.Response) -> PublishError | None:
        """Hook: a platform's own reading of an error code (None = the shared mapping)."""
        return None

    # ---------------------------------------------------------------- containers

    def wait_until_finished(self, container_id: str) -> None:
        """Poll a container until FINISHED; bounded exponential backoff between checks."""
        retrying = Retrying(
            retry=retry_if_result(lambda state: state[0] == "IN_PROGRESS"),
            wait=wait_exponential(multiplier=self.poll_first_wait, max=self.poll_max_wait),
            stop=stop_after_attempt(self.poll_attempts),
            sleep=lambda seconds: self.sleep(seconds),
            retry_error_callback=lambda retry_state: retry_state.outcome.result(),
        )
        state, detail = retrying(self.container_state, container_id)
        if state == "FINISHED":
            return
        if state == "IN_PROGRESS":
            raise PublishError(f"{self.name}: the media was still processing after {self.poll_attempts} checks; "
                               "nothing was published, try again later", retryable=True)
        why = f": {detail}" if detail else ""
        if state == "EXPIRED":
            raise PublishError(f"{self.name}: the media container expired before publishing{why}", retryable=True)
        raise PublishError(f"{self.name}: the platform could not process the media (status {state}){why}")

    def container_state(self, container_id: str) -> tuple[str, str]:
        fields = ",".join((self.status_field, *self.status_detail_fields))
        body = self.graph("GET", container_id, sent=False, params={"fields": fields})
        detail = " ".join(str(body[name]) for name in self.status_detail_fields if body.get(name))
        return str(body.get(self.status_field) or "IN_PROGRESS").upper(), detail

    def check_quota(self, edge: str, *, usage_field: str = "quota_usage", config_field: str = "config",
                    what: str = "posts") -> None:
        """Refuse before creating anything when the rolling 24-hour publishing quota is used up."""
        body = self.graph("GET", f"{self.user_id()}/{edge}", sent=False,
                          params={"fields": f"{usage_field},{config_field}"})
        rows = body.get("data") or [{}]
        used = int_or_none(rows[0].get(usage_field)) or 0
        config = rows[0].get(config_field) or {}
        total = int_or_none(config.get("quota_total"))
        if total is not None and used >= total:
            hours = (int_or_none(config.get("quota_duration")) or 86400) / 3600
            raise PublishError(f"{self.name}: publishing quota used up ({used} of {total} {what} in the last "
                               f"{hours:g} hours); the post was not sent, schedule it for later")

    # ---------------------------------------------------------------- finding posts

    def recent(self, edge: str, fields: str, limit: int = RECENT_POSTS) -> list[dict]:
        """The newest items of one of the account's edges (one page)."""
        body = self.graph("GET", f"{self.user_id()}/{edge}", sent=False,
                          params={"fields": fields, "limit": str(limit)})
        return [item for item in body.get("data") or [] if isinstance(item, dict)]

    # The field a listed comment's text is in ("text" on Instagram, "message" on Facebook; those set
    # ``supports_comments``); "" = no comments.
    comment_text_field: ClassVar[str] = ""

    def publish_comment(self, post_remote_id: str, text: str, *, key: str) -> Published:
        if not self.comment_text_field:
            raise NotImplementedError
        body = self.graph("POST", f"{quoted(post_remote_id)}/comments", sent=True, data={"message": text})
        return Published(id_from(body, self.name, "comment", published=True), "")

    def find_comment(self, post_remote_id: str, text: str, *, key: str) -> Published | None:
        if not self.comment_text_field:
            raise NotImplementedError
        body = self.graph("GET", f"{quoted(post_remote_id)}/comments", sent=False,
                          params={"fields": f"id,{self.comment_text_field}", "limit": str(RECENT_POSTS)})
        items = [item for item in body.get("data") or [] if isinstance(item, dict)]
        found = find_by_text(items, self.comment_text_field, text)
        return Published(str(found["id"]), "") if found else None

    def permalink(self, media_id: str) -> str:
        """Best effort: the post is already published, so a failure here must not hide that."""
        try:
            return str(self.graph("GET", media_id, sent=False, params={"fields": "permalink"}).get("permalink") or "")
        except PublishError:
            return ""

    # ---------------------------------------------------------------- engagement reads

    def read_node(self, node: str, fields: str, *, permission: str) -> dict:
        """``GET /{node}?fields=…``; a permission error names ``permission``."""
        with naming(permission):
            return self.graph("GET", quoted(node), sent=False, params={"fields": fields})

    def read_insights(self, node: str, metrics: str, *, permission: str, edge: str = "insights") -> dict[str, object]:
        """``GET /{node}/{edge}?metric=…`` as ``{metric: value}``; a metric Meta has no data for yet is absent."""
        with naming(permission):
            body = self.graph("GET", f"{quoted(node)}/{edge}", sent=False, params={"metric": metrics})
        return insight_values(body)

    def check_credentials(self) -> CredentialStatus:
        try:
            self.graph("GET", "me", sent=False, params={"fields": "id"})
        except AuthError as exc:
            return CredentialStatus(False, str(exc), self.account.expires_at)
        except PublishError as exc:
            return CredentialStatus(False, f"could not check: {exc}", self.account.expires_at)
        return CredentialStatus(True, f"{self.name}: token accepted", self.account.expires_at)


@contextmanager
def naming(permission: str) -> Iterator[None]:
    """Turn a permission error inside the block into one that names the permission the read needs."""
    try:
        yield
    except PermissionMissing as exc:
        raise exc.needing(permission) from exc


def quoted(node: str) -> str:
    """A remote id as one path segment (ids come from the database, never trusted as a path)."""
    return requests.utils.quote(str(node).strip(), safe="_")


def insight_values(body: dict) -> dict[str, object]:
    """An insights answer ``{"data": [{"name", "period": "lifetime", "values": [{"value"}]}]}`` as
    ``{name: value}``. Meta leaves out metrics it has no data for yet ("an empty data set instead of 0")."""
    values: dict[str, object] = {}
    for row in body.get("data") or []:
        listed = [v for v in row.get("values") or [] if isinstance(v, dict) and "value" in v] \
            if isinstance(row, dict) and row.get("name") else []
        if listed:
            values[str(row["name"])] = listed[-1]["value"]
    return values


def find_by_text(items: Iterable[dict], key: str, text: str, *, since: datetime | None = None,
                 time_key: str = "timestamp") -> dict | None:
    """The first item whose ``key`` text equals ``text`` once both are normalized and whose creation
    time (``time_key``, Graph's ISO 8601) is at or after ``since`` (None: any time)."""
    wanted = normalized(text)
    if not wanted:
        return None
    for item in items:
        if normalized(str(item.get(key) or "")) == wanted and created_within(item.get(time_key), since):
            return item
    return None


def id_from(body: dict, platform: str, what: str, *, published: bool) -> str:
    """The ``id`` of an answer. Missing after a publish call means the post may exist: OutcomeUnknown."""
    value = body.get("id")
    if value:
        return str(value)
    if published:
        raise OutcomeUnknown(f"{platform}: the platform accepted the {what} but returned no id")
    raise PublishError(f"{platform}: the answer has no {what} id", retryable=True)


def graph_retry_after(response: requests.Response) -> float | None:
    """Seconds to wait: ``Retry-After``, else the ``estimated_time_to_regain_access`` (minutes) Meta
    puts in its ``X-Business-Use-Case-Usage`` header when it throttles."""
    header = retry_after_seconds(response)
    if header is not None:
        return header
    usage = response.headers.get("X-Business-Use-Case-Usage")
    if not usage:
        return None
    try:
        entries = [entry for group in json.loads(usage).values() for entry in group]
        minutes = max(float(entry.get("estimated_time_to_regain_access") or 0) for entry in entries)
    except (ValueError, TypeError, AttributeError):
        return None
    return minutes * 60 if minutes > 0 else None
