"""Fakes of Meta's Graph API hosts: Instagram (Reels containers), Facebook Pages (feed + Reels) and Threads.

They enforce what the real APIs document and answer failures in Graph's error shape
``{"error": {"message", "type", "code", "error_subcode", "is_transient", "fbtrace_id"}}``:

- auth: a token in ``Authorization: Bearer`` or ``access_token`` (both accepted by Graph); a wrong
  token is code 190 (HTTP 400, as Graph answers OAuthException), ``token_expired`` gives 190/463;
- required fields and text limits (Instagram caption ≤ 2,200 characters, ≤ 30 hashtags, ≤ 20
  mentions; Threads 500 characters with emoji counted as UTF-8 bytes; Page posts 63,206);
- the container state machine: IN_PROGRESS for ``processing_polls`` status checks, then FINISHED
  (or ``container_outcome``); publishing before FINISHED is refused; a container publishes once;
- rolling 24-hour publishing quotas (Instagram ``quota_total``, Threads 250 posts / 1,000 replies,
  Facebook 30 Reels), enforced at the publish endpoints the docs name;
- Facebook's Reels upload: ``upload_phase=start`` → bytes to ``upload_url`` with
  ``Authorization: OAuth <token>``, ``offset`` and ``file_size`` headers → ``upload_phase=finish``.

Error codes come from the Graph and Instagram error references where they list one (190, 100,
9/2207042, 9007/2207027, 9004/2207052); where the docs name none (Threads' quota refusal, Facebook's
Reels cap) the fake reuses the nearest documented one. The message texts are the fake's own.
``published`` on each fake is what a person would see on the account: the tests count it.
"""

from __future__ import annotations

import itertools
import re
import time
from datetime import datetime, timezone

import requests

from tests.fakes.server import FakeServer, Request, Response

VERSION = r"/v\d+\.\d+"
DAY = 86400.0


class ShortTimeouts(requests.Session):
    """A session whose read timeout is short, so a fake's ``hang_next`` becomes a timeout quickly."""

    def __init__(self, read: float = 0.5):
        super().__init__()
        self.read = read

    def request(self, method, url, **kwargs):
        kwargs["timeout"] = (2.0, self.read)
        return super().request(method, url, **kwargs)


def graph_error(message: str, code: int, *, status: int = 400, subcode: int | None = None,
                transient: bool = False, kind: str = "OAuthException") -> Response:
    error = {"message": message, "type": kind, "code": code, "is_transient": transient,
             "fbtrace_id": "AbCdEfGh123"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return Response(status, {"error": error})


def graph_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


class MetaGraphFake(FakeServer):
    """Shared Graph behaviour: token check, ids, parameters from query or form, a clock."""

    def __init__(self, token: str = "graph-token-secret", user_id: str = "17841400000000001"):
        super().__init__()
        self.token = token
        self.user_id = user_id
        self.token_expired = False
        self.clock = time.time  # tests move time by replacing this
        self._ids = itertools.count(18000000000000001)
        self.route_v("GET", r"/me", lambda request: Response(200, {"id": self.user_id}))

    def new_id(self) -> str:
        return str(next(self._ids))

    def route_v(self, method: str, pattern: str, handler) -> None:
        self.route(method, VERSION + pattern, handler)

    def route_edge(self, method: str, edge: str, handler) -> None:
        """``/{version}/{account-id}/{edge}``; another account's id is refused like Graph does."""
        def owned(request: Request, owner: str) -> Response:
            return handler(request) if owner == self.user_id else self.wrong_node(owner)
        self.route_v(method, rf"/(?P<owner>\d+)/{edge}", owned)

    @staticmethod
    def params(request: Request) -> dict[str, str]:
        """Graph takes parameters in the query string or a form body alike."""
        merged = {key: values[0] for key, values in request.query.items() if values}
        if (request.header("content-type") or "").startswith("application/x-www-form-urlencoded"):
            merged.update({key: values[0] for key, values in request.form().items() if values})
        return merged

    def check(self, request: Request) -> Response | None:
        token = request.bearer() or self.params(request).get("access_token")
        if not token:
            return graph_error("An active access token must be used to query information about the current user.",
                               2500)
        if token != self.token:
            return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        if self.token_expired:
            return graph_error("Error validating access token: Session has expired.", 190, subcode=463)
        return None

    def wrong_node(self, node: str) -> Response:
        return graph_error(f"Unsupported request. Object with ID '{node}' does not exist, cannot be loaded due "
                           "to missing permissions, or does not support this operation.", 100, subcode=33)

    def within_day(self, items: list[dict]) -> int:
        now = self.clock()
        return sum(1 for item in items if now - item["at"] < DAY)

    def page(self, request: Request, items: list[dict], fields: tuple[str, ...]) -> Response:
        limit = int(request.arg("limit", "25"))
        return Response(200, {"data": [{key: item[key] for key in ("id", *fields) if key in item}
                                       for item in reversed(items)][:limit]})


class ContainerFake(MetaGraphFake):
    """Containers (Instagram, Threads): IN_PROGRESS for ``processing_polls`` checks, then the outcome."""

    status_field = "status_code"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.processing_polls = 1
        self.container_outcome = "FINISHED"  # or "ERROR" / "EXPIRED"
        self.containers: dict[str, dict] = {}
        self.published: list[dict] = []

    def new_container(self, polls: int | None = None, **fields) -> str:
        """A container that answers IN_PROGRESS ``polls`` times (default ``processing_polls``)."""
        container_id = self.new_id()
        polls = self.processing_polls if polls is None else polls
        state = "IN_PROGRESS" if polls > 0 else self.container_outcome
        self.containers[container_id] = {"state": state, "polls": polls, **fields}
        return container_id

    def container_status(self, container_id: str) -> dict:
        container = self.containers[container_id]
        if container["state"] == "IN_PROGRESS":
            container["polls"] -= 1
            if container["polls"] < 0:
                container["state"] = self.container_outcome
        answer = {"id": container_id, self.status_field: container["state"]}
        if container["state"] == "ERROR":
            answer.update(self.error_detail())
        return answer

    def error_detail(self) -> dict:
        return {"status": "Error: 2207026 Unsupported video format"}

    def not_ready(self) -> Response:
        return graph_error("Media ID is not available: the media is not ready for publishing", 9007,
                           subcode=2207027)

    def take_finished(self, creation_id: str | None) -> tuple[dict | None, Response | None]:
        container = self.containers.get(creation_id or "")
        if container is None:
            return None, graph_error("(#100) The parameter creation_id is required and must be a container id", 100)
        if container.get("published_as"):
            return None, graph_error("(#100) This container was already published", 100)
        if container["state"] != "FINISHED":
            return None, self.not_ready()
        return container, None


class InstagramFake(ContainerFake):
    """``/{ig-user-id}/media``, ``/{container-id}``, ``/{ig-user-id}/media_publish``,
    ``/{ig-user-id}/content_publishing_limit``, and ``/{ig-user-id}/media`` listing."""

    CAPTION_LIMIT = 2200
    HASHTAG_LIMIT = 30
    MENTION_LIMIT = 20

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.quota_total = 50  # the reference's example config (quota_total 50, quota_duration 86400)
        self.route_edge("POST", "media", self.create_container)
        self.route_edge("POST", "media_publish", self.publish)
        self.route_edge("GET", "content_publishing_limit", self.publishing_limit)
        self.route_edge("GET", "media", self.list_media)
        self.route_v("GET", r"/(?P<node>\d+)", self.read_node)

    def create_container(self, request: Request) -> Response:
        params = self.params(request)
        if params.get("media_type") != "REELS":
            return graph_error("(#100) media_type must be REELS for a video", 100)
        video_url = params.get("video_url", "")
        if not re.match(r"https?://[^/]+/.+", video_url):
            return graph_error("The media could not be fetched from this URI", 9004, subcode=2207052)
        caption = params.get("caption", "")
        problem = self.caption_problem(caption)
        if problem:
            return graph_error(f"(#100) {problem}", 100)
        return Response(200, {"id": self.new_container(caption=caption, video_url=video_url)})

    def caption_problem(self, caption: str) -> str | None:
        if len(caption) > self.CAPTION_LIMIT:
            return f"The caption is {len(caption)} characters; the limit is {self.CAPTION_LIMIT}"
        hashtags = len(re.findall(r"(?<!\w)#\w+", caption))
        if hashtags > self.HASHTAG_LIMIT:
            return f"The caption has {hashtags} hashtags; the limit is {self.HASHTAG_LIMIT}"
        mentions = len(re.findall(r"(?<!\w)@[\w.]+", caption))
        if mentions > self.MENTION_LIMIT:
            return f"The caption has {mentions} @ tags; the limit is {self.MENTION_LIMIT}"
        return None

    def publish(self, request: Request) -> Response:
        if self.within_day(self.published) >= self.quota_total:
            return graph_error("You reached maximum number of posts that is allowed to be published by Content "
                               "Publish API in 24 hours", 9, subcode=2207042)
        container, refusal = self.take_finished(self.params(request).get("creation_id"))
        if refusal:
            return refusal
        media_id = self.new_id()
        container["published_as"] = media_id
        self.published.append({"id": media_id, "caption": container["caption"], "at": self.clock(),
                               "timestamp": graph_time(self.clock()),
                               "permalink": f"https://www.instagram.com/reel/R{media_id[-6:]}/"})
        return Response(200, {"id": media_id})

    def publishing_limit(self, request: Request) -> Response:
        return Response(200, {"data": [{"quota_usage": self.within_day(self.published),
                                        "config": {"quota_total": self.quota_total, "quota_duration": 86400}}]})

    def list_media(self, request: Request) -> Response:
        return self.page(request, self.published, ("caption", "timestamp", "permalink"))

    def read_node(self, request: Request, node: str) -> Response:
        if node in self.containers:
            return Response(200, self.container_status(node))
        media = next((m for m in self.published if m["id"] == node), None)
        if media is None:
            return self.wrong_node(node)
        return Response(200, {"id": node, "permalink": media["permalink"]})


class ThreadsFake(ContainerFake):
    """``/{user}/threads``, ``/{container}``, ``/{user}/threads_publish``, ``/{user}/threads_publishing_limit``,
    ``/{media}/conversation``; replies chain through ``reply_to_id``."""

    status_field = "status"
    TEXT_LIMIT = 500

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
        self.route_v("GET", r"/(?P<node>\d+)", self.read_node)

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
                               "permalink": f"https://www.threads.net/@castmill/post/T{media_id[-6:]}"})
        return Response(200, {"id": media_id})

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


class FacebookFake(MetaGraphFake):
    """A Page: ``/{page}/feed`` posts and the Reels flow ``/{page}/video_reels`` start → upload → finish.

    ``lose_finish_answer = True`` makes the finish call after the next upload happen with its answer
    held back (the Reel IS published): start and finish share a path, so ``hang_next`` cannot pick
    the finish call alone."""

    MESSAGE_LIMIT = 63206
    REELS_PER_DAY = 30  # "Reels API is limited to 30 API-published posts within a 24-hour moving period"

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
        self.route_edge("GET", "video_reels", self.list_reels)
        self.route("POST", r"/video-upload" + VERSION + r"/(?P<video>\d+)", self.upload)

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
                          "permalink_url": f"https://www.facebook.com/{post_id.replace('_', '/posts/')}"})
        return Response(200, {"id": post_id})

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
                           "permalink_url": f"https://www.facebook.com/reel/{video_id}"})
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
