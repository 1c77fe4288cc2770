"""A fake LinkedIn versioned REST API (Posts, Videos, Images) enforcing the documented contract.

- Every call needs ``Authorization: Bearer <token>`` (401 ``{"serviceErrorCode": 65600, "message":
  "Invalid access token", "status": 401}``). ``/rest`` calls also need ``LinkedIn-Version``
  (missing → 400 ``VERSION_MISSING``; not in ``active_versions`` → 426 ``NONEXISTENT_VERSION``, as
  LinkedIn answers for a retired version) and ``X-Restli-Protocol-Version: 2.0.0``.
- ``POST /rest/posts``: required ``author`` (the token's member/organization), ``commentary``,
  ``visibility``, ``distribution``, ``lifecycleState``; unknown fields → 422. Commentary is read as
  "little" text: escapes are honoured, ``{hashtag|#|tag}`` becomes ``#tag``, and — like LinkedIn —
  the text is silently cut at the first unescaped reserved character (``posts[..]["text"]`` shows
  what readers would see). Over 3,000 characters → 422; a text equal to an earlier post's → 422
  ``DUPLICATE_POST`` "Content is a duplicate of urn:li:share:…". 201 with ``x-restli-id``.
- ``GET /rest/posts?q=author``: newest first; 403 ``ACCESS_DENIED`` when ``read_permission`` is False.
- Videos: ``initializeUpload`` splits the size into ``part_size`` byte ranges with upload URLs on this
  server; ``PUT`` answers an ``ETag``; ``finalizeUpload`` needs every ETag in order; the video is
  ``PROCESSING`` for ``processing_polls`` reads, then ``AVAILABLE``. Images: one ``PUT``.
- ``GET /rest/socialActions/{urn}``, ``GET /v2/userinfo``.
- Comments: ``POST /rest/socialActions/{urn}/comments`` ``{actor, object, message: {text}}``: the urn
  must be an existing post and equal ``object`` (404 otherwise), ``actor`` the token's author (403),
  ``message.text`` required and at most 1,250 characters (422); 201 with ``x-restli-id`` and the
  comment. ``GET`` on the same path lists them (``elements``: ``id``, ``actor``, ``object``, ``message``).

The 400 ``VERSION_MISSING`` wording is this fake's own; the 426, 401, 422 duplicate and 403 bodies
follow answers LinkedIn has been seen to give.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from urllib.parse import unquote

from pipeline.platforms import get_platform
from pipeline.publish.publishers import Account, Post
from pipeline.publish.publishers.linkedin import API_VERSION
from tests.fakes.server import ContractFake, Request, Response

POST_FIELDS = {"author", "commentary", "visibility", "distribution", "lifecycleState", "isReshareDisabledByAuthor",
               "content", "contentLandingPage", "contentCallToActionLabel", "adContext", "container", "reshareContext"}
REQUIRED = ("author", "commentary", "visibility", "distribution", "lifecycleState")
RESERVED = set("|{}@[]()<>#\\*_~")


def decode_little(commentary: str) -> str:
    """What LinkedIn shows for a "little" commentary (cut at the first unescaped reserved character)."""
    out, i = [], 0
    while i < len(commentary):
        ch = commentary[i]
        if ch == "\\" and i + 1 < len(commentary):
            out.append(commentary[i + 1])
            i += 2
        elif commentary.startswith("{hashtag|", i) and (end := commentary.find("}", i)) != -1:
            _, sign, tag = commentary[i + 1:end].split("|", 2)
            out.append(sign + tag.replace("\\", ""))
            i = end + 1
        elif ch in RESERVED:
            break  # LinkedIn drops the rest of the text
        else:
            out.append(ch)
            i += 1
    return "".join(out)


@dataclass
class FakeVideo:
    urn: str
    size: int
    parts: list[tuple[int, int]]
    received: dict[int, bytes] = field(default_factory=dict)
    etags: dict[int, str] = field(default_factory=dict)
    status: str = "WAITING_UPLOAD"
    polls_left: int = 0


COMMENT_LIMIT = 1250  # characters of a comment's message.text


class FakeLinkedIn(ContractFake):
    platform = "linkedin"
    create_path = r"^/rest/posts$"
    invalid_message = "/commentary"
    token = "AQV-linkedin-token-0123456789"
    author = "urn:li:person:Ab12Cd34"

    def __init__(self, *, part_size: int = 4 * 1024 * 1024, processing_polls: int = 2,
                 active_versions: tuple[str, ...] = (API_VERSION,)):
        super().__init__()
        self.part_size = part_size
        self.processing_polls = processing_polls
        self.active_versions = active_versions
        self.read_permission = True
        self.fail_processing = False  # True: videos end PROCESSING_FAILED instead of AVAILABLE
        self.posts: dict[str, dict] = {}  # urn -> {"body", "text", "likes", "comments"}
        self.comments: dict[str, list[dict]] = {}  # post urn -> its comments, oldest first
        self.videos: dict[str, FakeVideo] = {}
        self.images: dict[str, bytes | None] = {}
        self._ids = itertools.count(7_400_000_000_000_000_001)
        self.route("POST", r"/rest/posts", self.create_post)
        self.route("GET", r"/rest/posts", self.find_posts)
        self.route("POST", r"/rest/videos", self.videos_action)
        self.route("GET", r"/rest/videos/(?P<urn>[^/]+)", self.get_video)
        self.route("PUT", r"/upload/video/(?P<video>\d+)/(?P<part>\d+)", self.put_video_part)
        self.route("POST", r"/rest/images", self.images_action)
        self.route("PUT", r"/upload/image/(?P<image>\d+)", self.put_image)
        self.route("GET", r"/rest/socialActions/(?P<urn>[^/]+)", self.social_actions)
        self.route("POST", r"/rest/socialActions/(?P<urn>[^/]+)/comments", self.create_comment)
        self.route("GET", r"/rest/socialActions/(?P<urn>[^/]+)/comments", self.list_comments)
        self.route("GET", r"/v2/userinfo", self.userinfo)

    # ---------------------------------------------------------------- ContractFake

    def account(self, *, token: str | None = None, **extra) -> Account:
        return Account(platform="linkedin", base_url=self.base_url, token=self.token if token is None else token,
                       handle=self.author, extra=extra)

    def sample_post(self, key: str) -> Post:
        return Post(parts=("New episode (45 min) about #podcasting: https://example.com/ep/1 ~ enjoy_it",),
                    idempotency_key=key)

    def invalid_post(self, key: str) -> Post:
        return Post(parts=("word " * 700,), idempotency_key=key)

    @property
    def post_count(self) -> int:
        return len(self.posts)

    def comments_on(self, remote_id: str) -> list[str]:
        """Texts of the comments on post ``remote_id``."""
        return [c["message"]["text"] for c in self.comments.get(remote_id, [])]

    def check(self, request: Request) -> Response | None:
        if request.bearer() != self.token:
            return Response(401, {"serviceErrorCode": 65600, "message": "Invalid access token", "status": 401})
        if not request.path.startswith("/rest/"):
            return None
        version = request.header("linkedin-version")
        if not version:
            return Response(400, {"status": 400, "code": "VERSION_MISSING",
                                  "message": "A version must be present. Please specify a version by adding the "
                                             "LinkedIn-Version header."})
        if version not in self.active_versions:
            return Response(426, {"status": 426, "code": "NONEXISTENT_VERSION",
                                  "message": f"Requested version {version} is not active"})
        if request.header("x-restli-protocol-version") != "2.0.0":
            return Response(400, {"status": 400, "message": "X-Restli-Protocol-Version 2.0.0 is required"})
        return None

    # ---------------------------------------------------------------- posts

    def create_post(self, request: Request) -> Response:
        body = request.json()
        unknown = sorted(set(body) - POST_FIELDS)
        missing = [name for name in REQUIRED if name not in body]
        if unknown or missing:
            problems = [f"ERROR :: /{n} :: unrecognized field found but not allowed" for n in unknown]
            problems += [f"ERROR :: /{n} :: field is required but not found and has no default value" for n in missing]
            return _unprocessable("\n".join(problems))
        if body["author"] != self.author:
            return Response(403, {"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
                                  "message": f"Not enough permissions to post as {body['author']}"})
        text = decode_little(body["commentary"])
        if get_platform("linkedin").count(text) > 3000:
            return _unprocessable("ERROR :: /commentary :: length of commentary exceeds the maximum of 3000")
        duplicate = next((urn for urn, p in self.posts.items() if p["text"] == text), None)
        if duplicate:
            return Response(422, {"errorDetailType": "com.linkedin.common.error.BadRequest",
                                  "message": "com.linkedin.content.common.exception.BadRequestResponseException: "
                                             f"Content is a duplicate of {duplicate}",
                                  "errorDetails": {"inputErrors": [{"description": "Duplicate post is detected",
                                                                    "input": {}, "code": "DUPLICATE_POST"}]},
                                  "status": 422})
        problem = self._content_problem(body.get("content"))
        if problem:
            return _unprocessable(problem)
        urn = f"urn:li:share:{next(self._ids)}"
        self.posts[urn] = {"body": body, "text": text, "likes": 0, "comments": 0}
        return Response(201, body=b"", headers={"x-restli-id": urn})

    def _content_problem(self, content) -> str | None:
        if content is None:
            return None
        items = [content["media"]] if "media" in content else (content.get("multiImage") or {}).get("images", [])
        if not items:
            return "ERROR :: /content :: media or multiImage is required"
        for item in items:
            urn = item.get("id", "")
            if urn.startswith("urn:li:video:"):
                if self.videos.get(urn) is None or self.videos[urn].status != "AVAILABLE":
                    return f"ERROR :: /content/media/id :: {urn} is not an available video"
            elif self.images.get(urn) is None:
                return f"ERROR :: /content/media/id :: {urn} is not an uploaded image"
        return None

    def find_posts(self, request: Request) -> Response:
        if request.arg("q") != "author":
            return Response(400, {"status": 400, "message": "q=author is required"})
        if not self.read_permission:
            return Response(403, {"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
                                  "message": "Not enough permissions to access: partnerApiPostsExternal.FINDER-author"})
        count = int(request.arg("count") or 10)
        newest_first = [urn for urn in reversed(self.posts) if self.posts[urn]["body"]["author"] == request.arg("author")]
        elements = [{"id": urn, **self.posts[urn]["body"]} for urn in newest_first[:count]]
        return Response(200, {"elements": elements, "paging": {"start": 0, "count": count, "total": len(newest_first)}})

    def social_actions(self, request: Request, urn: str) -> Response:
        post = self.posts.get(unquote(urn))
        if post is None:
            return Response(404, {"status": 404, "message": "Not found"})
        return Response(200, {"likesSummary": {"totalLikes": post["likes"]},
                              "commentsSummary": {"aggregatedTotalComments": post["comments"]}})

    def create_comment(self, request: Request, urn: str) -> Response:
        urn = unquote(urn)
        body = request.json()
        if urn not in self.posts or body.get("object") != urn:
            return Response(404, {"status": 404, "message": f"Not found: {urn}"})
        if body.get("actor") != self.author:
            return Response(403, {"status": 403, "code": "ACCESS_DENIED",
                                  "message": f"Not enough permissions to comment as {body.get('actor')}"})
        text = (body.get("message") or {}).get("text")
        if not isinstance(text, str) or not text.strip():
            return _unprocessable("ERROR :: /message/text :: field is required but not found and has no default value")
        if len(text) > COMMENT_LIMIT:
            return _unprocessable(f"ERROR :: /message/text :: length exceeds the maximum of {COMMENT_LIMIT}")
        comment = {"id": str(next(self._ids)), "actor": body["actor"], "object": urn, "message": {"text": text}}
        self.comments.setdefault(urn, []).append(comment)
        self.posts[urn]["comments"] += 1
        return Response(201, comment, headers={"x-restli-id": comment["id"]})

    def list_comments(self, request: Request, urn: str) -> Response:
        urn = unquote(urn)
        if urn not in self.posts:
            return Response(404, {"status": 404, "message": f"Not found: {urn}"})
        found = self.comments.get(urn, [])
        return Response(200, {"elements": found, "paging": {"start": 0, "count": len(found), "total": len(found)}})

    def userinfo(self, request: Request) -> Response:
        return Response(200, {"sub": self.author.rsplit(":", 1)[1], "name": "Castmill"})

    # ---------------------------------------------------------------- videos and images

    def videos_action(self, request: Request) -> Response:
        body = request.json()
        if request.arg("action") == "initializeUpload":
            init = body.get("initializeUploadRequest") or {}
            if init.get("owner") != self.author or not isinstance(init.get("fileSizeBytes"), int):
                return _unprocessable("ERROR :: /initializeUploadRequest :: owner and fileSizeBytes are required")
            number = next(self._ids)
            size = init["fileSizeBytes"]
            parts = [(start, min(start + self.part_size, size) - 1) for start in range(0, size, self.part_size)]
            video = FakeVideo(f"urn:li:video:C{number}", size, parts)
            self.videos[video.urn] = video
            instructions = [{"uploadUrl": self.url(f"/upload/video/{number}/{i}"), "firstByte": a, "lastByte": b}
                            for i, (a, b) in enumerate(parts)]
            return Response(200, {"value": {"uploadUrlsExpireAt": 0, "video": video.urn,
                                            "uploadInstructions": instructions, "uploadToken": ""}})
        if request.arg("action") == "finalizeUpload":
            final = body.get("finalizeUploadRequest") or {}
            video = self.videos.get(final.get("video", ""))
            expected = [video.etags.get(i) for i in range(len(video.parts))] if video else None
            if video is None or final.get("uploadedPartIds") != expected:
                return _unprocessable("ERROR :: /finalizeUploadRequest/uploadedPartIds :: parts missing or out of order")
            video.status, video.polls_left = "PROCESSING", self.processing_polls
            return Response(200, body=b"")
        return Response(400, {"status": 400, "message": "unknown action"})

    def put_video_part(self, request: Request, video: str, part: str) -> Response:
        found = self.videos.get(f"urn:li:video:C{video}")
        index = int(part)
        if found is None or index >= len(found.parts):
            return Response(404, {"status": 404, "message": "no such upload"})
        first, last = found.parts[index]
        if len(request.body) != last - first + 1:
            return Response(400, {"status": 400, "message": "part size does not match the byte range"})
        found.received[index] = request.body
        found.etags[index] = "/" + hashlib.md5(request.body).hexdigest()
        return Response(200, body=b"", headers={"ETag": f'"{found.etags[index]}"'})

    def get_video(self, request: Request, urn: str) -> Response:
        video = self.videos.get(unquote(urn))
        if video is None:
            return Response(404, {"status": 404, "message": "Not found"})
        if video.status == "PROCESSING":
            video.polls_left -= 1
            if video.polls_left < 0:
                video.status = "PROCESSING_FAILED" if self.fail_processing else "AVAILABLE"
        return Response(200, {"id": video.urn, "status": video.status, "owner": self.author})

    def images_action(self, request: Request) -> Response:
        init = request.json().get("initializeUploadRequest") or {}
        if request.arg("action") != "initializeUpload" or init.get("owner") != self.author:
            return _unprocessable("ERROR :: /initializeUploadRequest/owner :: required")
        number = next(self._ids)
        urn = f"urn:li:image:C{number}"
        self.images[urn] = None
        return Response(200, {"value": {"uploadUrlExpiresAt": 0, "uploadUrl": self.url(f"/upload/image/{number}"),
                                        "image": urn}})

    def put_image(self, request: Request, image: str) -> Response:
        urn = f"urn:li:image:C{image}"
        if urn not in self.images or not request.body:
            return Response(400, {"status": 400, "message": "no such upload or empty body"})
        self.images[urn] = request.body
        return Response(201, body=b"")


def _unprocessable(message: str) -> Response:
    return Response(422, {"status": 422, "message": message})


def contract_fake() -> FakeLinkedIn:
    return FakeLinkedIn()
