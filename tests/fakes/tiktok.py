"""A fake of TikTok's Content Posting API (Direct Post, FILE_UPLOAD) and the Display API's video list.

Enforced as TikTok documents it:

- ``Authorization: Bearer`` on every API call (401 ``access_token_invalid`` otherwise); none needed on
  the upload URL, which carries its own token;
- answers are ``{"data": {...}, "error": {"code", "message", "log_id"}}`` with ``code == "ok"`` on success;
- ``creator_info/query`` → ``privacy_level_options``; ``video/init`` needs a ``privacy_level`` from
  them (``privacy_level_option_mismatch``), refuses anything but ``SELF_ONLY`` from an unaudited client
  (403 ``unaudited_client_can_only_post_to_private_accounts``), a title over 2,200 UTF-16 units
  (``invalid_params``), chunk plans that break the Media Transfer Guide (under 5 MB whole; chunks of
  5–64 MB; ``total_chunk_count = video_size // chunk_size``; last chunk ≤ 128 MB; ≤ 1,000 chunks),
  more than 6 init calls a minute per token (429 ``rate_limit_exceeded``) and more than ``daily_cap``
  posts in 24 hours (403 ``spam_risk_too_many_posts``);
- chunks arrive in order with a matching ``Content-Range``; 206 for a partial upload, 201 at the end,
  when the post is handed to TikTok (``published`` grows, unless ``outcome == "FAILED"``);
- ``status/fetch`` answers ``PROCESSING_UPLOAD`` for ``processing_polls`` calls, then ``outcome``;
- ``/v2/video/list/`` needs ``fields`` and lists *public* videos only, newest first, with title and
  description cut to 150 characters;
- ``/v2/video/query/?fields=…`` with ``{"filters": {"video_ids": [...]}}`` (1–20 ids) answers the
  account's public videos among them with the fields asked for (``like_count``, ``comment_count``,
  ``share_count``, ``view_count`` …); ids that are not such a video are simply not in ``videos``;
- both reads need the ``video.list`` scope in ``scopes`` (401 ``scope_not_authorized`` otherwise).

``contract_fake()`` is an *audited* app posting ``PUBLIC_TO_EVERYONE``: the contract reconciles a
timed-out publish with ``find_existing``, and only public videos are listed (for a private,
unaudited account the publisher answers OutcomeUnknown by design, covered in test_tiktok.py).
"""

from __future__ import annotations

import itertools
import re
import time

from pipeline.publish.publishers import Account, Post
from tests.fakes.graph import VideoSamples
from tests.fakes.server import ContractFake, Request, Response

MB = 1024 * 1024
TITLE_LIMIT = 2200
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
VIDEO_FIELDS = ("id", "create_time", "cover_image_url", "share_url", "video_description", "duration", "height",
                "width", "title", "embed_html", "embed_link", "like_count", "comment_count", "share_count",
                "view_count")  # the Display API's Video Object


def tiktok_error(status: int, code: str, message: str) -> Response:
    return Response(status, {"data": {}, "error": {"code": code, "message": message, "log_id": "202611231800FAKE"}})


def ok(data: dict) -> Response:
    return Response(200, {"data": data, "error": {"code": "ok", "message": "", "log_id": "202611231800FAKE"}})


def chunk_problem(size: int, chunk: int, count: int) -> str | None:
    if size <= 0:
        return "video_size must be positive"
    if size < 5 * MB:
        return None if (chunk, count) == (size, 1) else "videos under 5 MB must be uploaded whole"
    if not 5 * MB <= chunk <= 64 * MB:
        return "chunk_size must be between 5 MB and 64 MB"
    if count != size // chunk or not 1 <= count <= 1000:
        return "total_chunk_count must be video_size divided by chunk_size, rounded down (1–1000)"
    if size - (count - 1) * chunk > 128 * MB:
        return "the final chunk may not exceed 128 MB"
    return None


class TikTokFake(VideoSamples, ContractFake):
    platform = "tiktok"
    create_path = r"^/upload/"  # completing the upload hands the video to TikTok
    invalid_message = "longer than 2200 UTF-16"

    def __init__(self, token: str = "act.tiktok-SECRET", username: str = "castmill_demo"):
        super().__init__()
        self.token = token
        self.username = username
        self.token_expired = False
        self.audited = False
        self.privacy_options = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
        self.daily_cap = 15
        self.processing_polls = 1
        self.outcome = "PUBLISH_COMPLETE"
        self.scopes = {"user.info.basic", "video.publish", "video.upload", "video.list"}
        self.clock = time.time
        self.publishes: dict[str, dict] = {}
        self.published: list[dict] = []
        self._inits: list[float] = []
        self._ids = itertools.count(7300000000000000001)
        self.route("POST", r"/v2/post/publish/creator_info/query/", self.creator_info)
        self.route("POST", r"/v2/post/publish/video/init/", self.init)
        self.route("PUT", r"/upload/(?P<upload_id>\w+)", self.upload)
        self.route("POST", r"/v2/post/publish/status/fetch/", self.status)
        self.route("POST", r"/v2/video/list/", self.list_videos)
        self.route("POST", r"/v2/video/query/", self.query_videos)

    # ---------------------------------------------------------------- ContractFake

    def account(self, *, token: str | None = None) -> Account:
        return Account("tiktok", self.base_url, token=self.token if token is None else token, handle=self.username,
                       extra={"audited": self.audited})

    def sample_post(self, key: str) -> Post:
        return Post(parts=(f"Why small shows win ({key}) #podcast",), idempotency_key=key, media=(self.sample_video(),))

    def invalid_post(self, key: str) -> Post:
        return Post(parts=("x" * (TITLE_LIMIT + 1),), idempotency_key=key, media=(self.sample_video(),))

    @property
    def post_count(self) -> int:
        return len(self.published)

    # ---------------------------------------------------------------- routes

    def check(self, request: Request) -> Response | None:
        if request.path.startswith("/upload/"):
            return None
        if request.bearer() != self.token or self.token_expired:
            return tiktok_error(401, "access_token_invalid",
                                "The access token is invalid or not found in the request.")
        return None

    def creator_info(self, request: Request) -> Response:
        return ok({"creator_avatar_url": "https://p16.example/avatar.jpg", "creator_username": self.username,
                   "creator_nickname": "Castmill Demo", "privacy_level_options": list(self.privacy_options),
                   "comment_disabled": False, "duet_disabled": False, "stitch_disabled": False,
                   "max_video_post_duration_sec": 600})

    def init(self, request: Request) -> Response:
        now = self.clock()
        self._inits = [t for t in self._inits if now - t < 60] + [now]
        if len(self._inits) > 6:
            return Response(429, {"data": {}, "error": {"code": "rate_limit_exceeded", "log_id": "x",
                                                        "message": "The API rate limit was exceeded."}},
                            headers={"Retry-After": "60"})
        try:
            body = request.json()
            post, source = body["post_info"], body["source_info"]
        except (ValueError, KeyError, TypeError):
            return tiktok_error(400, "invalid_params", "post_info and source_info are required")
        refusal = self.post_info_problem(post) or self.source_problem(source)
        if refusal:
            return refusal
        if sum(1 for p in self.published if now - p["at"] < 86400) >= self.daily_cap:
            return tiktok_error(403, "spam_risk_too_many_posts", "The daily post cap from the API is reached "
                                                                 "for the current user.")
        publish_id = f"v_pub_file~v2-1.{next(self._ids)}"
        upload_id = f"up{next(self._ids)}"
        self.publishes[publish_id] = {"upload_id": upload_id, "size": source["video_size"],
                                      "chunk": source["chunk_size"], "count": source["total_chunk_count"],
                                      "received": 0, "chunks": 0, "title": post.get("title", ""),
                                      "privacy": post["privacy_level"], "polls": self.processing_polls,
                                      "done": False, "post_id": None}
        return ok({"publish_id": publish_id, "upload_url": self.url(f"/upload/{upload_id}?upload_token=fake")})

    def post_info_problem(self, post: dict) -> Response | None:
        title = post.get("title", "")
        if len(title.encode("utf-16-le")) // 2 > TITLE_LIMIT:
            return tiktok_error(400, "invalid_params", f"post_info.title is longer than {TITLE_LIMIT} UTF-16 runes")
        privacy = post.get("privacy_level")
        if privacy not in self.privacy_options:
            return tiktok_error(400, "privacy_level_option_mismatch",
                                "privacy_level is not one of the creator's privacy_level_options")
        if not self.audited and privacy != "SELF_ONLY":
            return tiktok_error(403, "unaudited_client_can_only_post_to_private_accounts",
                                "Please review our integration guidelines: unaudited clients can only post "
                                "to private accounts")
        return None

    def source_problem(self, source: dict) -> Response | None:
        if source.get("source") != "FILE_UPLOAD":
            return tiktok_error(400, "invalid_params", "this fake only takes source FILE_UPLOAD")
        try:
            size, chunk, count = (int(source[k]) for k in ("video_size", "chunk_size", "total_chunk_count"))
        except (KeyError, TypeError, ValueError):
            return tiktok_error(400, "invalid_params", "video_size, chunk_size and total_chunk_count are required")
        problem = chunk_problem(size, chunk, count)
        return tiktok_error(400, "invalid_params", problem) if problem else None

    def upload(self, request: Request, upload_id: str) -> Response:
        job = next((j for j in self.publishes.values() if j["upload_id"] == upload_id), None)
        if job is None or job["done"]:
            return tiktok_error(404, "invalid_params", "unknown or finished upload")
        if request.header("content-type") not in VIDEO_TYPES:
            return tiktok_error(400, "invalid_file_upload", "Content-Type must be a video type")
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", request.header("content-range") or "")
        if match is None:
            return tiktok_error(400, "invalid_params", "Content-Range is required: bytes first-last/total")
        first, last, total = (int(g) for g in match.groups())
        last_chunk = job["chunks"] == job["count"] - 1
        expected_end = job["size"] - 1 if last_chunk else first + job["chunk"] - 1
        if total != job["size"] or first != job["received"] or last != expected_end \
                or len(request.body) != last - first + 1:
            return tiktok_error(400, "invalid_params", f"chunk out of order or wrong size: {first}-{last}/{total}")
        job["received"], job["chunks"] = last + 1, job["chunks"] + 1
        if not last_chunk:
            return Response(206, body=b"", content_type="text/plain")
        job["done"] = True
        if self.outcome != "FAILED":
            job["post_id"] = str(next(self._ids))
            self.published.append({"id": job["post_id"], "title": job["title"], "privacy": job["privacy"],
                                   "at": self.clock(), "size": job["size"], "like_count": 0, "comment_count": 0,
                                   "share_count": 0, "view_count": 0})
        return Response(201, body=b"", content_type="text/plain")

    def status(self, request: Request) -> Response:
        job = self.publishes.get((request.json() or {}).get("publish_id", ""))
        if job is None:
            return tiktok_error(400, "invalid_params", "publish_id not found")
        if not job["done"] or job["polls"] > 0:
            job["polls"] -= job["done"]
            return ok({"status": "PROCESSING_UPLOAD", "uploaded_bytes": job["received"]})
        if self.outcome == "FAILED":
            return ok({"status": "FAILED", "fail_reason": "file_format_check_failed"})
        public = [job["post_id"]] if job["privacy"] != "SELF_ONLY" else []
        return ok({"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": public,
                   "uploaded_bytes": job["size"]})

    def list_videos(self, request: Request) -> Response:
        fields, refusal = self.video_fields(request)
        if refusal:
            return refusal
        count = min(int((request.json() or {}).get("max_count", 10)), 20)
        public = [p for p in reversed(self.published) if p["privacy"] != "SELF_ONLY"][:count]
        return ok({"videos": [self.video_object(post, fields) for post in public], "cursor": 0, "has_more": False})

    def query_videos(self, request: Request) -> Response:
        fields, refusal = self.video_fields(request)
        if refusal:
            return refusal
        try:
            ids = request.json()["filters"]["video_ids"]
        except (ValueError, KeyError, TypeError):
            return tiktok_error(400, "invalid_params", "filters.video_ids is required")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 20 or not all(isinstance(i, str) for i in ids):
            return tiktok_error(400, "invalid_params", "filters.video_ids must list 1 to 20 video ids")
        found = [p for p in self.published if p["id"] in ids and p["privacy"] != "SELF_ONLY"]
        return ok({"videos": [self.video_object(post, fields) for post in found]})

    def video_fields(self, request: Request) -> tuple[list[str], Response | None]:
        if "video.list" not in self.scopes:
            return [], tiktok_error(401, "scope_not_authorized",
                                    "The user did not authorize the scope required for completing this request.")
        fields = [f for f in (request.arg("fields") or "").split(",") if f]
        if not fields:
            return [], tiktok_error(400, "invalid_params", "fields is required")
        unknown = [f for f in fields if f not in VIDEO_FIELDS]
        if unknown:
            return [], tiktok_error(400, "invalid_params", f"invalid fields: {', '.join(unknown)}")
        return fields, None

    def video_object(self, post: dict, fields: list[str]) -> dict:
        full = {"id": post["id"], "title": post["title"][:150], "video_description": post["title"][:150],
                "create_time": int(post["at"]),
                "share_url": f"https://www.tiktok.com/@{self.username}/video/{post['id']}",
                **{key: post[key] for key in ("like_count", "comment_count", "share_count", "view_count")}}
        return {key: value for key, value in full.items() if key in fields}

    def engage(self, post_id: str, **counts) -> None:
        """Set a video's ``like_count``, ``comment_count``, ``share_count`` or ``view_count``."""
        next(p for p in self.published if p["id"] == post_id).update(counts)


def contract_fake() -> TikTokFake:
    fake = TikTokFake()
    fake.audited = True  # public posts, so find_existing can see them (see the module docstring)
    return fake
