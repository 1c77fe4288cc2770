"""A fake of the Threads API (graph.threads.net): text and video containers, reply chains, quotas.

Shared Graph behaviour (auth, error shape, the container state machine) is in ``tests/fakes/graph.py``;
what this fake enforces:

- ``POST /{user}/threads``: ``media_type`` TEXT / IMAGE / VIDEO / CAROUSEL, ``text`` required for TEXT,
  ``video_url`` for VIDEO, at most 500 characters with emoji counted as their UTF-8 bytes, a
  ``reply_to_id`` that is a published post; TEXT containers are FINISHED at once, VIDEO ones after
  ``processing_polls`` status checks (``GET /{container}?fields=status``);
- ``POST /{user}/threads_publish``: publishes a FINISHED container once, within the rolling 24-hour
  quotas (250 posts, 1,000 replies; ``GET /{user}/threads_publishing_limit``);
- ``GET /{user}/threads`` (root posts, newest first) and ``GET /{media}/conversation``;
- ``GET /{media}/insights?metric=…`` (``threads_manage_insights``): ``views``, ``likes``, ``replies``,
  ``reposts``, ``quotes``, ``shares`` in Meta's insights shape; ``views`` (in development at Meta) is
  left out while it has no number.

``published`` is what a person would see on the account (replies included): the tests count it.
"""

from __future__ import annotations

import re

from pipeline.publish.publishers import Account, Post
from tests.fakes.graph import ContainerFake, graph_error, graph_time
from tests.fakes.server import Request, Response


class ThreadsFake(ContainerFake):
    """``/{user}/threads``, ``/{container}``, ``/{user}/threads_publish``, ``/{user}/threads_publishing_limit``,
    ``/{media}/conversation``; replies chain through ``reply_to_id``."""

    platform = "threads"
    create_path = r"/threads_publish$"  # only publishing the container makes the post visible
    invalid_message = "the limit is 500"
    status_field = "status"
    TEXT_LIMIT = 500
    PERMISSIONS = ("threads_basic", "threads_content_publish", "threads_manage_insights")
    INSIGHT_METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")  # Threads Insights API

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.processing_polls = 0  # for VIDEO containers; TEXT ones are ready at once
        self.quota_total = 250
        self.reply_quota_total = 1000
        self.route_edge("POST", "threads", self.create_container)
        self.route_edge("POST", "threads_publish", self.publish)
        self.route_edge("GET", "threads_publishing_limit", self.publishing_limit)
        self.route_edge("GET", "threads", self.list_threads)
        self.route_v("GET", r"/(?P<media>\d+)/conversation", self.conversation)
        self.route_v("GET", r"/(?P<media>\d+)/insights", self.media_insights)
        self.route_v("GET", r"/(?P<node>\d+)", self.read_node)

    # ---------------------------------------------------------------- ContractFake

    def account(self, *, token: str | None = None) -> Account:
        return Account("threads", self.base_url, token=self.token if token is None else token, handle=self.user_id,
                       extra={"media_base_url": "https://clips.example.com/contract/"})

    def sample_post(self, key: str) -> Post:
        return Post(parts=(f"Small shows win ({key}). New episode out now.",), idempotency_key=key)

    def invalid_post(self, key: str) -> Post:
        return Post(parts=("x" * (self.TEXT_LIMIT + 1),), idempotency_key=key)

    @property
    def post_count(self) -> int:
        return len(self.published)

    # ---------------------------------------------------------------- routes

    @staticmethod
    def count(text: str) -> int:
        """Characters, with emoji (here: code points outside the BMP) counted as their UTF-8 bytes."""
        return sum(len(ch.encode("utf-8")) if ord(ch) > 0xFFFF else 1 for ch in text)

    def error_detail(self) -> dict:
        return {"error_message": "FAILED_PROCESSING_VIDEO"}

    def roots(self) -> list[dict]:
        return [p for p in self.published if not p.get("reply_to")]

    def replies(self) -> list[dict]:
        return [p for p in self.published if p.get("reply_to")]

    def comments_on(self, remote_id: str) -> list[str]:
        """Texts of the posts replying to post ``remote_id`` directly, oldest first."""
        return [p["text"] for p in self.published if p.get("reply_to") == remote_id]

    def create_container(self, request: Request) -> Response:
        params = self.params(request)
        media_type = params.get("media_type")
        text = params.get("text", "")
        if media_type not in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL"):
            return graph_error("(#100) Param media_type must be one of TEXT, IMAGE, VIDEO, CAROUSEL", 100)
        if media_type == "TEXT" and not text:
            return graph_error("(#100) The parameter text is required for TEXT posts", 100)
        if media_type == "VIDEO" and not re.match(r"https?://[^/]+/.+", params.get("video_url", "")):
            return graph_error("(#100) The parameter video_url is required for VIDEO posts", 100)
        if self.count(text) > self.TEXT_LIMIT:
            return graph_error(f"(#100) The text is {self.count(text)} characters; the limit is {self.TEXT_LIMIT}",
                               100)
        reply_to = params.get("reply_to_id")
        if reply_to and not any(p["id"] == reply_to for p in self.published):
            return graph_error(f"(#100) reply_to_id {reply_to} is not a post", 100)
        container_id = self.new_container(polls=0 if media_type == "TEXT" else None,  # text is ready at once
                                          text=text, media_type=media_type, reply_to=reply_to)
        return Response(200, {"id": container_id})

    def publish(self, request: Request) -> Response:
        container, refusal = self.take_finished(self.params(request).get("creation_id"))
        if refusal:
            return refusal
        is_reply = bool(container["reply_to"])
        used = self.within_day(self.replies() if is_reply else self.roots())
        if used >= (self.reply_quota_total if is_reply else self.quota_total):
            return graph_error("Publishing limit reached for the last 24 hours", 9, subcode=2207042)
        media_id = self.new_id()
        container["published_as"] = media_id
        self.published.append({"id": media_id, "text": container["text"], "reply_to": container["reply_to"],
                               "at": self.clock(), "timestamp": graph_time(self.clock()),
                               "permalink": f"https://www.threads.net/@castmill/post/T{media_id[-6:]}",
                               "views": None, "likes": 0, "replies": 0, "reposts": 0, "quotes": 0, "shares": 0})
        return Response(200, {"id": media_id})

    def engage(self, media_id: str, **counts) -> None:
        """Set a post's ``views`` (None = not reported yet), ``likes``, ``replies``, ``reposts``, ``quotes``
        or ``shares``."""
        next(p for p in self.published if p["id"] == media_id).update(counts)

    def media_insights(self, request: Request, media: str) -> Response:
        post = next((p for p in self.published if p["id"] == media), None)
        if post is None:
            return self.wrong_node(media)
        refusal = self.lacks("threads_manage_insights")
        if refusal:
            return refusal
        return self.insights(request, media, self.INSIGHT_METRICS, {m: post[m] for m in self.INSIGHT_METRICS})

    def publishing_limit(self, request: Request) -> Response:
        fields = (request.arg("fields") or "quota_usage").split(",")
        row = {"quota_usage": self.within_day(self.roots()),
               "config": {"quota_total": self.quota_total, "quota_duration": 86400},
               "reply_quota_usage": self.within_day(self.replies()),
               "reply_config": {"quota_total": self.reply_quota_total, "quota_duration": 86400}}
        return Response(200, {"data": [{key: value for key, value in row.items() if key in fields}]})

    def list_threads(self, request: Request) -> Response:
        return self.page(request, self.roots(), ("text", "timestamp", "permalink"))

    def conversation(self, request: Request, media: str) -> Response:
        thread, frontier = [], {media}
        for post in self.published:  # chronological; a reply's parent is always older
            if post.get("reply_to") in frontier:
                thread.append(post)
                frontier.add(post["id"])
        if request.arg("reverse", "true") != "false":
            thread.reverse()
        return Response(200, {"data": [{"id": p["id"], "text": p["text"], "timestamp": p["timestamp"]}
                                       for p in thread]})

    def read_node(self, request: Request, node: str) -> Response:
        if node in self.containers:
            return Response(200, self.container_status(node))
        post = next((p for p in self.published if p["id"] == node), None)
        if post is None:
            return self.wrong_node(node)
        return Response(200, {"id": node, "permalink": post["permalink"]})


def contract_fake() -> ThreadsFake:
    return ThreadsFake()
