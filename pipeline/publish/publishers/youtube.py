"""YouTube Shorts through the YouTube Data API v3 (``videos.insert`` with the resumable upload protocol).

Flow (https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol):

1. ``POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`` with the video
   resource as JSON and ``X-Upload-Content-Length`` / ``X-Upload-Content-Type`` → the session URI
   in ``Location``. Nothing is visible yet;
2. ``PUT {session URI}`` with the bytes → the video resource. This creates the video, so a timeout
   here is ``OutcomeUnknown``.

Metadata: ``snippet.title`` is ``Post.title`` or the first line of the text (cut to 100 characters
at a word), ``snippet.description`` the text (plus the episode link), ``snippet.categoryId``
``extra["category_id"]`` (default 22, People & Blogs), ``status.privacyStatus``
``extra["privacy_status"]`` (default public). YouTube itself decides that a vertical video of up
to 3 minutes is a Short.

Idempotency marker: a video tag ``castmill-<idempotency key>``. Tags are stored with the video but
not shown to viewers; ``find_existing`` reads the channel's uploads playlist
(``channels?mine=true`` → ``playlistItems`` → ``videos?part=snippet``, 3 quota units) and looks
for the tag on the latest 50 uploads. The tag is unique to the scheduled post, so no time window
is needed; ``publish`` looks first only on a retry (``Post.first_attempt_at`` set), which saves
those units on every first attempt.

Quota: a project has a daily quota (10,000 units by default; an upload costs far more than a
read). ``403 quotaExceeded`` and the channel's ``uploadLimitExceeded`` are not retryable today:
they fail at once with a message saying when the limit resets.

Engagement (``fetch_engagement``, 1 unit): ``videos?part=statistics&id=…`` → ``likeCount``,
``commentCount``, ``viewCount`` (numbers as strings; a count the owner hid or disabled is left
out). YouTube has no reposts: 0.
"""

from __future__ import annotations

import re

import requests

from pipeline.publish.publishers.base import (AuthError, CredentialStatus, Engagement, MediaFile, OutcomeUnknown,
                                                Post, Published, PublishError, Publisher, caption_of, count_of,
                                                optional_count, retry_after_seconds)

TITLE_LIMIT = 100
MARKER_PREFIX = "castmill-"
AUTH_REASONS = frozenset({"authError", "forbidden", "insufficientPermissions", "accountDelegationForbidden",
                          "authenticatedUserAccountClosed", "authenticatedUserAccountSuspended",
                          "youtubeSignupRequired"})
RETRY_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "backendError"})


def marker_tag(idempotency_key: str) -> str:
    """The tag that identifies a scheduled post's video (letters, digits, '-' and '_' only)."""
    return MARKER_PREFIX + re.sub(r"[^A-Za-z0-9_-]", "", idempotency_key)[:60]


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with "…" when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut.rstrip(" ,;:.-") + "…"


class YouTubePublisher(Publisher):
    name = "youtube"
    media_kinds = ("video",)
    default_base_url = "https://www.googleapis.com"

    def publish(self, post: Post) -> Published:
        video = next((m for m in post.media if m.kind == "video"), None)
        if video is None:
            raise PublishError("youtube: a Short needs a video; this post has none")
        # No idempotency key on this API: on a retry, a video an earlier attempt did get out (its tag) is returned.
        if post.first_attempt_at is not None and (existing := self.find_existing(post)) is not None:
            return existing
        session_uri = self.start_session(video, self.metadata(post))
        resource = self.send_bytes(session_uri, video)
        video_id = str(resource.get("id") or "")
        if not video_id:
            raise OutcomeUnknown("youtube: the upload finished but the answer has no video id")
        return Published(video_id, f"https://www.youtube.com/shorts/{video_id}")

    def metadata(self, post: Post) -> dict:
        extra = self.account.extra
        description = caption_of(post)
        if post.link and post.link not in description:
            description = f"{description}\n\n{post.link}".strip()
        first_line = description.splitlines()[0] if description else ""
        return {
            "snippet": {"title": post.title.strip() or shorten(first_line, TITLE_LIMIT),
                        "description": description,
                        "tags": [marker_tag(post.idempotency_key)],
                        "categoryId": str(extra.get("category_id") or "22")},
            "status": {"privacyStatus": str(extra.get("privacy_status") or "public"),
                       "selfDeclaredMadeForKids": bool(extra.get("made_for_kids", False))},
        }

    def start_session(self, video: MediaFile, metadata: dict) -> str:
        response = self.request("POST", self.url("/upload/youtube/v3/videos"), sent=False,
                                params={"uploadType": "resumable", "part": "snippet,status"}, json=metadata,
                                headers={**self.auth(), "Content-Type": "application/json; charset=UTF-8",
                                         "X-Upload-Content-Length": str(video.path.stat().st_size),
                                         "X-Upload-Content-Type": video.mime})
        location = response.headers.get("Location")
        if not location:
            raise PublishError("youtube: the upload session answer has no Location", retryable=True)
        return location

    def send_bytes(self, session_uri: str, video: MediaFile) -> dict:
        size = video.path.stat().st_size
        with video.path.open("rb") as stream:
            response = self.request("PUT", session_uri, sent=True, data=stream, headers={
                **self.auth(), "Content-Type": video.mime, "Content-Length": str(size)})
        try:
            return response.json()
        except ValueError as exc:
            raise OutcomeUnknown("youtube: the upload finished but the answer was not JSON") from exc

    # ---------------------------------------------------------------- finding posts

    def find_existing(self, post: Post) -> Published | None:
        wanted = marker_tag(post.idempotency_key)
        ids = self.latest_upload_ids()
        if not ids:
            return None
        videos = self.get("/youtube/v3/videos", {"part": "snippet", "id": ",".join(ids)}).get("items") or []
        for item in videos:
            if wanted in ((item.get("snippet") or {}).get("tags") or []):
                return Published(str(item["id"]), f"https://www.youtube.com/shorts/{item['id']}")
        return None

    def latest_upload_ids(self) -> list[str]:
        channels = self.get("/youtube/v3/channels", {"part": "contentDetails", "mine": "true"}).get("items") or []
        if not channels:
            return []
        uploads = channels[0]["contentDetails"]["relatedPlaylists"]["uploads"]
        try:
            items = self.get("/youtube/v3/playlistItems", {"part": "contentDetails", "playlistId": uploads,
                                                           "maxResults": "50"}).get("items") or []
        except PublishError as exc:
            if exc.status == 404:  # playlistNotFound: a channel without any upload has no uploads playlist yet
                return []
            raise
        return [str(item["contentDetails"]["videoId"]) for item in items]

    def fetch_engagement(self, remote_id: str) -> Engagement | None:
        video_id = remote_id.strip()
        items = self.get("/youtube/v3/videos", {"part": "statistics", "id": video_id}).get("items") or []
        video = next((item for item in items if str(item.get("id")) == video_id), None)
        if video is None:
            raise PublishError(f"youtube: no video {video_id} on YouTube (deleted, or not visible to this account)")
        stats = video.get("statistics") or {}
        return Engagement(likes=count_of(stats.get("likeCount")), replies=count_of(stats.get("commentCount")),
                          views=optional_count(stats.get("viewCount")))

    def check_credentials(self) -> CredentialStatus:
        try:
            self.get("/youtube/v3/channels", {"part": "id", "mine": "true"})
        except PublishError as exc:
            return CredentialStatus(False, str(exc), self.account.expires_at)
        return CredentialStatus(True, "youtube: token accepted", self.account.expires_at)

    # ---------------------------------------------------------------- HTTP and errors

    def url(self, path: str) -> str:
        return (self.account.base_url or self.default_base_url).rstrip("/") + path

    def auth(self) -> dict[str, str]:
        if not self.account.token:
            raise AuthError("youtube: no access token for this account; reconnect it")
        return {"Authorization": f"Bearer {self.account.token}"}

    def get(self, path: str, params: dict) -> dict:
        response = self.request("GET", self.url(path), sent=False, params=params, headers=self.auth())
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise PublishError(f"youtube: unexpected answer from {path}", retryable=True)
        return body

    def error_message(self, response: requests.Response) -> str:
        message, reasons = _google_error(response)
        if message is None:
            return super().error_message(response)
        return f"{message} ({', '.join(reasons)})" if reasons else message

    def error_for(self, response: requests.Response) -> PublishError:
        message_text, reasons = _google_error(response)
        if message_text is None:
            return super().error_for(response)
        status = response.status_code
        message = f"youtube: HTTP {status}: {self.error_message(response)}"
        if "quotaExceeded" in reasons:
            return PublishError(f"{message}; the project's daily YouTube API quota is used up and resets at "
                                "midnight Pacific time; the post was not sent", status=status)
        if "uploadLimitExceeded" in reasons:
            return PublishError(f"{message}; the channel reached its daily upload limit, try again in 24 hours",
                                status=status)
        if RETRY_REASONS & set(reasons) or status == 429 or status >= 500:
            return PublishError(message, retryable=True, retry_after=retry_after_seconds(response), status=status)
        if status == 401 or (status == 403 and reasons and set(reasons) <= AUTH_REASONS):
            return AuthError(f"{message}; reconnect the account", status=status)
        return PublishError(message, status=status)


def _google_error(response: requests.Response) -> tuple[str | None, list[str]]:
    """(message, reasons) of a Google API error body, (None, []) when it is not one."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return None, []
    if not isinstance(error, dict):
        return None, []
    reasons = [str(e.get("reason")) for e in error.get("errors") or [] if isinstance(e, dict) and e.get("reason")]
    return str(error.get("message") or "no message"), reasons
