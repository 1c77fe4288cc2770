"""A fake Facebook Page on the Graph API: feed posts and the Reels start → upload → finish flow.

Shared Graph behaviour (auth, error shape) is in ``tests/fakes/graph.py``; what this fake enforces:

- ``POST /{page}/feed``: a ``message`` or a ``link`` is required, the message is at most 63,206 characters;
- ``POST /{page}/video_reels`` ``upload_phase=start`` → ``video_id`` and ``upload_url``, refused when 30
  Reels were published in the last 24 hours; the bytes go to ``upload_url`` with
  ``Authorization: OAuth <token>``, ``offset: 0`` and ``file_size`` headers (errors in the upload host's
  ``{"debug_info": {"type", "message"}}`` shape); ``upload_phase=finish`` with ``video_state`` publishes
  an uploaded video once;
- ``GET /{page}/feed`` and ``GET /{page}/video_reels`` list posts newest first;
- engagement reads (``pages_read_engagement``): ``GET /{post-id}`` and ``GET /{video-id}`` with the
  ``reactions``/``comments`` edges, whose ``.summary(total_count)`` (or ``summary(true)``) adds
  ``{"summary": {"total_count": n}}`` and ``.limit(0)`` empties ``data``; a post's ``shares`` field is
  ``{"count": n}`` and left out when nobody shared it (a video has no ``shares`` field: Graph refuses it);
  ``GET /{video-id}/video_insights`` with Reels metrics (``blue_reels_play_count``,
  ``post_video_social_actions`` = ``{"SHARE": n, "COMMENT": n}`` …).

``published`` (feed posts and Reels) is what a person would see on the Page: the tests count it.

The publisher reads ``GET /{page}/feed`` (is the post already there?) before it ``POST``s to the same
path, so for the contract test ``fail_next``/``hang_next`` on ``create_path`` without a method mean the
``POST``, the call that creates the post.
"""

from __future__ import annotations

from pipeline.publish.publishers import Account, Post
from tests.fakes.graph import VERSION, MetaGraphFake, graph_error, graph_time
from tests.fakes.server import Request, Response


class FacebookFake(MetaGraphFake):
    """A Page: ``/{page}/feed`` posts and the Reels flow ``/{page}/video_reels`` start → upload → finish.

    ``lose_finish_answer = True`` makes the finish call after the next upload happen with its answer
    held back (the Reel IS published): start and finish share a path, so ``hang_next`` cannot pick
    the finish call alone."""

    platform = "facebook"
    create_path = r"/feed$"  # the contract publishes a text post to the Page feed (Reels share one path)
    invalid_message = "longer than 63206 characters"
    MESSAGE_LIMIT = 63206
    REELS_PER_DAY = 30  # "Reels API is limited to 30 API-published posts within a 24-hour moving period"
    PERMISSIONS = ("pages_manage_posts", "pages_read_engagement", "pages_show_list", "pages_manage_engagement")
    COMMENT_PERMISSION = "pages_manage_engagement"
    COMMENT_LIMIT = 8000
    POST_FIELDS = ("message", "link", "created_time", "permalink_url", "shares", "reactions", "comments")
    VIDEO_FIELDS = ("description", "created_time", "permalink_url", "reactions", "comments", "likes")
    REEL_METRICS = ("blue_reels_play_count", "fb_reels_total_plays", "fb_reels_replay_count",
                    "post_impressions_unique", "post_video_avg_time_watched", "post_video_followers",
                    "post_video_likes_by_reaction_type", "post_video_social_actions", "post_video_view_time")
    COUNTS = {"reactions": 0, "comments": 0, "shares": 0, "plays": None}

    def __init__(self, page_id: str = "104500000000001", **kwargs):
        super().__init__(user_id=page_id, **kwargs)
        self.page_id = page_id
        self.videos: dict[str, dict] = {}
        self.feed: list[dict] = []
        self.reels: list[dict] = []
        self.lose_finish_answer = False
        self.route_edge("POST", "feed", self.create_post)
        self.route_edge("GET", "feed", self.list_feed)
        self.route_edge("POST", "video_reels", self.video_reels)
        self.route_comments()
        self.route_edge("GET", "video_reels", self.list_reels)
        self.route("POST", r"/video-upload" + VERSION + r"/(?P<video>\d+)", self.upload)
        self.route_v("GET", r"/(?P<video>\d+)/video_insights", self.video_insights)
        self.route_v("GET", r"/(?P<node>\d+(?:_\d+)?)", self.read_node)

    # ---------------------------------------------------------------- ContractFake

    def account(self, *, token: str | None = None) -> Account:
        return Account("facebook", self.base_url, token=self.token if token is None else token, handle=self.page_id)

    def sample_post(self, key: str) -> Post:
        return Post(parts=(f"New episode is out ({key}): why small shows win",), idempotency_key=key,
                    link="https://pod.example.com/12")

    def invalid_post(self, key: str) -> Post:
        return Post(parts=("x" * (self.MESSAGE_LIMIT + 1),), idempotency_key=key)

    @property
    def post_count(self) -> int:
        return len(self.published)

    def fail_next(self, status: int, *, method: str | None = None, path: str | None = None, **kwargs) -> None:
        super().fail_next(status, method=self._create_method(method, path), path=path, **kwargs)

    def hang_next(self, *, method: str | None = None, path: str | None = None, **kwargs) -> None:
        super().hang_next(method=self._create_method(method, path), path=path, **kwargs)

    def _create_method(self, method: str | None, path: str | None) -> str | None:
        return "POST" if method is None and path == self.create_path else method

    # ---------------------------------------------------------------- routes

    @property
    def published(self) -> list[dict]:
        return self.feed + self.reels

    def check(self, request: Request) -> Response | None:
        if request.path.startswith("/video-upload/"):
            scheme, _, token = (request.header("authorization") or "").partition(" ")
            if scheme != "OAuth" or token != self.token:
                return graph_error("Invalid OAuth access token - expected 'Authorization: OAuth <token>'", 190)
            return None
        return super().check(request)

    def create_post(self, request: Request) -> Response:
        params = self.params(request)
        message, link = params.get("message", ""), params.get("link", "")
        if not message and not link:
            return graph_error("(#100) Missing message or attachment", 100)
        if len(message) > self.MESSAGE_LIMIT:
            return graph_error(f"(#100) The message is longer than {self.MESSAGE_LIMIT} characters", 100)
        post_id = f"{self.page_id}_{self.new_id()}"
        self.feed.append({"id": post_id, "message": message, "link": link, "at": self.clock(),
                          "created_time": graph_time(self.clock()),
                          "permalink_url": f"https://www.facebook.com/{post_id.replace('_', '/posts/')}",
                          **self.COUNTS})
        return Response(200, {"id": post_id})

    def commentable(self, node: str) -> bool:
        return any(p["id"] == node for p in self.feed)

    def list_feed(self, request: Request) -> Response:
        return self.page(request, self.feed, ("message", "created_time", "permalink_url"))

    def video_reels(self, request: Request) -> Response:
        params = self.params(request)
        phase = (params.get("upload_phase") or "").lower()
        if phase == "start":
            if self.within_day(self.reels) >= self.REELS_PER_DAY:
                return graph_error("Reels API is limited to 30 API-published posts within a 24-hour moving period",
                                   4)
            video_id = self.new_id()
            self.videos[video_id] = {"uploaded": None, "finished": False}
            return Response(200, {"video_id": video_id,
                                  "upload_url": self.url(f"/video-upload/v21.0/{video_id}")})
        if phase == "finish":
            return self.finish(params)
        return graph_error("(#100) upload_phase must be one of start, finish", 100)

    def finish(self, params: dict[str, str]) -> Response:
        video = self.videos.get(params.get("video_id", ""))
        if video is None:
            return graph_error("(#100) video_id is not an upload session of this Page", 100)
        if video["uploaded"] is None:
            return graph_error("The video file was not uploaded before finishing", 6000)
        if video["finished"]:
            return graph_error("(#100) This video was already published", 100)
        if params.get("video_state") not in ("PUBLISHED", "DRAFT", "SCHEDULED"):
            return graph_error("(#100) video_state must be PUBLISHED, DRAFT or SCHEDULED", 100)
        video["finished"] = True
        video_id = params["video_id"]
        self.reels.append({"id": video_id, "description": params.get("description", ""), "at": self.clock(),
                           "created_time": graph_time(self.clock()),
                           "permalink_url": f"https://www.facebook.com/reel/{video_id}", **self.COUNTS})
        return Response(200, {"success": True})

    def upload(self, request: Request, video: str) -> Response:
        session = self.videos.get(video)
        if session is None:
            return Response(400, {"debug_info": {"type": "NotFoundError", "message": "Unknown upload session"}})
        offset, size = request.header("offset"), request.header("file_size")
        if offset != "0" or size is None or not size.isdigit():
            return Response(400, {"debug_info": {"type": "ParameterValidationError",
                                                 "message": "Headers offset and file_size are required"}})
        if int(size) != len(request.body):
            return Response(400, {"debug_info": {"type": "ParameterValidationError",
                                                 "message": f"file_size {size} != {len(request.body)} bytes sent"}})
        session["uploaded"] = request.body
        if self.lose_finish_answer:  # the next call is this session's finish
            self.lose_finish_answer = False
            self.hang_next(method="POST", path=r"/video_reels$")
        return Response(200, {"success": True})

    def list_reels(self, request: Request) -> Response:
        return self.page(request, self.reels, ("description", "created_time", "permalink_url"))

    # ---------------------------------------------------------------- engagement

    def engage(self, remote_id: str, **counts) -> None:
        """Set a post's or Reel's ``reactions``, ``comments``, ``shares`` or ``plays`` (None = no data yet)."""
        next(item for item in self.published if item["id"] == remote_id).update(counts)

    def read_node(self, request: Request, node: str) -> Response:
        item = next((i for i in self.published if i["id"] == node), None)
        if item is None:
            return self.wrong_node(node)
        is_post = item in self.feed
        asked, refusal = self.node_fields(request, "Post" if is_post else "Video",
                                          self.POST_FIELDS if is_post else self.VIDEO_FIELDS)
        refusal = refusal or self.lacks("pages_read_engagement")
        if refusal:
            return refusal
        answer = {"id": node}
        for name, modifiers in asked.items():
            if name in ("reactions", "comments", "likes"):
                answer[name] = edge_answer(item["comments" if name == "comments" else "reactions"], modifiers)
            elif name == "shares":
                if item["shares"]:
                    answer["shares"] = {"count": item["shares"]}
            elif name != "id":
                answer[name] = item[name]
        return Response(200, answer)

    def video_insights(self, request: Request, video: str) -> Response:
        reel = next((r for r in self.reels if r["id"] == video), None)
        if reel is None:
            return self.wrong_node(video)
        refusal = self.lacks("pages_read_engagement")
        if refusal:
            return refusal
        actions = {key: n for key, n in (("COMMENT", reel["comments"]), ("SHARE", reel["shares"])) if n}
        values = {"blue_reels_play_count": reel["plays"], "fb_reels_total_plays": reel["plays"],
                  "post_video_social_actions": actions,
                  "post_video_likes_by_reaction_type": {"REACTION_LIKE": reel["reactions"]}}
        return self.insights(request, video, self.REEL_METRICS, values, edge="video_insights")


def edge_answer(total: int, modifiers: str) -> dict:
    """A ``reactions``/``comments`` edge inside a node read: one row per item unless ``.limit(0)``,
    and the summary only when asked for."""
    rows = [] if ".limit(0)" in modifiers else [{"id": f"row{n}"} for n in range(total)]
    answer: dict = {"data": rows, "paging": {}}
    if ".summary(total_count)" in modifiers or ".summary(true)" in modifiers:
        answer["summary"] = {"total_count": total, "can_comment": True, "order": "ranked"}
    return answer


def contract_fake() -> FacebookFake:
    return FacebookFake()
