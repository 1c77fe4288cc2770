"""Facebook Pages: a Reel when the post has a video, otherwise a feed post with the episode link.

Reels (https://developers.facebook.com/docs/video-api/guides/reels-publishing, and Meta's sample
fbsamples/reels_publishing_apis):

1. ``GET /{page-id}/video_reels?fields=id,created_time``: Meta limits Reels to 30 API-published
   posts per rolling 24 hours and asks apps to enforce that themselves, so a full window is
   refused before anything is uploaded;
2. ``POST /{page-id}/video_reels`` ``upload_phase=start`` → ``video_id`` and ``upload_url``;
3. ``POST {upload_url}`` (rupload.facebook.com) with the file bytes and the headers
   ``Authorization: OAuth <page token>``, ``offset: 0``, ``file_size: <bytes>``;
4. ``POST /{page-id}/video_reels`` ``upload_phase=finish``, ``video_id``, ``video_state=PUBLISHED``,
   ``description`` → ``{"success": true}``. Only this call makes the Reel visible.

Text posts: ``POST /{page-id}/feed`` with ``message`` (and ``link`` when the post has one).

The account: ``handle`` = the Page id, ``token`` = a Page access token with ``pages_manage_posts``.

Idempotency marker: the text (Reel description / post message). ``find_existing`` looks through
the Page's latest Reels (``GET /{page-id}/video_reels?fields=id,description,created_time,
permalink_url``) or feed posts (``GET /{page-id}/feed?fields=id,message,created_time,
permalink_url``) for the same text, whitespace-normalized, created inside the post's look-up
window (``created_time`` ≥ ``base.lookup_since``). ``publish`` looks first only on a retry.

Engagement (``fetch_engagement``; needs ``pages_read_engagement``). Both kinds of remote id are read
with the reactions and comments edges' summaries (``reactions.summary(total_count).limit(0)``,
``comments.summary(total_count).limit(0)``: the totals without the rows):

- a feed post (``{page-id}_{post-id}``) adds its ``shares`` field (``{"count": n}``, absent when
  nobody shared it); the Page post view metrics are being replaced, so views stay None;
- a Reel (a video id) adds the Reels metrics of ``GET /{video-id}/video_insights``:
  ``blue_reels_play_count`` (plays, the views) and ``post_video_social_actions``
  (``{"SHARE": n, "COMMENT": n}``, shares as reposts).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipeline.publish.publishers.base import (Engagement, MediaFile, OutcomeUnknown, Post, Published, PublishError,
                                                caption_of, count_of, lookup_since, optional_count, platform_time)
from pipeline.publish.publishers.graph_api import GraphPublisher, find_by_text, id_from

REELS_PER_DAY = 30  # Reels Publishing API, "Rate Limit"
ENGAGEMENT_PERMISSION = "pages_read_engagement"
COUNT_FIELDS = "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
REEL_METRICS = "blue_reels_play_count,post_video_social_actions"


class FacebookPublisher(GraphPublisher):
    name = "facebook"
    media_kinds = ("video",)
    default_base_url = "https://graph.facebook.com"
    supports_comments = True
    comment_text_field = "message"

    def publish(self, post: Post) -> Published:
        # No idempotency key on this API: on a retry, a post an earlier attempt did get out is returned.
        if post.first_attempt_at is not None and (existing := self.find_existing(post)) is not None:
            return existing
        video = next((m for m in post.media if m.kind == "video"), None)
        if video is None:
            return self.publish_feed_post(post)
        return self.publish_reel(post, video)

    # ---------------------------------------------------------------- feed posts

    def publish_feed_post(self, post: Post) -> Published:
        fields = {"message": caption_of(post)}
        if post.link:
            fields["link"] = post.link
        body = self.graph("POST", f"{self.user_id()}/feed", sent=True, data=fields)
        post_id = id_from(body, self.name, "post", published=True)
        return Published(post_id, _post_url(post_id))

    # ---------------------------------------------------------------- reels

    def publish_reel(self, post: Post, video: MediaFile) -> Published:
        page = self.user_id()
        self.check_reel_quota()
        start = self.graph("POST", f"{page}/video_reels", sent=False, data={"upload_phase": "start"})
        video_id, upload_url = str(start.get("video_id") or ""), str(start.get("upload_url") or "")
        if not video_id or not upload_url:
            raise PublishError("facebook: the upload session answer has no video_id/upload_url", retryable=True)
        self.upload(upload_url, video)
        finish = self.graph("POST", f"{page}/video_reels", sent=True, data={
            "upload_phase": "finish", "video_id": video_id, "video_state": "PUBLISHED",
            "description": caption_of(post),
        })
        if finish.get("success") is not True:
            raise OutcomeUnknown("facebook: the Reel finish call did not confirm success")
        return Published(video_id, f"https://www.facebook.com/reel/{video_id}")

    def upload(self, upload_url: str, video: MediaFile) -> None:
        """The bytes go to the upload host, which takes the token as ``OAuth`` (not ``Bearer``)."""
        self.require_token()
        size = video.path.stat().st_size
        with video.path.open("rb") as stream:
            response = self.request("POST", upload_url, sent=False, data=stream, headers={
                "Authorization": f"OAuth {self.account.token}", "offset": "0", "file_size": str(size),
                "Content-Type": "application/octet-stream", "Content-Length": str(size),
            })
        if self.json_of(response).get("success") is not True:
            raise PublishError("facebook: the video upload was not confirmed", retryable=True)

    def check_reel_quota(self) -> None:
        reels = self.recent("video_reels", "id,created_time", limit=REELS_PER_DAY + 20)
        since = datetime.now(timezone.utc) - timedelta(days=1)
        used = sum(1 for reel in reels if (platform_time(reel.get("created_time")) or since) > since)
        if used >= REELS_PER_DAY:
            raise PublishError(f"facebook: Reels quota used up ({used} of {REELS_PER_DAY} in the last 24 hours); "
                               "the post was not sent, schedule it for later")

    # ---------------------------------------------------------------- finding posts

    def find_existing(self, post: Post) -> Published | None:
        since = lookup_since(post)
        if any(m.kind == "video" for m in post.media):
            found = find_by_text(self.recent("video_reels", "id,description,created_time,permalink_url"),
                                 "description", caption_of(post), since=since, time_key="created_time")
        else:
            found = find_by_text(self.recent("feed", "id,message,created_time,permalink_url"),
                                 "message", caption_of(post), since=since, time_key="created_time")
        if found is None:
            return None
        return Published(str(found["id"]), str(found.get("permalink_url") or ""))

    # ---------------------------------------------------------------- engagement

    def fetch_engagement(self, remote_id: str) -> Engagement | None:
        if "_" in remote_id:  # {page-id}_{post-id}: a feed post; a bare id is a Reel's video id
            return self.post_engagement(remote_id)
        return self.reel_engagement(remote_id)

    def post_engagement(self, post_id: str) -> Engagement:
        post = self.read_node(post_id, f"{COUNT_FIELDS},shares", permission=ENGAGEMENT_PERMISSION)
        return Engagement(likes=summary_total(post, "reactions"), replies=summary_total(post, "comments"),
                          reposts=count_of((post.get("shares") or {}).get("count")))

    def reel_engagement(self, video_id: str) -> Engagement:
        video = self.read_node(video_id, COUNT_FIELDS, permission=ENGAGEMENT_PERMISSION)
        insights = self.read_insights(video_id, REEL_METRICS, edge="video_insights", permission=ENGAGEMENT_PERMISSION)
        actions = insights.get("post_video_social_actions")
        actions = {str(k).upper(): v for k, v in actions.items()} if isinstance(actions, dict) else {}
        return Engagement(likes=summary_total(video, "reactions"), replies=summary_total(video, "comments"),
                          reposts=count_of(actions.get("SHARE")),
                          views=optional_count(insights.get("blue_reels_play_count")))

    def error_message(self, response) -> str:
        """The upload host answers ``{"debug_info": {"type", "message"}}`` instead of Graph's shape."""
        try:
            debug = response.json().get("debug_info")
        except (ValueError, AttributeError):
            debug = None
        if isinstance(debug, dict) and debug.get("message"):
            return f"{debug['message']} ({debug.get('type', 'upload error')})"
        return super().error_message(response)


def summary_total(node: dict, edge: str) -> int:
    """``{edge: {"data": [], "summary": {"total_count": n}}}`` → n (0 when the edge is absent)."""
    return count_of(((node.get(edge) or {}).get("summary") or {}).get("total_count"))


def _post_url(post_id: str) -> str:
    page, _, story = post_id.partition("_")
    return f"https://www.facebook.com/{page}/posts/{story}" if story else f"https://www.facebook.com/{post_id}"
