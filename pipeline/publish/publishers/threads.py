"""Threads through the Threads API (graph.threads.net), with multi-part posts as a reply chain.

Flow (https://developers.facebook.com/documentation/threads/reference/publishing):

1. ``GET /{user-id}/threads_publishing_limit?fields=quota_usage,config`` (and ``reply_quota_usage,
   reply_config`` for replies): refuse when the rolling 24-hour quota (250 posts, 1,000 replies)
   is used up;
2. for each part: ``POST /{user-id}/threads`` (``media_type`` TEXT, or VIDEO with ``video_url`` for
   the first part of a post with a clip; ``text``; ``reply_to_id`` = the previous part) → container;
   ``GET /{container}?fields=status,error_message`` until FINISHED; ``POST /{user-id}/threads_publish``
   (``creation_id``) → media id.

Text is limited to 500 characters (emoji count as their UTF-8 bytes); ``pipeline.platforms``
validates that before scheduling and the API refuses it too. A video is fetched by Meta from a
public URL (``Account.extra["media_base_url"]``, see ``graph_api.public_url``).

Idempotency marker: the text of each part. ``find_existing`` looks for the first part among the
account's latest posts (``GET /{user-id}/threads?fields=id,text,timestamp,permalink``) created
inside the post's look-up window (``timestamp`` ≥ ``base.lookup_since``) and for the other parts in
that post's conversation (``GET /{media-id}/conversation?reverse=false``); it answers "published"
only when every part is there. A thread interrupted half-way (a timeout or a 429 on part 3) is
therefore resumed, not repeated: on a retry (``Post.first_attempt_at`` set) ``publish`` first looks
up the parts that already exist and continues the chain after the last one.

Engagement (``fetch_engagement``): the media insights ``GET /{media-id}/insights?metric=views,likes,
replies,reposts,quotes`` (https://developers.facebook.com/documentation/threads/insights; needs
``threads_manage_insights``). The remote id is the root post, whose ``replies`` count the whole
thread's replies; quotes count as reposts, as on X and Bluesky. ``views`` is "in development" at
Meta and may be missing (None).
"""

from __future__ import annotations

from pipeline.publish.publishers.base import (Engagement, Post, Published, PublishError, count_of, lookup_since,
                                                normalized, optional_count)
from pipeline.publish.publishers.graph_api import GraphPublisher, find_by_text, id_from, public_url

INSIGHT_METRICS = "views,likes,replies,reposts,quotes"
INSIGHTS_PERMISSION = "threads_manage_insights"


class ThreadsPublisher(GraphPublisher):
    name = "threads"
    media_kinds = ("video",)
    default_base_url = "https://graph.threads.net"
    api_version = "v1.0"
    status_field = "status"
    status_detail_fields = ("error_message",)

    def publish(self, post: Post) -> Published:
        parts = _parts(post)
        if not parts:
            raise PublishError("threads: the post has no text")
        # On a retry, resume a half-posted thread; a complete one is not posted again.
        done = self.published_parts(post) if post.first_attempt_at is not None else []
        if len(done) == len(parts):
            return Published(done[0], self.permalink(done[0]))
        self.check_quotas(first=len(done), total=len(parts))
        video = next((m for m in post.media if m.kind == "video"), None)
        for index in range(len(done), len(parts)):
            done.append(self.publish_part(parts[index], video if index == 0 else None,
                                          reply_to=done[-1] if done else None))
        return Published(done[0], self.permalink(done[0]))

    def publish_part(self, text: str, video, reply_to: str | None) -> str:
        fields = {"media_type": "TEXT", "text": text}
        if video is not None:
            fields.update(media_type="VIDEO", video_url=public_url(self.account, video))
        if reply_to:
            fields["reply_to_id"] = reply_to
        container = self.graph("POST", f"{self.user_id()}/threads", sent=False, data=fields)
        container_id = id_from(container, self.name, "media container", published=False)
        self.wait_until_finished(container_id)
        media = self.graph("POST", f"{self.user_id()}/threads_publish", sent=True,
                           data={"creation_id": container_id})
        return id_from(media, self.name, "reply" if reply_to else "post", published=True)

    supports_comments = True

    def publish_comment(self, post_remote_id: str, text: str, *, key: str) -> Published:
        """A reply to our own post: a TEXT container with ``reply_to_id``, then published (a reply quota apart)."""
        self.check_quota("threads_publishing_limit", usage_field="reply_quota_usage", config_field="reply_config",
                         what="replies")
        reply = self.publish_part(text, None, reply_to=post_remote_id)
        return Published(reply, self.permalink(reply))

    def find_comment(self, post_remote_id: str, text: str, *, key: str) -> Published | None:
        replies = self.graph("GET", f"{post_remote_id}/conversation", sent=False,
                             params={"fields": "id,text,timestamp", "reverse": "false"}).get("data") or []
        match = next((r for r in replies if normalized(str(r.get("text") or "")) == normalized(text)), None)
        return Published(str(match["id"]), self.permalink(str(match["id"]))) if match else None

    def check_quotas(self, *, first: int, total: int) -> None:
        if first == 0:
            self.check_quota("threads_publishing_limit")
        if total > max(first, 1):
            self.check_quota("threads_publishing_limit", usage_field="reply_quota_usage",
                             config_field="reply_config", what="replies")

    def find_existing(self, post: Post) -> Published | None:
        found = self.published_parts(post)
        if not found or len(found) < len(_parts(post)):
            return None
        return Published(found[0], self.permalink(found[0]))

    def fetch_engagement(self, remote_id: str) -> Engagement | None:
        insights = self.read_insights(remote_id, INSIGHT_METRICS, permission=INSIGHTS_PERMISSION)
        return Engagement(likes=count_of(insights.get("likes")), replies=count_of(insights.get("replies")),
                          reposts=count_of(insights.get("reposts")) + count_of(insights.get("quotes")),
                          views=optional_count(insights.get("views")))

    def published_parts(self, post: Post) -> list[str]:
        """Ids of the post's leading parts already on Threads, in order (root first)."""
        parts = _parts(post)
        if not parts:
            return []
        root = find_by_text(self.recent("threads", "id,text,timestamp,permalink"), "text", parts[0],
                            since=lookup_since(post), time_key="timestamp")
        if root is None:
            return []
        found = [str(root["id"])]
        if len(parts) == 1:
            return found
        replies = self.graph("GET", f"{found[0]}/conversation", sent=False,
                             params={"fields": "id,text,timestamp", "reverse": "false"}).get("data") or []
        remaining = iter(replies)
        for part in parts[1:]:
            match = next((r for r in remaining if normalized(str(r.get("text") or "")) == normalized(part)), None)
            if match is None:
                break
            found.append(str(match["id"]))
        return found


def _parts(post: Post) -> list[str]:
    return [part for part in post.parts if part.strip()]
