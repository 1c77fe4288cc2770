"""A fake Mastodon instance enforcing the documented API contract (docs.joinmastodon.org).

- Every call needs ``Authorization: Bearer <token>``; otherwise 401 ``{"error": "The access token is invalid"}``.
- ``POST /api/v2/media`` (multipart ``file`` with a MIME type, optional ``description``): images
  200 with a ``url``; video/audio 202 with ``url: null``, then ``GET /api/v1/media/:id`` answers 206
  (empty body) ``processing_polls`` times before 200.
- ``POST /api/v1/statuses`` (form or JSON): ``status``, ``media_ids[]``, ``in_reply_to_id``,
  ``visibility``, ``language``, … Unknown fields are ignored (Rails strong parameters) — so a
  client sending ``text`` instead of ``status`` gets 422 "Text can't be blank". Over 500
  characters as Mastodon counts (``get_platform("mastodon").count``) → 422; unprocessed media →
  422; ``Idempotency-Key`` repeats within ``idempotency_ttl`` seconds return the original status.
- ``GET /api/v1/accounts/verify_credentials``, ``GET /api/v1/accounts/:id/statuses`` (newest
  first, ``limit`` ≤ 40, ``max_id``), ``GET /api/v1/statuses/:id`` with counts.
- Status ``content`` is HTML as Mastodon renders plain text: paragraphs, ``<br />``, links with
  invisible/ellipsis spans, mentions shown as ``@user``.
"""

from __future__ import annotations

import html
import itertools
import time
from dataclasses import dataclass, field

from pipeline.platforms import get_platform
from pipeline.platforms import text as textlib
from pipeline.publish.publishers import Account, MediaFile, Post
from tests.fakes.server import ContractFake, Request, Response

TEXT_LIMIT = 500
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
ASYNC_TYPES = ("video/mp4", "video/quicktime", "video/webm", "audio/mpeg", "audio/mp4", "audio/ogg", "audio/wav")


@dataclass
class FakeMedia:
    id: str
    type: str
    mime: str
    size: int
    description: str
    polls_left: int  # 206 answers still to give
    attached: bool = False


@dataclass
class FakeStatus:
    id: str
    text: str
    media_ids: list[str]
    in_reply_to_id: str | None
    visibility: str
    language: str | None
    created_at: float
    counts: dict = field(default_factory=lambda: {"favourites_count": 0, "reblogs_count": 0, "replies_count": 0})


class FakeMastodon(ContractFake):
    platform = "mastodon"
    create_path = r"^/api/v1/statuses$"
    invalid_message = "character limit of 500 exceeded"
    token = "mastodon-token-0123456789"
    username = "castmill"
    account_id = "109000000000000001"

    def __init__(self, *, processing_polls: int = 2, idempotency_ttl: float = 3600.0):
        super().__init__()
        self.processing_polls = processing_polls
        self.idempotency_ttl = idempotency_ttl
        self.clock = time.time  # tests may replace it to move time forward
        self.statuses: dict[str, FakeStatus] = {}
        self.media: dict[str, FakeMedia] = {}
        self.idempotency: dict[str, tuple[str, float]] = {}  # key -> (status id, stored at)
        self._ids = itertools.count(110_000_000_000_000_001)
        self.route("POST", r"/api/v2/media", self.upload_media)
        self.route("GET", r"/api/v1/media/(?P<media_id>\d+)", self.get_media)
        self.route("POST", r"/api/v1/statuses", self.create_status)
        self.route("GET", r"/api/v1/statuses/(?P<status_id>\d+)", self.get_status)
        self.route("GET", r"/api/v1/accounts/verify_credentials", self.verify_credentials)
        self.route("GET", r"/api/v1/accounts/(?P<account_id>\d+)/statuses", self.account_statuses)

    # ---------------------------------------------------------------- ContractFake

    def account(self, *, token: str | None = None) -> Account:
        return Account(platform="mastodon", base_url=self.base_url, token=self.token if token is None else token,
                       handle=self.username)

    def sample_post(self, key: str) -> Post:
        return Post(parts=("New episode! https://example.com/ep/1 #podcast",), idempotency_key=key)

    def invalid_post(self, key: str) -> Post:
        return Post(parts=("word " * 120,), idempotency_key=key)

    @property
    def post_count(self) -> int:
        return len(self.statuses)

    def comments_on(self, remote_id: str) -> list[str]:
        """Texts of the statuses replying to status ``remote_id``."""
        return [s.text for s in self.statuses.values() if s.in_reply_to_id == remote_id]

    # ---------------------------------------------------------------- auth

    def check(self, request: Request) -> Response | None:
        if request.bearer() != self.token:
            return Response(401, {"error": "The access token is invalid"})
        return None

    # ---------------------------------------------------------------- media

    def upload_media(self, request: Request) -> Response:
        parts = {part.name: part for part in request.multipart()}
        upload = parts.get("file")
        if upload is None or not upload.filename or upload.content_type not in IMAGE_TYPES + ASYNC_TYPES:
            return Response(422, {"error": "Validation failed: File content type is invalid, File is invalid"})
        is_image = upload.content_type in IMAGE_TYPES
        media = FakeMedia(id=str(next(self._ids)), type=upload.content_type.split("/")[0], mime=upload.content_type,
                          size=len(upload.data), description=parts["description"].text if "description" in parts else "",
                          polls_left=0 if is_image else self.processing_polls)
        self.media[media.id] = media
        return Response(200 if is_image else 202, self._media_json(media, ready=is_image))

    def get_media(self, request: Request, media_id: str) -> Response:
        media = self.media.get(media_id)
        if media is None:
            return Response(404, {"error": "Record not found"})
        if media.polls_left > 0:
            media.polls_left -= 1
            return Response(206, body=b"")
        return Response(200, self._media_json(media, ready=True))

    def _media_json(self, media: FakeMedia, *, ready: bool) -> dict:
        url = f"{self.base_url}/system/media/{media.id}.bin" if ready else None
        return {"id": media.id, "type": media.type, "url": url, "preview_url": f"{self.base_url}/p/{media.id}",
                "description": media.description or None}

    # ---------------------------------------------------------------- statuses

    def create_status(self, request: Request) -> Response:
        fields = _fields(request)
        key = request.header("idempotency-key")
        if key and (stored := self.idempotency.get(key)) and self.clock() - stored[1] < self.idempotency_ttl:
            return Response(200, self._status_json(self.statuses[stored[0]]))
        text = (fields.get("status") or [""])[0]
        media_ids = fields.get("media_ids[]", [])
        problem = self._status_problem(text, media_ids, fields)
        if problem:
            return problem
        status = FakeStatus(id=str(next(self._ids)), text=text, media_ids=media_ids,
                            in_reply_to_id=(fields.get("in_reply_to_id") or [None])[0],
                            visibility=(fields.get("visibility") or ["public"])[0],
                            language=(fields.get("language") or [None])[0], created_at=self.clock())
        for media_id in media_ids:
            self.media[media_id].attached = True
        if status.in_reply_to_id:
            self.statuses[status.in_reply_to_id].counts["replies_count"] += 1
        self.statuses[status.id] = status
        if key:
            self.idempotency[key] = (status.id, self.clock())
        return Response(200, self._status_json(status))

    def _status_problem(self, text: str, media_ids: list[str], fields: dict) -> Response | None:
        if not text.strip() and not media_ids:
            return Response(422, {"error": "Validation failed: Text can't be blank"})
        if get_platform("mastodon").count(text) > TEXT_LIMIT:
            return Response(422, {"error": f"Validation failed: Text character limit of {TEXT_LIMIT} exceeded"})
        if len(media_ids) > 4:
            return Response(422, {"error": "Validation failed: Media attachments too many"})
        for media_id in media_ids:
            media = self.media.get(media_id)
            if media is None or media.attached:
                return Response(422, {"error": "Validation failed: Media attachments are invalid"})
            if media.polls_left > 0:
                return Response(422, {"error": "Cannot attach files that have not finished processing. "
                                               "Try again in a moment!"})
        reply_to = (fields.get("in_reply_to_id") or [None])[0]
        if reply_to and reply_to not in self.statuses:
            return Response(404, {"error": "Record not found"})
        visibility = (fields.get("visibility") or ["public"])[0]
        if visibility not in ("public", "unlisted", "private", "direct"):
            return Response(422, {"error": f"Validation failed: Visibility '{visibility}' is not a valid visibility"})
        return None

    def get_status(self, request: Request, status_id: str) -> Response:
        status = self.statuses.get(status_id)
        if status is None:
            return Response(404, {"error": "Record not found"})
        return Response(200, self._status_json(status))

    def verify_credentials(self, request: Request) -> Response:
        return Response(200, self._account_json())

    def account_statuses(self, request: Request, account_id: str) -> Response:
        if account_id != self.account_id:
            return Response(404, {"error": "Record not found"})
        limit = min(int(request.arg("limit") or 20), 40)
        newest_first = sorted(self.statuses.values(), key=lambda s: int(s.id), reverse=True)
        max_id = request.arg("max_id")
        if max_id:
            newest_first = [s for s in newest_first if int(s.id) < int(max_id)]
        return Response(200, [self._status_json(s) for s in newest_first[:limit]])

    # ---------------------------------------------------------------- rendering

    def _account_json(self) -> dict:
        return {"id": self.account_id, "username": self.username, "acct": self.username,
                "url": f"{self.base_url}/@{self.username}"}

    def _status_json(self, status: FakeStatus) -> dict:
        return {"id": status.id, "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(status.created_at)),
                "in_reply_to_id": status.in_reply_to_id, "visibility": status.visibility, "language": status.language,
                "uri": f"{self.base_url}/users/{self.username}/statuses/{status.id}",
                "url": f"{self.base_url}/@{self.username}/{status.id}", "content": render_html(status.text),
                "media_attachments": [self._media_json(self.media[m], ready=True) for m in status.media_ids],
                "account": self._account_json(), **status.counts}


def _fields(request: Request) -> dict[str, list[str]]:
    """Form, multipart or JSON parameters as lists of strings (JSON arrays keep Rails' ``name[]``)."""
    content_type = (request.header("content-type") or "").lower()
    if content_type.startswith("application/json"):
        fields: dict[str, list[str]] = {}
        for name, value in request.json().items():
            if isinstance(value, list):
                fields[f"{name}[]"] = [str(v) for v in value]
            elif value is not None:
                fields[name] = [str(value).lower() if isinstance(value, bool) else str(value)]
        return fields
    if content_type.startswith("multipart/form-data"):
        fields = {}
        for part in request.multipart():
            fields.setdefault(part.name, []).append(part.text)
        return fields
    return request.form()


def render_html(text: str) -> str:
    """Plain text as Mastodon's formatter renders it."""
    return "".join(f"<p>{_render_paragraph(p)}</p>" for p in text.split("\n\n"))


def _render_paragraph(text: str) -> str:
    out, position = [], 0
    spans = [(s.start, s.end, "url", s.text) for s in textlib.find_urls(text, bare_domains=False)]
    spans += [(s.start, s.end, "mention", (user, domain)) for s, user, domain in textlib.find_mentions(text)]
    for start, end, kind, value in sorted(spans):
        out.append(html.escape(text[position:start]).replace("\n", "<br />"))
        out.append(_link(value) if kind == "url" else _mention(*value))
        position = end
    out.append(html.escape(text[position:]).replace("\n", "<br />"))
    return "".join(out)


def _link(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return (f'<a href="{html.escape(url)}" rel="nofollow noopener" target="_blank">'
            f'<span class="invisible">{scheme}://</span><span class="ellipsis">{html.escape(rest[:30])}</span>'
            f'<span class="invisible">{html.escape(rest[30:])}</span></a>')


def _mention(user: str, domain: str | None) -> str:
    href = f"https://{domain or 'local'}/@{user}"
    return f'<span class="h-card"><a href="{href}" class="u-url mention">@<span>{html.escape(user)}</span></a></span>'


def sample_media(tmp_path, kind: str = "video") -> MediaFile:
    """A small media file of ``kind`` for tests (contents are not inspected)."""
    name, mime = ("clip.mp4", "video/mp4") if kind == "video" else ("cover.png", "image/png")
    path = tmp_path / name
    path.write_bytes(b"\x00" * 2048)
    return MediaFile(path, kind, mime, alt=f"{kind} alt text")


def contract_fake() -> FakeMastodon:
    return FakeMastodon()
