"""LinkedIn (Posts API, versioned ``/rest``): Videos/Images API upload, then ``POST /rest/posts``.

Contract (learn.microsoft.com/linkedin, Community Management API):

- Every call: ``Authorization: Bearer``, ``LinkedIn-Version: YYYYMM`` (a version stays active
  about a year; an old one answers 426 ``NONEXISTENT_VERSION``; override with
  ``account.extra["linkedin_version"]``) and ``X-Restli-Protocol-Version: 2.0.0``.
- ``POST /rest/posts`` ``{author, commentary, visibility, distribution, lifecycleState:
  PUBLISHED, content?}`` → 201 with the post URN in the ``x-restli-id`` header. The author is
  ``account.handle`` (``urn:li:person:…`` or ``urn:li:organization:…``).
- ``commentary`` is in LinkedIn's "little" text format: the reserved characters
  ``| { } @ [ ] ( ) < > # \\ * _ ~`` must be backslash-escaped or LinkedIn cuts or garbles the
  text; hashtags are written as the template ``{hashtag|#|tag}``. ``little_text`` does both.
- Video: ``POST /rest/videos?action=initializeUpload`` → upload instructions (byte ranges and
  URLs); ``PUT`` each part, keep its ``ETag``; ``POST /rest/videos?action=finalizeUpload``
  with the ETags; then ``GET /rest/videos/{urn}`` until ``AVAILABLE``. Images:
  ``POST /rest/images?action=initializeUpload`` then one ``PUT``.
- A repeated text is refused with 422 ``DUPLICATE_POST`` "Content is a duplicate of urn:li:share:…".
  On a retry (``post.first_attempt_at`` set) ``publish`` takes that URN as the published post: it is
  the earlier attempt. On a first attempt it is another, older post with the same words, so the
  refusal is reported as a failure (the VA changes the text), never as "published".

No idempotency key exists. ``find_existing`` lists the author's recent posts
(``GET /rest/posts?q=author``), which needs read permission (``r_member_social`` /
``r_organization_social``); without it (403) it answers None, and the retry that follows is still
safe because LinkedIn's duplicate check hands back the original URN.

First comment: ``POST /rest/socialActions/{post urn}/comments`` ``{actor, object, message: {text}}`` → 201
with the comment's id (``x-restli-id`` or ``id``); ``GET`` on the same path lists the post's comments,
which is how an unknown outcome is settled (our actor, the same text). Comment text is plain, not
"little" text.

Tokens live 60 days: ``check_credentials`` reports the expiry from ``account.expires_at`` and
warns within ``EXPIRY_WARNING``.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlparse

import requests

from pipeline.platforms import text as textlib
from pipeline.publish.publishers.base import (Account, AuthError, CredentialStatus, Engagement, MediaFile, Post,
                                                Published, PublishError, Publisher)

DEFAULT_API = "https://api.linkedin.com"
API_VERSION = "202609"  # the latest LinkedIn-Version listed in September 2026; active until about 2027-09
EXPIRY_WARNING = timedelta(days=7)
RECENT_POSTS = 50
_RESERVED = set("|{}@[]()<>#\\*_~")
_DUPLICATE_URN = re.compile(r"duplicate of (urn:li:(?:share|ugcPost):\d+)")


def little_text(text: str) -> str:
    """``text`` as LinkedIn "little" commentary: reserved characters escaped, hashtags as templates."""
    out, position = [], 0
    for span in textlib.find_hashtags(text):
        out.append(_escape(text[position:span.start]))
        out.append("{hashtag|" + span.text[0] + "|" + _escape(span.text[1:]) + "}")
        position = span.end
    out.append(_escape(text[position:]))
    return "".join(out)


def _escape(text: str) -> str:
    return "".join("\\" + ch if ch in _RESERVED else ch for ch in text)


def expiry_status(account: Account, now: datetime | None = None) -> CredentialStatus | None:
    """A warning or failure about ``account.expires_at``; None when it is far off or unknown."""
    if account.expires_at is None:
        return None
    now = now or datetime.now(timezone.utc)
    expires = account.expires_at if account.expires_at.tzinfo else account.expires_at.replace(tzinfo=timezone.utc)
    day = expires.strftime("%Y-%m-%d")
    if expires <= now:
        return CredentialStatus(False, f"{account.platform}: the token expired on {day} — reconnect the account", expires)
    if expires - now <= EXPIRY_WARNING:
        days = max(1, round((expires - now) / timedelta(days=1)))
        return CredentialStatus(True, f"{account.platform}: the token expires in {days} day{'s' if days > 1 else ''} "
                                      f"({day}) — reconnect the account before then", expires)
    return None


class LinkedInPublisher(Publisher):
    name = "linkedin"
    media_kinds = ("video", "image")
    video_poll_interval = 2.0  # seconds between GET /rest/videos/{urn} while PROCESSING
    video_poll_timeout = 900.0

    # ------------------------------------------------------------------ publishing

    def publish(self, post: Post) -> Published:
        if len(post.parts) > 1:
            raise PublishError("linkedin: LinkedIn has no threads; publish a single part")
        body = {
            "author": self._author(),
            "commentary": little_text(post.parts[0] if post.parts else ""),
            "visibility": self.account.extra.get("visibility", "PUBLIC"),
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if post.media:
            body["content"] = self._content(post)
        try:
            response = self.request("POST", self._url("/rest/posts"), json=body, headers=self._headers())
        except PublishError as exc:
            duplicate = _DUPLICATE_URN.search(str(exc)) if exc.status == 422 else None
            if duplicate and post.first_attempt_at is not None:
                return _published(duplicate.group(1))
            if duplicate:
                raise PublishError(f"linkedin: LinkedIn refuses this text as a duplicate of an earlier post "
                                   f"({duplicate.group(1)}); change the words and schedule it again",
                                   status=422) from exc
            raise
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        if not urn:
            raise PublishError("linkedin: the post was accepted but LinkedIn sent no x-restli-id")
        return _published(urn)

    def find_existing(self, post: Post) -> Published | None:
        wanted = _comparable(little_text(post.parts[0] if post.parts else ""))
        params = {"q": "author", "author": self._author(), "count": RECENT_POSTS, "sortBy": "LAST_MODIFIED"}
        try:
            response = self._get("/rest/posts", params=params)
        except AuthError as exc:
            if exc.status == 403:  # no read permission: see the module docstring
                return None
            raise
        for element in reversed(response.json().get("elements") or []):  # oldest first
            if _comparable(element.get("commentary", "")) == wanted and element.get("lifecycleState") != "DELETED":
                return _published(element["id"])
        return None

    supports_comments = True

    def publish_comment(self, post_remote_id: str, text: str, *, key: str) -> Published:
        body = {"actor": self._author(), "object": post_remote_id, "message": {"text": text}}
        response = self.request("POST", self._comments_url(post_remote_id), json=body, headers=self._headers())
        comment_id = response.headers.get("x-restli-id") or (response.json() if response.content else {}).get("id")
        if not comment_id:
            raise PublishError("linkedin: the comment was accepted but LinkedIn sent no id")
        return _published_comment(post_remote_id, str(comment_id))

    def find_comment(self, post_remote_id: str, text: str, *, key: str) -> Published | None:
        response = self.request("GET", self._comments_url(post_remote_id), sent=False, headers=self._headers())
        wanted = _comparable(text)
        for element in response.json().get("elements") or []:
            if element.get("actor") == self._author() and \
                    _comparable((element.get("message") or {}).get("text", "")) == wanted:
                return _published_comment(post_remote_id, str(element.get("id")))
        return None

    def _comments_url(self, post_remote_id: str) -> str:
        return self._url(f"/rest/socialActions/{quote(post_remote_id, safe='')}/comments")

    def check_credentials(self) -> CredentialStatus:
        expiry = expiry_status(self.account)
        if expiry is not None and not expiry.ok:
            return expiry
        try:
            self._get("/v2/userinfo")
        except AuthError as exc:
            if exc.status == 401:
                return CredentialStatus(False, f"{exc} — reconnect the account", self.account.expires_at)
        except PublishError as exc:
            return CredentialStatus(False, str(exc), self.account.expires_at)
        if expiry is not None:
            return expiry
        until = f" until {self.account.expires_at:%Y-%m-%d}" if self.account.expires_at else ""
        return CredentialStatus(True, f"linkedin: token accepted{until}", self.account.expires_at)

    def fetch_engagement(self, remote_id: str) -> Engagement | None:
        try:
            actions = self._get(f"/rest/socialActions/{quote(remote_id, safe='')}").json()
        except AuthError:
            return None  # reading social actions needs a permission the app may not have
        return Engagement(likes=(actions.get("likesSummary") or {}).get("totalLikes", 0),
                          replies=(actions.get("commentsSummary") or {}).get("aggregatedTotalComments", 0))

    # ------------------------------------------------------------------ media

    def _content(self, post: Post) -> dict:
        videos = [m for m in post.media if m.kind == "video"]
        images = [m for m in post.media if m.kind == "image"]
        if len(videos) + len(images) != len(post.media) or (videos and (images or len(videos) > 1)):
            raise PublishError("linkedin: a post carries one video, or images, nothing else")
        if videos:
            return {"media": {"id": self._upload_video(videos[0]), "title": post.title or videos[0].path.stem}}
        uploaded = [{"id": self._upload_image(image), "altText": image.alt} for image in images]
        if len(uploaded) == 1:
            return {"media": uploaded[0]}
        return {"multiImage": {"images": uploaded}}

    def _upload_video(self, item: MediaFile) -> str:
        size = item.path.stat().st_size
        init = {"initializeUploadRequest": {"owner": self._author(), "fileSizeBytes": size,
                                            "uploadCaptions": False, "uploadThumbnail": False}}
        value = self._post_json("/rest/videos?action=initializeUpload", init)["value"]
        etags = []
        with open(item.path, "rb") as handle:
            for part in value["uploadInstructions"]:
                handle.seek(part["firstByte"])
                chunk = handle.read(part["lastByte"] - part["firstByte"] + 1)
                answer = self.request("PUT", part["uploadUrl"], sent=False, data=chunk,
                                      headers=self._upload_headers(part["uploadUrl"]))
                etags.append(answer.headers.get("ETag", "").strip('"'))
        finalize = {"finalizeUploadRequest": {"video": value["video"], "uploadToken": value.get("uploadToken", ""),
                                              "uploadedPartIds": etags}}
        self._post_json("/rest/videos?action=finalizeUpload", finalize)
        self._wait_available(value["video"])
        return value["video"]

    def _wait_available(self, video: str) -> None:
        deadline = time.monotonic() + self.video_poll_timeout
        while True:
            status = self._get(f"/rest/videos/{quote(video, safe='')}").json().get("status")
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                raise PublishError(f"linkedin: LinkedIn could not process the video {video}")
            if time.monotonic() >= deadline:
                raise PublishError(f"linkedin: video still {status} after {self.video_poll_timeout:.0f} s",
                                   retryable=True)
            time.sleep(self.video_poll_interval)

    def _upload_image(self, item: MediaFile) -> str:
        value = self._post_json("/rest/images?action=initializeUpload",
                                {"initializeUploadRequest": {"owner": self._author()}})["value"]
        with open(item.path, "rb") as handle:
            self.request("PUT", value["uploadUrl"], sent=False, data=handle,
                         headers=self._upload_headers(value["uploadUrl"]))
        return value["image"]

    def _upload_headers(self, upload_url: str) -> dict[str, str]:
        """The bearer goes to LinkedIn's own upload hosts only, never to a foreign URL."""
        host = urlparse(upload_url).hostname or ""
        ours = host == urlparse(self._url("/")).hostname or host == "linkedin.com" or host.endswith(".linkedin.com")
        headers = {"Content-Type": "application/octet-stream"}
        return {**headers, "Authorization": f"Bearer {self.account.token}"} if ours else headers

    # ------------------------------------------------------------------ HTTP

    def _post_json(self, path: str, body: dict) -> dict:
        response = self.request("POST", self._url(path), sent=False, json=body, headers=self._headers())
        return response.json() if response.content else {}

    def _get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", self._url(path), sent=False, headers=self._headers(), **kwargs)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.token}",
                "LinkedIn-Version": str(self.account.extra.get("linkedin_version", API_VERSION)),
                "X-Restli-Protocol-Version": "2.0.0"}

    def _author(self) -> str:
        if not self.account.handle.startswith("urn:li:"):
            raise PublishError("linkedin: the account handle must be the author URN (urn:li:person:… or "
                               "urn:li:organization:…)")
        return self.account.handle

    def _url(self, path: str) -> str:
        return (self.account.base_url or DEFAULT_API).rstrip("/") + path

    def error_message(self, response: requests.Response) -> str:
        message = super().error_message(response)
        try:
            code = response.json().get("code")
        except (ValueError, AttributeError):
            code = None
        return f"{code}: {message}" if isinstance(code, str) and code not in message else message


def _comparable(commentary: str) -> str:
    return "".join(commentary.split())


def _published_comment(post_urn: str, comment_id: str) -> Published:
    return Published(remote_id=comment_id, url=f"https://www.linkedin.com/feed/update/{post_urn}/")


def _published(urn: str) -> Published:
    return Published(remote_id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")
