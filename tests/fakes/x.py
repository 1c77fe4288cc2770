"""A fake X API v2 enforcing the documented contract for posting, media upload and reading tweets.

- Every call needs ``Authorization: Bearer <token>``; else 401 problem ``{"title": "Unauthorized", …}``.
- ``POST /2/tweets``: JSON only (400 otherwise); unknown top-level fields → 400 "is not defined
  in the schema"; weighted length over 280 (``get_platform("x").count``) → 400 "Your Tweet text is
  too long"; the same text as an earlier tweet of the account → 403 duplicate content (X only says
  "within a time frame" it does not document: ``duplicate_window`` seconds, None = any age); media ids
  must be uploaded and processed; ``reply.in_reply_to_tweet_id`` must exist.
- Stored tweets read back the way X returns them: URLs become ``https://t.co/…`` with
  ``entities.urls`` (``expanded_url`` gets ``http://`` for bare domains), ``&<>`` are HTML-escaped,
  a media link is appended; ``created_at`` (ISO 8601 UTC with milliseconds, ``2019-06-04T23:12:08.000Z``,
  from ``clock``), ``entities``/``referenced_tweets``/``public_metrics`` only when asked for in
  ``tweet.fields``.
- Media: ``initialize`` → ``{id}/append`` (multipart, ≤ 5 MB, segment 0–999) → ``{id}/finalize``
  (bytes must add up; video answers ``processing_info`` pending) → ``GET /2/media/upload?command=STATUS``
  (``processing_polls`` ``in_progress`` answers, then ``succeeded``); ``POST /2/media/metadata``.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import time
from dataclasses import dataclass, field

from pipeline.platforms import get_platform
from pipeline.platforms import text as textlib
from pipeline.publish.publishers import Account, Post
from tests.fakes.server import ContractFake, Request, Response

TWEET_FIELDS = {"text", "media", "reply", "quote_tweet_id", "poll", "reply_settings", "for_super_followers_only",
                "geo", "direct_message_deep_link", "nullcast", "card_uri", "community_id", "share_with_followers",
                "made_with_ai", "paid_partnership"}
CATEGORIES = {"tweet_image", "tweet_video", "tweet_gif", "amplify_video", "dm_image", "dm_video", "dm_gif",
              "subtitles"}
MAX_CHUNK = 5 * 1024 * 1024


def _problem(status: int, title: str, detail: str, errors: list[str] | None = None) -> Response:
    body: dict = {"title": title, "detail": detail, "type": "about:blank", "status": status}
    if errors:
        body = {"errors": [{"parameters": {}, "message": m} for m in errors], "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request"}
    return Response(status, body)


@dataclass
class FakeUpload:
    id: str
    media_type: str
    category: str
    total_bytes: int
    chunks: dict[int, bytes] = field(default_factory=dict)
    state: str = "uploading"  # uploading | in_progress | succeeded | failed
    polls_left: int = 0
    alt_text: str = ""


@dataclass
class FakeTweet:
    id: str
    source_text: str  # what the client sent
    text: str  # as X returns it
    urls: list[dict]
    media_ids: list[str]
    reply_to: str | None
    created_at: float  # epoch seconds
    metrics: dict = field(default_factory=lambda: {"retweet_count": 0, "reply_count": 0, "like_count": 0,
                                                   "quote_count": 0, "impression_count": 0})


class FakeX(ContractFake):
    platform = "x"
    create_path = r"^/2/tweets$"
    invalid_message = "Your Tweet text is too long"
    token = "x-user-token-0123456789"
    user = {"id": "1500000000000000001", "name": "Castmill", "username": "castmill"}

    def __init__(self, *, processing_polls: int = 2):
        super().__init__()
        self.processing_polls = processing_polls
        self.processing_error: dict | None = None  # set to {"code", "name", "message"} to fail video processing
        self.clock = time.time  # tests may replace it to date tweets in the past
        self.duplicate_window: float | None = None  # seconds a text counts as a duplicate; None = forever
        self.tweets: dict[str, FakeTweet] = {}
        self.uploads: dict[str, FakeUpload] = {}
        self._ids = itertools.count(1_800_000_000_000_000_001)
        self.route("GET", r"/2/users/me", self.me)
        self.route("POST", r"/2/tweets", self.create_tweet)
        self.route("GET", r"/2/tweets/(?P<tweet_id>\d+)", self.get_tweet)
        self.route("GET", r"/2/users/(?P<user_id>\d+)/tweets", self.user_tweets)
        self.route("POST", r"/2/media/upload/initialize", self.initialize)
        self.route("POST", r"/2/media/upload/(?P<media_id>\d+)/append", self.append)
        self.route("POST", r"/2/media/upload/(?P<media_id>\d+)/finalize", self.finalize)
        self.route("GET", r"/2/media/upload", self.status)
        self.route("POST", r"/2/media/metadata", self.metadata)

    # ---------------------------------------------------------------- ContractFake

    def account(self, *, token: str | None = None) -> Account:
        return Account(platform="x", base_url=self.base_url, token=self.token if token is None else token,
                       handle=self.user["username"])

    def sample_post(self, key: str) -> Post:
        return Post(parts=(f"New episode ({key}) & more: https://example.com/ep/1 #podcast",), idempotency_key=key)

    def invalid_post(self, key: str) -> Post:
        return Post(parts=("a" * 281,), idempotency_key=key)

    @property
    def post_count(self) -> int:
        return len(self.tweets)

    def comments_on(self, remote_id: str) -> list[str]:
        """Texts of the replies to tweet ``remote_id``, oldest first."""
        return [t.source_text for t in self.tweets.values() if t.reply_to == remote_id]

    def check(self, request: Request) -> Response | None:
        if request.bearer() != self.token:
            return _problem(401, "Unauthorized", "Unauthorized")
        return None

    # ---------------------------------------------------------------- tweets

    def me(self, request: Request) -> Response:
        return Response(200, {"data": self.user})

    def create_tweet(self, request: Request) -> Response:
        if not (request.header("content-type") or "").startswith("application/json"):
            return _problem(400, "Invalid Request", "", ["Requests with bodies must have content-type of application/json."])
        body = request.json()
        unknown = sorted(set(body) - TWEET_FIELDS)
        if unknown:
            return _problem(400, "Invalid Request", "", [f"$.{name}: is not defined in the schema and the schema does "
                                                         f"not allow additional properties" for name in unknown])
        text = body.get("text", "")
        media_ids = (body.get("media") or {}).get("media_ids") or []
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        problem = self._tweet_problem(text, media_ids, reply_to)
        if problem:
            return problem
        tweet = self._store(text, media_ids, reply_to)
        return Response(201, {"data": {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}})

    def _tweet_problem(self, text: str, media_ids: list, reply_to: str | None) -> Response | None:
        if not text and not media_ids:
            return _problem(400, "Invalid Request", "", ["$.text: must not be empty when no media is attached"])
        if get_platform("x").count(text) > 280:
            return _problem(400, "Bad Request", "Your Tweet text is too long. For more information on how Twitter "
                                                "determines text length see https://github.com/twitter/twitter-text.")
        if any(t.source_text == text and self._recent_enough_to_clash(t) for t in self.tweets.values()):
            return _problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        if len(media_ids) > 4 or not all(isinstance(m, str) for m in media_ids):
            return _problem(400, "Invalid Request", "", ["$.media.media_ids: must be 1 to 4 strings"])
        for media_id in media_ids:
            upload = self.uploads.get(media_id)
            if upload is None or upload.state != "succeeded":
                return _problem(400, "Invalid Request", "", [f"Your media IDs are invalid: {media_id}"])
        if reply_to is not None and reply_to not in self.tweets:
            return _problem(403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you.")
        return None

    def _recent_enough_to_clash(self, tweet: FakeTweet) -> bool:
        return self.duplicate_window is None or self.clock() - tweet.created_at < self.duplicate_window

    def _store(self, text: str, media_ids: list[str], reply_to: str | None) -> FakeTweet:
        shown, urls, position = [], [], 0
        for span in textlib.find_urls(text):
            shown.append(html.escape(text[position:span.start], quote=False))
            tco = "https://t.co/" + hashlib.sha256(span.text.encode()).hexdigest()[:10]
            expanded = span.text if "://" in span.text else f"http://{span.text}"
            urls.append({"url": tco, "expanded_url": expanded, "display_url": span.text.split("://")[-1][:25]})
            shown.append(tco)
            position = span.end
        shown.append(html.escape(text[position:], quote=False))
        returned = "".join(shown)
        if media_ids:
            tco = "https://t.co/" + hashlib.sha256(media_ids[0].encode()).hexdigest()[:10]
            urls.append({"url": tco, "expanded_url": "https://x.com/castmill/status/0/photo/1",
                         "display_url": "pic.x.com/abc", "media_key": f"3_{media_ids[0]}"})
            returned = f"{returned} {tco}".strip()
        tweet = FakeTweet(str(next(self._ids)), text, returned, urls, list(media_ids), reply_to, self.clock())
        self.tweets[tweet.id] = tweet
        if reply_to:
            self.tweets[reply_to].metrics["reply_count"] += 1
        return tweet

    def _tweet_json(self, tweet: FakeTweet, fields: set[str]) -> dict:
        data: dict = {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}
        if "created_at" in fields:
            data["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(tweet.created_at))
        if "entities" in fields and tweet.urls:
            data["entities"] = {"urls": [dict(u) for u in tweet.urls]}
        if "referenced_tweets" in fields and tweet.reply_to:
            data["referenced_tweets"] = [{"type": "replied_to", "id": tweet.reply_to}]
        if "public_metrics" in fields:
            data["public_metrics"] = dict(tweet.metrics)
        if "author_id" in fields:
            data["author_id"] = self.user["id"]
        return data

    def get_tweet(self, request: Request, tweet_id: str) -> Response:
        tweet = self.tweets.get(tweet_id)
        if tweet is None:
            return Response(200, {"errors": [{"value": tweet_id, "detail": f"Could not find tweet with id: [{tweet_id}].",
                                              "title": "Not Found Error", "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        return Response(200, {"data": self._tweet_json(tweet, _fields(request))})

    def user_tweets(self, request: Request, user_id: str) -> Response:
        size = int(request.arg("max_results") or 10)
        if not 5 <= size <= 100:
            return _problem(400, "Invalid Request", "", [f"The `max_results` query parameter value [{size}] is not between 5 and 100"])
        newest_first = sorted(self.tweets.values(), key=lambda t: int(t.id), reverse=True) if user_id == self.user["id"] else []
        start = int(request.arg("pagination_token") or 0)
        page = newest_first[start:start + size]
        meta: dict = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        if start + size < len(newest_first):
            meta["next_token"] = str(start + size)
        body: dict = {"meta": meta}
        if page:
            body["data"] = [self._tweet_json(t, _fields(request)) for t in page]
        return Response(200, body)

    # ---------------------------------------------------------------- media

    def initialize(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body.get("total_bytes"), int) or not body.get("media_type"):
            return _problem(400, "Invalid Request", "", ["$.total_bytes and $.media_type are required"])
        if body.get("media_category", "tweet_image") not in CATEGORIES:
            return _problem(400, "Invalid Request", "", [f"$.media_category: {body['media_category']} is not valid"])
        upload = FakeUpload(str(next(self._ids)), body["media_type"], body.get("media_category", "tweet_image"),
                            body["total_bytes"])
        self.uploads[upload.id] = upload
        return Response(200, {"data": {"id": upload.id, "media_key": f"7_{upload.id}", "expires_after_secs": 86400}})

    def append(self, request: Request, media_id: str) -> Response:
        upload = self.uploads.get(media_id)
        parts = {p.name: p for p in request.multipart()}
        if upload is None or upload.state != "uploading":
            return _problem(400, "Invalid Request", "", ["Invalid media_id"])
        if "media" not in parts or "segment_index" not in parts:
            return _problem(400, "Invalid Request", "", ["media and segment_index are required"])
        index = int(parts["segment_index"].text)
        if not 0 <= index <= 999 or len(parts["media"].data) > MAX_CHUNK:
            return _problem(400, "Invalid Request", "", ["segment_index must be 0-999 and a chunk at most 5 MB"])
        upload.chunks[index] = parts["media"].data
        return Response(200, {"data": {"expires_at": 0}})

    def finalize(self, request: Request, media_id: str) -> Response:
        upload = self.uploads.get(media_id)
        if upload is None or upload.state != "uploading":
            return _problem(400, "Invalid Request", "", ["Invalid media_id"])
        received = sum(len(c) for c in upload.chunks.values())
        if received != upload.total_bytes or sorted(upload.chunks) != list(range(len(upload.chunks))):
            return _problem(400, "Invalid Request", "", [f"File size mismatch: got {received} of {upload.total_bytes}"])
        data: dict = {"id": upload.id, "media_key": f"7_{upload.id}", "size": received, "expires_after_secs": 86400}
        if upload.category.endswith(("video", "gif")):
            upload.state, upload.polls_left = "in_progress", self.processing_polls
            data["processing_info"] = {"state": "pending", "check_after_secs": 1}
        else:
            upload.state = "succeeded"
        return Response(200, {"data": data})

    def status(self, request: Request) -> Response:
        upload = self.uploads.get(request.arg("media_id") or "")
        if request.arg("command") != "STATUS" or upload is None:
            return _problem(400, "Invalid Request", "", ["command=STATUS and a valid media_id are required"])
        if upload.state == "in_progress":
            upload.polls_left -= 1
            if upload.polls_left < 0:
                upload.state = "failed" if self.processing_error else "succeeded"
        info = {"state": upload.state, "check_after_secs": 1, "progress_percent": 100 if upload.state == "succeeded" else 50}
        if upload.state == "failed":
            info["error"] = self.processing_error
        return Response(200, {"data": {"id": upload.id, "media_key": f"7_{upload.id}", "processing_info": info}})

    def metadata(self, request: Request) -> Response:
        body = request.json()
        upload = self.uploads.get(str(body.get("id")))
        alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        if upload is None or not isinstance(alt, str) or len(alt) > 1000:
            return _problem(400, "Invalid Request", "", ["$.id and $.metadata.alt_text.text (≤ 1000) are required"])
        upload.alt_text = alt
        return Response(200, {"data": {"associated_metadata": {"alt_text": {"text": alt}}}})


def _fields(request: Request) -> set[str]:
    return set(filter(None, (request.arg("tweet.fields") or "").split(",")))


def contract_fake() -> FakeX:
    return FakeX()
