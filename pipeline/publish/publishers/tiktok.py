"""TikTok through the Content Posting API (Direct Post, video uploaded from a file).

Flow (https://developers.tiktok.com/doc/content-posting-api-reference-direct-post):

1. ``POST /v2/post/publish/creator_info/query/`` → the ``privacy_level_options`` this creator may
   use. Unaudited API clients may only post ``SELF_ONLY`` (private) videos ("All content posted by
   unaudited clients will be restricted to private viewing mode"), so the privacy is
   ``Account.extra["privacy_level"]`` when set, else ``PUBLIC_TO_EVERYONE`` for an audited client
   (``extra["audited"] = True``) and ``SELF_ONLY`` otherwise. The result says which was used;
2. ``POST /v2/post/publish/video/init/`` with ``post_info`` (``title`` = the caption, ≤ 2,200
   UTF-16 units; ``privacy_level``) and ``source_info`` (``FILE_UPLOAD``, ``video_size``,
   ``chunk_size``, ``total_chunk_count``) → ``publish_id`` and ``upload_url``;
3. ``PUT {upload_url}`` per chunk with ``Content-Range: bytes first-last/total`` (chunk rules of the
   Media Transfer Guide: a file up to 64 MB goes whole, larger ones in 10 MB chunks whose last one
   takes the remainder). Completing the last chunk hands the post to TikTok, so that call and
   everything after it are ``sent=True``;
4. ``POST /v2/post/publish/status/fetch/`` until ``PUBLISH_COMPLETE`` or ``FAILED`` (bounded backoff;
   the endpoint allows 30 requests a minute). If TikTok is still processing when the polling budget
   ends, the post was accepted: the result carries the ``publish_id`` and says so.

Errors are ``{"error": {"code", "message", "log_id"}}`` (TikTok API v2 error handling); the string
``code`` decides, not the HTTP status (403 is used for daily caps and audit restrictions too).

Idempotency marker: the caption. ``find_existing`` asks ``POST /v2/video/list/`` (``video.list``
scope) for the latest videos and compares their title/description (TikTok returns at most 150
characters of it) with the caption, counting only videos whose ``create_time`` (Unix seconds) is
inside the post's look-up window (``base.lookup_since``); ``publish`` looks first only on a retry.
That API lists *public* videos only: for a private (``SELF_ONLY``) account Castmill cannot tell
whether a post went out, so ``find_existing`` raises ``OutcomeUnknown`` with instructions instead
of answering "not found" and risking a duplicate.

Engagement (``fetch_engagement``): ``POST /v2/video/query/?fields=id,like_count,comment_count,
share_count,view_count`` with ``{"filters": {"video_ids": [id]}}`` (Display API, ``video.list`` scope)
→ likes, replies (comments), reposts (shares), views. A private post has no post id, only the
``publish_id`` (``v_pub_…``), and TikTok offers no read for it: None.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests
from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_exponential

from pipeline.publish.publishers.base import (AuthError, CredentialStatus, Engagement, MediaFile, OutcomeUnknown,
                                              Post, PublishError, Published, Publisher, caption_of, count_of,
                                              created_within, json_object, lookup_since, normalized, optional_count,
                                              retry_after_seconds)

MB = 1024 * 1024
SINGLE_UPLOAD_MAX = 64 * MB  # Media Transfer Guide: chunks are 5–64 MB; a file up to 64 MB can go whole
CHUNK_SIZE = 10 * MB
LISTED_TEXT_MAX = 150  # the video object's title / video_description "Max length: 150"
FINAL_STATES = ("PUBLISH_COMPLETE", "FAILED", "SEND_TO_USER_INBOX")

AUTH_CODES = frozenset({"access_token_invalid", "scope_not_authorized", "scope_permission_missed"})
SCOPE_CODES = frozenset({"scope_not_authorized", "scope_permission_missed"})
VIDEO_COUNT_FIELDS = "id,like_count,comment_count,share_count,view_count"
CAP_CODES = frozenset({"spam_risk_too_many_posts", "spam_risk_too_many_pending_share", "reached_active_user_cap"})


@dataclass(frozen=True)
class TikTokPublished(Published):
    """``Published`` plus what TikTok decided: the privacy used and whether it is still processing."""

    privacy_level: str = ""
    status: str = ""  # PUBLISH_COMPLETE, or the processing state when polling ran out


@dataclass(frozen=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    count: int

    def ranges(self) -> list[tuple[int, int]]:
        """Inclusive byte ranges; the last chunk takes the remainder."""
        starts = [i * self.chunk_size for i in range(self.count)]
        ends = [start + self.chunk_size - 1 for start in starts[:-1]] + [self.video_size - 1]
        return list(zip(starts, ends))


def plan_chunks(video_size: int) -> ChunkPlan:
    if video_size <= SINGLE_UPLOAD_MAX:
        return ChunkPlan(video_size, video_size, 1)
    return ChunkPlan(video_size, CHUNK_SIZE, video_size // CHUNK_SIZE)


class TikTokPublisher(Publisher):
    name = "tiktok"
    media_kinds = ("video",)
    default_base_url = "https://open.tiktokapis.com"
    poll_first_wait = 3.0
    poll_max_wait = 30.0
    poll_attempts = 20

    def __init__(self, account, http: requests.Session | None = None):
        super().__init__(account, http)
        self.sleep = time.sleep  # tests swap in a recorder

    # ---------------------------------------------------------------- publishing

    def publish(self, post: Post) -> Published:
        video = next((m for m in post.media if m.kind == "video"), None)
        if video is None:
            raise PublishError("tiktok: a TikTok post needs a video; this post has none")
        creator = self.api("/v2/post/publish/creator_info/query/", None, sent=False)
        privacy = self.choose_privacy(creator.get("privacy_level_options") or [])
        # No idempotency key on this API: on a retry, look for an earlier attempt first (public posts only; TikTok
        # does not list private ones, and a private post is never retried blindly: it becomes unknown instead).
        if privacy != "SELF_ONLY" and post.first_attempt_at is not None \
                and (existing := self.find_existing(post)) is not None:
            return existing
        plan = plan_chunks(video.path.stat().st_size)
        init = self.api("/v2/post/publish/video/init/", {
            "post_info": {"title": caption_of(post), "privacy_level": privacy, "disable_duet": False,
                          "disable_comment": False, "disable_stitch": False},
            "source_info": {"source": "FILE_UPLOAD", "video_size": plan.video_size,
                            "chunk_size": plan.chunk_size, "total_chunk_count": plan.count},
        }, sent=False)
        publish_id, upload_url = str(init.get("publish_id") or ""), str(init.get("upload_url") or "")
        if not publish_id or not upload_url:
            raise PublishError("tiktok: the init answer has no publish_id/upload_url", retryable=True)
        self.upload(upload_url, video, plan)
        return self.await_result(publish_id, privacy, str(creator.get("creator_username") or ""))

    def choose_privacy(self, options: list[str]) -> str:
        wanted = self.configured_privacy()
        if wanted not in options:
            raise PublishError(f"tiktok: privacy {wanted} is not offered to this creator "
                               f"(offered: {', '.join(options) or 'none'})")
        return wanted

    def configured_privacy(self) -> str:
        extra = self.account.extra
        default = "PUBLIC_TO_EVERYONE" if extra.get("audited") else "SELF_ONLY"
        return str(extra.get("privacy_level") or default)

    def upload(self, upload_url: str, video: MediaFile, plan: ChunkPlan) -> None:
        """Chunks in order; the upload URL carries its own credentials, so no token is sent there."""
        ranges = plan.ranges()
        with video.path.open("rb") as stream:
            for index, (first, last) in enumerate(ranges):
                stream.seek(first)
                self.request("PUT", upload_url, sent=index == len(ranges) - 1, data=stream.read(last - first + 1),
                             headers={"Content-Type": video.mime,
                                      "Content-Range": f"bytes {first}-{last}/{plan.video_size}"})

    def await_result(self, publish_id: str, privacy: str, username: str) -> Published:
        retrying = Retrying(
            retry=retry_if_result(lambda data: str(data.get("status")) not in FINAL_STATES),
            wait=wait_exponential(multiplier=self.poll_first_wait, max=self.poll_max_wait),
            stop=stop_after_attempt(self.poll_attempts),
            sleep=lambda seconds: self.sleep(seconds),
            retry_error_callback=lambda state: state.outcome.result(),
        )
        try:
            data = retrying(self.api, "/v2/post/publish/status/fetch/", {"publish_id": publish_id}, sent=True)
        except PublishError as exc:  # the video is with TikTok already: never send it again blindly
            raise OutcomeUnknown(f"tiktok: the video was sent but its status could not be read ({exc})") from exc
        status = str(data.get("status"))
        if status == "FAILED":
            raise PublishError(f"tiktok: TikTok could not publish the video: {data.get('fail_reason') or 'no reason'}")
        post_ids = [str(i) for i in data.get("publicaly_available_post_id") or []]  # (sic) TikTok's spelling
        url = f"https://www.tiktok.com/@{username}/video/{post_ids[0]}" if post_ids and username else ""
        return TikTokPublished(post_ids[0] if post_ids else publish_id, url, note=self.note(privacy, status),
                               privacy_level=privacy, status=status)

    def note(self, privacy: str, status: str) -> str:
        parts = []
        if privacy == "SELF_ONLY":
            parts.append("posted privately (SELF_ONLY): TikTok lets unaudited apps post private videos only; "
                         "make it public in the TikTok app")
        if status not in FINAL_STATES:
            parts.append(f"accepted; TikTok was still processing it ({status})")
        return "; ".join(parts)

    # ---------------------------------------------------------------- finding posts

    def find_existing(self, post: Post) -> Published | None:
        if self.configured_privacy() == "SELF_ONLY":
            raise OutcomeUnknown("tiktok: private (SELF_ONLY) videos are not listed by TikTok's API, so whether this "
                                 "post went out cannot be checked; look at the account in the TikTok app, then mark "
                                 "the post published or send it again")
        data = self.api("/v2/video/list/", {"max_count": 20}, sent=False,
                        params={"fields": "id,title,video_description,create_time,share_url"})
        wanted = normalized(caption_of(post))
        since = lookup_since(post)
        for video in data.get("videos") or []:
            if not created_within(video.get("create_time"), since):
                continue
            for key in ("title", "video_description"):
                listed = normalized(str(video.get(key) or ""))
                if listed and wanted.startswith(listed) and len(listed) >= min(len(wanted), LISTED_TEXT_MAX):
                    return TikTokPublished(str(video["id"]), str(video.get("share_url") or ""),
                                           privacy_level=self.configured_privacy(), status="PUBLISH_COMPLETE")
        return None

    def fetch_engagement(self, remote_id: str) -> Engagement | None:
        if not remote_id.isdigit():  # a publish_id: the post is private and TikTok gave it no readable id
            return None
        data = self.api("/v2/video/query/", {"filters": {"video_ids": [remote_id]}}, sent=False,
                        params={"fields": VIDEO_COUNT_FIELDS})
        video = next((v for v in data.get("videos") or [] if str(v.get("id")) == remote_id), None)
        if video is None:
            raise PublishError(f"tiktok: video {remote_id} is not among this account's public videos "
                               "(deleted, made private, or posted from another account)")
        return Engagement(likes=count_of(video.get("like_count")), reposts=count_of(video.get("share_count")),
                          replies=count_of(video.get("comment_count")), views=optional_count(video.get("view_count")))

    def check_credentials(self) -> CredentialStatus:
        try:
            self.api("/v2/post/publish/creator_info/query/", None, sent=False)
        except PublishError as exc:
            return CredentialStatus(False, str(exc), self.account.expires_at)
        return CredentialStatus(True, "tiktok: token accepted", self.account.expires_at)

    # ---------------------------------------------------------------- HTTP and errors

    def api(self, path: str, payload: dict | None, *, sent: bool, params: dict | None = None) -> dict:
        """One JSON call; the ``data`` object of a successful answer."""
        if not self.account.token:
            raise AuthError("tiktok: no access token for this account; reconnect it")
        root = (self.account.base_url or self.default_base_url).rstrip("/")
        response = self.request("POST", root + path, sent=sent, params=params, json=payload, headers={
            "Authorization": f"Bearer {self.account.token}", "Content-Type": "application/json; charset=UTF-8"})
        body = json_object(response)
        error = body.get("error") or {}
        if error.get("code") not in (None, "", "ok"):
            raise self.error_for(response)
        return body.get("data") or {}

    def error_message(self, response: requests.Response) -> str:
        error = json_object(response).get("error")
        if isinstance(error, dict) and (error.get("code") or error.get("message")):
            return f"{error.get('message') or 'no message'} ({error.get('code')})"
        return super().error_message(response)

    def error_for(self, response: requests.Response) -> PublishError:
        error = json_object(response).get("error")
        code = str(error.get("code") or "") if isinstance(error, dict) else ""
        status = response.status_code
        message = f"tiktok: HTTP {status}: {self.error_message(response)}"
        if code in SCOPE_CODES:
            return AuthError(f"{message}; the account did not grant a scope this needs (video.publish to post, "
                             "video.list to read videos): reconnect it and grant it", status=status)
        if code in AUTH_CODES or status == 401:
            return AuthError(f"{message}; reconnect the account", status=status)
        if code == "rate_limit_exceeded" or status == 429:
            return PublishError(message, retryable=True, retry_after=retry_after_seconds(response), status=status)
        if code in CAP_CODES:
            return PublishError(f"{message}; TikTok's daily posting cap is reached, schedule the post for later",
                                status=status)
        if code == "unaudited_client_can_only_post_to_private_accounts":
            return PublishError(f"{message}; until the app passes TikTok's audit it can only post SELF_ONLY "
                                "(set the account's privacy_level to SELF_ONLY)", status=status)
        if status >= 500 or code == "internal_error":
            return PublishError(message, retryable=True, retry_after=retry_after_seconds(response), status=status)
        return PublishError(message, status=status)



