"""Instagram Reels through the Instagram Graph API (Content Publishing).

Flow (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/content-publishing):

1. ``GET /{ig-user-id}/content_publishing_limit?fields=quota_usage,config``: refuse when the
   rolling 24-hour quota is used up (``quota_usage >= config.quota_total``);
2. ``POST /{ig-user-id}/media`` with ``media_type=REELS``, ``video_url`` and ``caption`` → container id.
   Instagram downloads the video itself, so it must sit at a public URL: see ``graph_api.public_url``
   (``Account.extra["media_base_url"]``);
3. ``GET /{container-id}?fields=status_code,status`` until ``FINISHED`` (``ERROR``/``EXPIRED`` fail
   with the platform's reason; ``IN_PROGRESS`` waits with a bounded backoff);
4. ``POST /{ig-user-id}/media_publish`` with ``creation_id`` → the media id. Only this call makes the
   Reel visible, so a timeout here is ``OutcomeUnknown``.

The account: ``handle`` = the numeric IG user id, ``token`` = a user access token with
``instagram_content_publish``, ``base_url`` = ``https://graph.facebook.com`` (or a fake).

Idempotency marker: the caption. ``find_existing`` lists the account's latest media
(``GET /{ig-user-id}/media?fields=id,caption,timestamp,permalink``) and matches the caption
exactly (whitespace-normalized) among media whose ``timestamp`` is inside the post's look-up
window (``base.lookup_since``). ``publish`` looks first only on a retry.

Engagement (``fetch_engagement``): ``GET /{media-id}?fields=like_count,comments_count,media_product_type``
for likes and comments, and the media insights ``GET /{media-id}/insights?metric=views,shares`` for a
Reel (``views`` only for a feed post). ``plays``, ``clips_replays_count``, ``ig_reels_aggregated_all_plays_count``
and ``impressions`` are retired (v22.0, all versions since April 21, 2025) and asking for one fails the
whole request, so only ``views`` is used. Shares count as reposts. Insights need
``instagram_manage_insights``; Meta reports no number for a while after posting (views None then).
"""

from __future__ import annotations

from pipeline.publish.publishers.base import (Engagement, Post, Published, PublishError, caption_of, count_of,
                                                lookup_since, optional_count)
from pipeline.publish.publishers.graph_api import GraphError, GraphPublisher, find_by_text, id_from, public_url

# Instagram error codes (IG API "Error Codes" reference): the ones the docs say to retry.
RETRY_SUBCODES = frozenset({
    2207001,  # "Instagram server error. Try again."
    2207003,  # "It takes too long to download the media." — try again
    2207032,  # "Create media fail, please try to re-create media"
    2207053,  # "unknown upload error" — generate a new container and try again
})
QUOTA_SUBCODE = 2207042  # code 9: "You reached maximum number of posts … published by API … 24 hours"
NOT_READY_SUBCODE = 2207027  # code 9007: the media is not ready for publishing yet

# Media insights metrics per media_product_type (Instagram Media Insights reference); STORY and AD get none.
INSIGHT_METRICS = {"REELS": "views,shares", "FEED": "views"}
INSIGHTS_PERMISSION = "instagram_manage_insights"


class InstagramPublisher(GraphPublisher):
    name = "instagram"
    media_kinds = ("video",)
    default_base_url = "https://graph.facebook.com"
    supports_comments = True
    comment_text_field = "text"
    status_field = "status_code"
    status_detail_fields = ("status",)  # on ERROR, "status" carries the error subcode and text

    def publish(self, post: Post) -> Published:
        video = next((m for m in post.media if m.kind == "video"), None)
        if video is None:
            raise PublishError("instagram: a Reel needs a video; this post has none")
        # No idempotency key on this API: on a retry, a Reel an earlier attempt did get out is returned.
        if post.first_attempt_at is not None and (existing := self.find_existing(post)) is not None:
            return existing
        user = self.user_id()
        self.check_quota("content_publishing_limit")
        container = self.graph("POST", f"{user}/media", sent=False, data={
            "media_type": "REELS",
            "video_url": public_url(self.account, video),
            "caption": caption_of(post),
        })
        container_id = id_from(container, self.name, "media container", published=False)
        self.wait_until_finished(container_id)
        media = self.graph("POST", f"{user}/media_publish", sent=True, data={"creation_id": container_id})
        media_id = id_from(media, self.name, "Reel", published=True)
        return Published(media_id, self.permalink(media_id))

    def find_existing(self, post: Post) -> Published | None:
        found = find_by_text(self.recent("media", "id,caption,timestamp,permalink"), "caption", caption_of(post),
                             since=lookup_since(post), time_key="timestamp")
        if found is None:
            return None
        return Published(str(found["id"]), str(found.get("permalink") or ""))

    def fetch_engagement(self, remote_id: str) -> Engagement | None:
        media = self.read_node(remote_id, "like_count,comments_count,media_product_type",
                               permission="instagram_basic")
        metrics = INSIGHT_METRICS.get(str(media.get("media_product_type") or "").upper())
        insights = self.read_insights(remote_id, metrics, permission=INSIGHTS_PERMISSION) if metrics else {}
        return Engagement(likes=count_of(media.get("like_count")), reposts=count_of(insights.get("shares")),
                          replies=count_of(media.get("comments_count")), views=optional_count(insights.get("views")))

    def platform_error(self, error: GraphError, message: str, response) -> PublishError | None:
        status = response.status_code
        if error.subcode == QUOTA_SUBCODE:
            return PublishError(f"{message}; the 24-hour publishing quota is used up, schedule the post for later",
                                status=status)
        if error.subcode in RETRY_SUBCODES or error.subcode == NOT_READY_SUBCODE:
            return PublishError(message, retryable=True, status=status)
        return None

