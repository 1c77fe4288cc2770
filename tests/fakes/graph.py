"""Fakes of Meta's Graph API hosts: the shared Graph behaviour and Instagram (Reels containers).
Facebook Pages (feed + Reels) live in ``tests/fakes/facebook.py``, Threads in ``tests/fakes/threads.py``.

They enforce what the real APIs document and answer failures in Graph's error shape
``{"error": {"message", "type", "code", "error_subcode", "is_transient", "fbtrace_id"}}``:

- auth: a token in ``Authorization: Bearer`` or ``access_token`` (both accepted by Graph); a wrong
  token is code 190 (HTTP 400, as Graph answers OAuthException), ``token_expired`` gives 190/463;
- required fields and text limits (Instagram caption ≤ 2,200 characters, ≤ 30 hashtags, ≤ 20
  mentions; Threads 500 characters with emoji counted as UTF-8 bytes; Page posts 63,206);
- the container state machine: IN_PROGRESS for ``processing_polls`` status checks, then FINISHED
  (or ``container_outcome``); publishing before FINISHED is refused; a container publishes once;
- listings (``/{user}/media``, ``/feed``, ``/video_reels``, ``/threads``) newest first, with only the
  ``fields`` asked for; creation times in Graph's format (``timestamp`` / ``created_time``,
  ``2024-05-01T10:00:00+0000``);
- rolling 24-hour publishing quotas (Instagram ``quota_total``, Threads 250 posts / 1,000 replies,
  Facebook 30 Reels), enforced at the publish endpoints the docs name;
- Facebook's Reels upload: ``upload_phase=start`` → bytes to ``upload_url`` with
  ``Authorization: OAuth <token>``, ``offset`` and ``file_size`` headers → ``upload_phase=finish``;
- first comments: ``POST /{media-or-post-id}/comments`` with ``message`` (required) on a published post
  only (code 100/33 otherwise), with the comments permission granted (code 10), within the platform's
  comment limits; ``GET`` on the edge lists them newest first with the ``fields`` asked for;
- engagement reads: a node answers only the ``fields`` it has (an unknown one is Graph's
  "(#100) Tried accessing nonexisting field"), insights edges only their documented metrics
  (retired ones such as Instagram's ``plays`` are refused, failing the whole request, as Meta does)
  in the shape ``{"data": [{"name", "period", "values": [{"value"}], "title", "description", "id"}]}``;
  a metric with no data yet is left out. Each read needs its permission in ``granted`` (code 10 otherwise).

Error codes come from the Graph and Instagram error references where they list one (190, 100,
9/2207042, 9007/2207027, 9004/2207052); where the docs name none (Threads' quota refusal, Facebook's
Reels cap) the fake reuses the nearest documented one. The message texts are the fake's own.
``published`` on each fake is what a person would see on the account: the tests count it.
"""

from __future__ import annotations

import itertools
import re
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

from pipeline.publish.publishers import Account, MediaFile, Post
from tests.fakes.server import ContractFake, Request, Response

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


def split_fields(text: str) -> list[str]:
    """Graph's ``fields`` list split at top-level commas (``a,b.summary(x,y),c`` → 3 items)."""
    items, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    return [item for item in (*items, current.strip()) if item]


def graph_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


class VideoSamples:
    """Mixin for contract fakes of video platforms: ``sample_video()`` writes a small clip into a
    temporary folder that ``stop()`` removes."""

    _video_dir: tempfile.TemporaryDirectory | None = None

    def sample_video(self, name: str = "contract-clip.mp4") -> MediaFile:
        if self._video_dir is None:
            self._video_dir = tempfile.TemporaryDirectory(prefix="castmill-fake-")
        path = Path(self._video_dir.name) / name
        if not path.exists():
            path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 16)
        return MediaFile(path, "video", "video/mp4")

    def stop(self) -> None:
        super().stop()
        if self._video_dir is not None:
            self._video_dir.cleanup()
            self._video_dir = None


class MetaGraphFake(ContractFake):
    """Shared Graph behaviour: token check, ids, parameters from query or form, a clock.

    Each platform subclass also fills in ``ContractFake`` for tests/publish/publishers/test_contract.py."""

    PERMISSIONS: tuple[str, ...] = ()  # what a fully connected account granted (``granted`` starts as this)

    def __init__(self, token: str = "graph-token-secret", user_id: str = "17841400000000001"):
        super().__init__()
        self.token = token
        self.user_id = user_id
        self.token_expired = False
        self.granted = set(self.PERMISSIONS)
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

    # Comments: the permission to post them, the field their text is listed in, the longest one (characters).
    COMMENT_PERMISSION = ""
    COMMENT_TEXT_FIELD = "message"
    COMMENT_LIMIT = 8000

    def route_comments(self) -> None:
        self.comments: dict[str, list[dict]] = {}  # post id -> its comments, oldest first
        self.route_v("POST", r"/(?P<node>[\d_]+)/comments", self.create_comment)
        self.route_v("GET", r"/(?P<node>[\d_]+)/comments", self.list_comments)

    def commentable(self, node: str) -> bool:
        """Whether ``node`` is a published post of this account (subclasses say where they keep them)."""
        raise NotImplementedError

    def comment_problem(self, message: str) -> str | None:
        if len(message) > self.COMMENT_LIMIT:
            return f"The comment is {len(message)} characters; the limit is {self.COMMENT_LIMIT}"
        return None

    def create_comment(self, request: Request, node: str) -> Response:
        if not self.commentable(node):
            return self.wrong_node(node)
        if (refused := self.lacks(self.COMMENT_PERMISSION)) is not None:
            return refused
        message = self.params(request).get("message", "")
        if not message.strip():
            return graph_error("(#100) The parameter message is required", 100)
        if (problem := self.comment_problem(message)) is not None:
            return graph_error(f"(#100) {problem}", 100)
        comment = {"id": self.new_id(), self.COMMENT_TEXT_FIELD: message, "timestamp": graph_time(self.clock())}
        self.comments.setdefault(node, []).append(comment)
        return Response(200, {"id": comment["id"]})

    def list_comments(self, request: Request, node: str) -> Response:
        if not self.commentable(node):
            return self.wrong_node(node)
        return self.page(request, self.comments.get(node, []), (self.COMMENT_TEXT_FIELD, "timestamp"))

    def comments_on(self, remote_id: str) -> list[str]:
        """Texts of the comments on post ``remote_id``, oldest first."""
        return [c[self.COMMENT_TEXT_FIELD] for c in self.comments.get(remote_id, [])]

    def wrong_node(self, node: str) -> Response:
        return graph_error(f"Unsupported request. Object with ID '{node}' does not exist, cannot be loaded due "
                           "to missing permissions, or does not support this operation.", 100, subcode=33)

    def lacks(self, permission: str) -> Response | None:
        """Graph's answer to a call needing a permission the token was not granted (None when granted)."""
        if permission in self.granted:
            return None
        return graph_error("(#10) Application does not have permission for this action", 10, status=403)

    def node_fields(self, request: Request, node_type: str, known: tuple[str, ...]) -> tuple[dict, Response | None]:
        """The ``fields`` a node read asks for, ``{name: modifiers}`` (``reactions.summary(true).limit(0)``
        → ``{"reactions": ".summary(true).limit(0)"}``); an unknown field is refused like Graph does."""
        asked = {}
        for item in split_fields(request.arg("fields") or ""):
            name, dot, modifiers = item.partition(".")
            if name not in ("id", *known):
                return {}, graph_error(f"(#100) Tried accessing nonexisting field ({name}) on node type "
                                       f"({node_type})", 100)
            asked[name] = dot + modifiers
        return asked, None

    def insights(self, request: Request, node: str, allowed: tuple[str, ...], values: dict,
                 edge: str = "insights") -> Response:
        """An insights edge: ``metric`` must name documented metrics; those without data are left out."""
        metrics = [m.strip() for m in (request.arg("metric") or "").split(",") if m.strip()]
        if not metrics:
            return graph_error("(#100) The parameter metric is required", 100)
        for index, metric in enumerate(metrics):
            if metric not in allowed:
                return graph_error(f"(#100) metric[{index}] must be one of the following values: "
                                   f"{', '.join(allowed)}", 100)
        return Response(200, {"data": [
            {"name": metric, "period": "lifetime", "values": [{"value": values[metric]}], "title": metric,
             "description": f"Lifetime {metric}", "id": f"{node}/{edge}/{metric}/lifetime"}
            for metric in metrics if values.get(metric) is not None]})

    def within_day(self, items: list[dict]) -> int:
        now = self.clock()
        return sum(1 for item in items if now - item["at"] < DAY)

    def page(self, request: Request, items: list[dict], fields: tuple[str, ...]) -> Response:
        """Newest first. Like Graph, only the fields the request names (``id`` always); without a
        ``fields`` parameter, every field the edge lists here."""
        limit = int(request.arg("limit", "25"))
        asked = set(filter(None, (request.arg("fields") or "").split(","))) or set(fields)
        keys = [key for key in ("id", *fields) if key == "id" or key in asked]
        return Response(200, {"data": [{key: item[key] for key in keys if key in item}
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


class InstagramFake(VideoSamples, ContainerFake):
    """``/{ig-user-id}/media``, ``/{container-id}``, ``/{ig-user-id}/media_publish``,
    ``/{ig-user-id}/content_publishing_limit``, and ``/{ig-user-id}/media`` listing."""

    platform = "instagram"
    create_path = r"/media_publish$"  # only publishing the container makes the Reel visible
    invalid_message = "the limit is 2200"
    CAPTION_LIMIT = 2200
    HASHTAG_LIMIT = 30
    MENTION_LIMIT = 20
    MEDIA_BASE_URL = "https://clips.example.com/contract/"  # where Meta would fetch the clip from
    PERMISSIONS = ("instagram_basic", "instagram_content_publish", "instagram_manage_insights",
                   "instagram_manage_comments")
    COMMENT_PERMISSION = "instagram_manage_comments"
    COMMENT_TEXT_FIELD = "text"
    COMMENT_LIMIT = 2200
    MEDIA_FIELDS = ("caption", "comments_count", "like_count", "media_product_type", "media_type", "permalink",
                    "timestamp")
    # Instagram Media Insights reference, per media_product_type (plays & co. retired in April 2025)
    INSIGHT_METRICS = {"REELS": ("comments", "likes", "reach", "saved", "shares", "total_interactions", "views",
                                 "ig_reels_avg_watch_time", "ig_reels_video_view_total_time"),
                       "FEED": ("comments", "likes", "reach", "saved", "shares", "total_interactions", "views",
                                "follows", "profile_visits", "profile_activity")}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.quota_total = 50  # the reference's example config (quota_total 50, quota_duration 86400)
        self.route_edge("POST", "media", self.create_container)
        self.route_edge("POST", "media_publish", self.publish)
        self.route_edge("GET", "content_publishing_limit", self.publishing_limit)
        self.route_edge("GET", "media", self.list_media)
        self.route_comments()
        self.route_v("GET", r"/(?P<media>\d+)/insights", self.media_insights)
        self.route_v("GET", r"/(?P<node>\d+)", self.read_node)

    # ---------------------------------------------------------------- ContractFake

    def account(self, *, token: str | None = None) -> Account:
        return Account("instagram", self.base_url, token=self.token if token is None else token, handle=self.user_id,
                       extra={"media_base_url": self.MEDIA_BASE_URL})

    def sample_post(self, key: str) -> Post:
        return Post(parts=(f"Why small shows win ({key}) #podcast",), idempotency_key=key,
                    media=(self.sample_video(),))

    def invalid_post(self, key: str) -> Post:
        return Post(parts=("x" * (self.CAPTION_LIMIT + 1),), idempotency_key=key, media=(self.sample_video(),))

    @property
    def post_count(self) -> int:
        return len(self.published)

    # ---------------------------------------------------------------- routes

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
                               "permalink": f"https://www.instagram.com/reel/R{media_id[-6:]}/",
                               "media_type": "VIDEO", "media_product_type": "REELS", "like_count": 0,
                               "comments_count": 0, "views": None, "shares": 0})
        return Response(200, {"id": media_id})

    def commentable(self, node: str) -> bool:
        return any(m["id"] == node for m in self.published)

    def comment_problem(self, message: str) -> str | None:
        hashtags = len(re.findall(r"(?<!\w)#\w+", message))
        if hashtags > self.HASHTAG_LIMIT:
            return f"The comment has {hashtags} hashtags; the limit is {self.HASHTAG_LIMIT}"
        return super().comment_problem(message)

    def engage(self, media_id: str, **counts) -> None:
        """Set a media's numbers: ``like_count``, ``comments_count``, ``views`` (None = no insights yet),
        ``shares``, or ``media_product_type``."""
        media = next(m for m in self.published if m["id"] == media_id)
        media.update(counts)

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
        refusal = self.lacks("instagram_basic")
        asked, unknown = self.node_fields(request, "IGMedia", self.MEDIA_FIELDS)
        if refusal or unknown:
            return refusal or unknown
        return Response(200, {"id": node, **{name: media[name] for name in asked if name != "id"}})

    def media_insights(self, request: Request, media: str) -> Response:
        found = next((m for m in self.published if m["id"] == media), None)
        if found is None:
            return self.wrong_node(media)
        refusal = self.lacks("instagram_manage_insights")
        if refusal:
            return refusal
        numbers = {"likes": found["like_count"], "comments": found["comments_count"], "views": found["views"],
                   "shares": found["shares"]}
        return self.insights(request, media, self.INSIGHT_METRICS.get(found["media_product_type"], ()), numbers)


CONTRACT_FAKES = {"instagram": InstagramFake}  # Facebook and Threads have contract_fake() in their own modules
