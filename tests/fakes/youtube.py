"""A fake of the YouTube Data API v3: resumable ``videos.insert`` plus the reads ``find_existing`` uses.

Enforced as Google documents it:

- ``Authorization: Bearer``; otherwise 401 with ``reason: authError`` (Google's error shape
  ``{"error": {"code", "message", "errors": [{"domain", "reason", "message"}], "status"}}``);
- a daily project quota in units (``quota_limit``; each call's cost in ``costs``): past it every
  call is ``403 quotaExceeded`` (domain ``youtube.quota``); the channel's own daily upload cap
  (``upload_cap``) is ``400 uploadLimitExceeded``;
- session start: ``uploadType=resumable``, ``part`` naming snippet and status, the
  ``X-Upload-Content-Length`` and ``X-Upload-Content-Type`` (video/* or application/octet-stream)
  headers, a title of 1–100 characters and a description of ≤ 5,000 bytes, neither containing
  ``<`` or ``>`` (``invalidTitle`` / ``invalidDescription``), tags of ≤ 500 characters in all
  (``invalidTags``), a known privacy status; the answer's ``Location`` is the session URI;
- ``PUT`` to the session: exactly the announced number of bytes, once; the video then exists
  (``videos`` grows) and the answer is the video resource;
- ``channels?mine=true`` → the uploads playlist; ``playlistItems`` (≤ 50) newest first; ``videos?id=``
  with the ``part``s asked for (``snippet``, ``status``, ``statistics``: counts as strings, and a
  count the owner hid or turned off left out); a ``part`` is required, an unknown one is ``unknownPart``.
  A channel without any upload has no uploads playlist yet: ``playlistItems`` answers
  ``404 playlistNotFound`` for it, as the real API does (Elijas/auto-youtube-subscription-playlist-2#86).

The session URI has the same path as the session start, so for the contract test
``fail_next``/``hang_next`` on ``create_path`` without a method mean the ``PUT`` of the bytes, the
call that creates the video.
"""

from __future__ import annotations

import itertools

from pipeline.publish.publishers import Account, Post
from tests.fakes.graph import VideoSamples
from tests.fakes.server import ContractFake, Request, Response

PRIVACY = ("public", "private", "unlisted")
VIDEO_PARTS = ("id", "snippet", "status", "statistics", "contentDetails")


def google_error(status: int, reason: str, message: str, domain: str = "youtube.video") -> Response:
    return Response(status, {"error": {"code": status, "message": message,
                                       "errors": [{"domain": domain, "reason": reason, "message": message}]}})


class YouTubeFake(VideoSamples, ContractFake):
    platform = "youtube"
    create_path = r"^/upload/youtube/v3/videos$"  # the PUT of the bytes creates the video (see the docstring)
    invalid_message = "invalid video description"
    DESCRIPTION_LIMIT = 5000  # bytes

    def __init__(self, token: str = "ya29.youtube-SECRET", channel_id: str = "UCcastmillDemo00000000"):
        super().__init__()
        self.token = token
        self.channel_id = channel_id
        self.token_expired = False
        self.quota_limit = 10000
        self.quota_used = 0
        self.costs = {"insert": 1600, "read": 1}  # units per call (videos.insert is the expensive one)
        self.upload_cap = 100
        self.sessions: dict[str, dict] = {}
        self.videos: list[dict] = []
        self._ids = itertools.count(1)
        self.route("POST", r"/upload/youtube/v3/videos", self.start_session)
        self.route("PUT", r"/upload/youtube/v3/videos", self.upload)
        self.route("GET", r"/youtube/v3/channels", self.channels)
        self.route("GET", r"/youtube/v3/playlistItems", self.playlist_items)
        self.route("GET", r"/youtube/v3/videos", self.list_videos)

    # ---------------------------------------------------------------- ContractFake

    def account(self, *, token: str | None = None) -> Account:
        return Account("youtube", self.base_url, token=self.token if token is None else token, handle=self.channel_id)

    def sample_post(self, key: str) -> Post:
        return Post(parts=(f"Why small shows win ({key}).\nMore in the episode.",), idempotency_key=key,
                    media=(self.sample_video(),))

    def invalid_post(self, key: str) -> Post:
        return Post(parts=("x" * (self.DESCRIPTION_LIMIT + 1),), idempotency_key=key, media=(self.sample_video(),))

    @property
    def post_count(self) -> int:
        return len(self.videos)

    def fail_next(self, status: int, *, method: str | None = None, path: str | None = None, **kwargs) -> None:
        super().fail_next(status, method=self._upload_method(method, path), path=path, **kwargs)

    def hang_next(self, *, method: str | None = None, path: str | None = None, **kwargs) -> None:
        super().hang_next(method=self._upload_method(method, path), path=path, **kwargs)

    def _upload_method(self, method: str | None, path: str | None) -> str | None:
        return "PUT" if method is None and path == self.create_path else method

    # ---------------------------------------------------------------- routes

    @property
    def uploads_playlist(self) -> str:
        return "UU" + self.channel_id[2:]

    def check(self, request: Request) -> Response | None:
        if request.bearer() != self.token or self.token_expired:
            return google_error(401, "authError", "Request had invalid authentication credentials. Expected "
                                "OAuth 2 access token, login cookie or other valid authentication credential.",
                                domain="global")
        cost = self.costs["insert"] if request.method == "POST" else 0 if request.method == "PUT" else \
            self.costs["read"]
        if self.quota_used + cost > self.quota_limit:
            return google_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded "
                                "your quota.", domain="youtube.quota")
        self.quota_used += cost
        return None

    def start_session(self, request: Request) -> Response:
        if request.arg("uploadType") != "resumable":
            return google_error(400, "badRequest", "uploadType must be resumable for this fake", domain="global")
        if not {"snippet", "status"} <= set((request.arg("part") or "").split(",")):
            return google_error(400, "missingRequiredParameter", "part must name snippet and status")
        length, kind = request.header("x-upload-content-length"), request.header("x-upload-content-type") or ""
        if not (length or "").isdigit() or not (kind.startswith("video/") or kind == "application/octet-stream"):
            return google_error(400, "badRequest", "X-Upload-Content-Length and a video X-Upload-Content-Type "
                                "are required", domain="global")
        if len(self.videos) >= self.upload_cap:  # the fake's day never ends
            return google_error(400, "uploadLimitExceeded", "The user has exceeded the number of videos they may "
                                "upload.")
        try:
            resource = request.json()
        except ValueError:
            return google_error(400, "badRequest", "the body must be a video resource", domain="global")
        problem = self.resource_problem(resource)
        if problem:
            return problem
        upload_id = f"up{next(self._ids)}"
        self.sessions[upload_id] = {"length": int(length), "resource": resource, "done": False}
        location = self.url(f"/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status&upload_id={upload_id}")
        return Response(200, {}, headers={"Location": location})

    def resource_problem(self, resource: dict) -> Response | None:
        snippet, status = resource.get("snippet") or {}, resource.get("status") or {}
        title, description = snippet.get("title") or "", snippet.get("description") or ""
        if not title.strip() or len(title) > 100 or "<" in title or ">" in title:
            return google_error(400, "invalidTitle", "The request metadata specifies an invalid or empty video title.")
        if len(description.encode("utf-8")) > self.DESCRIPTION_LIMIT or "<" in description or ">" in description:
            return google_error(400, "invalidDescription", "The request metadata specifies an invalid video "
                                "description.")
        if sum(len(tag) for tag in snippet.get("tags") or []) > 500:
            return google_error(400, "invalidTags", "The request metadata specifies invalid video keywords.")
        if status.get("privacyStatus", "public") not in PRIVACY:
            return google_error(400, "invalidVideoMetadata", "The request metadata is invalid.")
        return None

    def upload(self, request: Request) -> Response:
        session = self.sessions.get(request.arg("upload_id") or "")
        if session is None or session["done"]:
            return google_error(404, "notFound", "No such upload session.", domain="global")
        if len(request.body) != session["length"]:
            return google_error(400, "badRequest", f"expected {session['length']} bytes, got {len(request.body)}",
                                domain="global")
        session["done"] = True
        video_id = f"yt{next(self._ids):09d}"
        video = {"kind": "youtube#video", "id": video_id, "snippet": {**session["resource"]["snippet"],
                                                                      "channelId": self.channel_id},
                 "status": {"uploadStatus": "uploaded", **(session["resource"].get("status") or {})},
                 "statistics": {"viewCount": "0", "likeCount": "0", "favoriteCount": "0", "commentCount": "0"},
                 "bytes": len(request.body)}
        self.videos.append(video)
        return Response(200, {key: value for key, value in video.items() if key not in ("bytes", "statistics")})

    def channels(self, request: Request) -> Response:
        if request.arg("mine") != "true":
            return google_error(400, "missingRequiredParameter", "this fake answers mine=true only")
        return Response(200, {"items": [{"id": self.channel_id,
                                         "contentDetails": {"relatedPlaylists": {"uploads": self.uploads_playlist}}}]})

    def playlist_items(self, request: Request) -> Response:
        if request.arg("playlistId") != self.uploads_playlist or not self.videos:
            return google_error(404, "playlistNotFound", "The playlist identified with the request's playlistId "
                                "parameter cannot be found.")
        if int(request.arg("maxResults", "5")) > 50:
            return google_error(400, "invalidParameter", "maxResults must be at most 50", domain="global")
        latest = list(reversed(self.videos))[: int(request.arg("maxResults", "5"))]
        return Response(200, {"items": [{"contentDetails": {"videoId": v["id"]}} for v in latest]})

    def list_videos(self, request: Request) -> Response:
        parts = [p for p in (request.arg("part") or "").split(",") if p]
        if not parts:
            return google_error(400, "required", "Required parameter: part", domain="global")
        unknown = [p for p in parts if p not in VIDEO_PARTS]
        if unknown:
            return google_error(400, "unknownPart", f"'{unknown[0]}' is not a valid part", domain="youtube.part")
        wanted = (request.arg("id") or "").split(",")
        return Response(200, {"kind": "youtube#videoListResponse", "items": [
            {"kind": "youtube#video", "id": v["id"], **{p: v[p] for p in parts if p in v and p != "id"}}
            for v in self.videos if v["id"] in wanted]})

    def engage(self, video_id: str, **statistics) -> None:
        """Set a video's ``viewCount``, ``likeCount``, ``commentCount`` (numbers; None removes the count,
        as when the owner hides likes or turns comments off)."""
        stats = next(v for v in self.videos if v["id"] == video_id)["statistics"]
        for key, value in statistics.items():
            if value is None:
                stats.pop(key, None)
            else:
                stats[key] = str(value)


def contract_fake() -> YouTubeFake:
    return YouTubeFake()
