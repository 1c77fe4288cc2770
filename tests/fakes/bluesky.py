"""A fake Bluesky PDS (XRPC) enforcing the lexicon contract and the behaviour observed on a real PDS.

- ``com.atproto.server.createSession``: ``{identifier, password}``; wrong → 401 ``AuthenticationRequired``.
- Other calls need ``Authorization: Bearer <accessJwt>``: missing → 401 ``AuthenticationRequired``,
  unknown → 401 ``InvalidToken``, expired (``expire_sessions()``) → 400 ``ExpiredToken``.
- ``com.atproto.repo.uploadBlob``: raw bytes + Content-Type → ``{blob}``.
- ``com.atproto.repo.createRecord``: ``repo`` must be the session's DID, ``collection``
  ``app.bsky.feed.post``, ``rkey`` a TID (400 otherwise); an rkey in use → bare 500 (as a real
  PDS does). The record is checked against ``app.bsky.feed.post``: ``$type``, ``text`` ≤ 300
  graphemes and ≤ 3000 bytes, ``createdAt`` a datetime, facets shaped right (offsets are NOT
  checked, like the real server), image/video embeds referencing uploaded blobs (images ≤ 1 MB,
  ``alt`` required, ≤ 4), ``reply.root``/``reply.parent`` strong refs. Stricter than a PDS (which
  stores a reply to anything, shown orphaned by the app): refs into this repo must name a stored
  record with that very cid, so a reply that would not show under our post fails here.
- ``com.atproto.repo.getRecord``: 200 ``{uri, cid, value}`` or 400 ``RecordNotFound``.
- ``com.atproto.identity.resolveHandle`` over ``self.handles``; ``app.bsky.feed.getPosts`` with counts.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from datetime import datetime

from pipeline.platforms import get_platform
from pipeline.publish.publishers import Account, Post
from tests.fakes.server import ContractFake, Request, Response

POST = "app.bsky.feed.post"
FACET_TYPES = {"app.bsky.richtext.facet#link": "uri", "app.bsky.richtext.facet#mention": "did",
               "app.bsky.richtext.facet#tag": "tag"}
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")


def _cid(data: bytes, prefix: str = "bafyrei") -> str:
    return prefix + hashlib.sha256(data).hexdigest()[:52]


def _invalid(message: str) -> Response:
    return Response(400, {"error": "InvalidRequest", "message": message})


class FakeBluesky(ContractFake):
    platform = "bluesky"
    create_path = r"/xrpc/com\.atproto\.repo\.createRecord$"
    invalid_message = "grapheme too big"
    token = "abcd-efgh-ijkl-mnop"  # an app password
    handle = "castmill.test"
    did = "did:plc:castmill0000000000000000"

    def __init__(self):
        super().__init__()
        self.handles = {self.handle: self.did, "alice.test": "did:plc:alice00000000000000000000"}
        self.sessions: dict[str, bool] = {}  # access JWT -> still valid
        self.session_count = 0
        self.blobs: dict[str, dict] = {}  # cid -> {"mimeType", "size"}
        self.records: dict[str, dict] = {}  # rkey -> {"uri", "cid", "value", counts…}
        self._jwt = itertools.count(1)
        self.route("POST", r"/xrpc/com\.atproto\.server\.createSession", self.create_session)
        self.route("POST", r"/xrpc/com\.atproto\.repo\.uploadBlob", self.upload_blob)
        self.route("POST", r"/xrpc/com\.atproto\.repo\.createRecord", self.create_record)
        self.route("GET", r"/xrpc/com\.atproto\.repo\.getRecord", self.get_record)
        self.route("GET", r"/xrpc/com\.atproto\.identity\.resolveHandle", self.resolve_handle)
        self.route("GET", r"/xrpc/app\.bsky\.feed\.getPosts", self.get_posts)

    # ---------------------------------------------------------------- ContractFake

    def account(self, *, token: str | None = None) -> Account:
        return Account(platform="bluesky", base_url=self.base_url, handle=self.handle,
                       token=self.token if token is None else token)

    def sample_post(self, key: str) -> Post:
        return Post(parts=("Selamat datang 👋🏽 di episode baru: https://example.com/ep/1 #podcast",), idempotency_key=key)

    def invalid_post(self, key: str) -> Post:
        return Post(parts=("é" * 301,), idempotency_key=key)

    @property
    def post_count(self) -> int:
        return len(self.records)

    def comments_on(self, remote_id: str) -> list[str]:
        """Texts of the records replying to the post at URI ``remote_id``."""
        return [r["value"]["text"] for r in self.records.values()
                if ((r["value"].get("reply") or {}).get("parent") or {}).get("uri") == remote_id]

    def expire_sessions(self) -> None:
        for jwt in self.sessions:
            self.sessions[jwt] = False

    def record(self, index: int = 0) -> dict:
        """The ``index``-th created post record's value (creation order)."""
        return list(self.records.values())[index]["value"]

    # ---------------------------------------------------------------- auth

    def check(self, request: Request) -> Response | None:
        if request.path.endswith("com.atproto.server.createSession"):
            return None
        token = request.bearer()
        if token is None:
            return Response(401, {"error": "AuthenticationRequired", "message": "Authentication Required"})
        if token not in self.sessions:
            return Response(401, {"error": "InvalidToken", "message": "Token could not be verified"})
        if not self.sessions[token]:
            return Response(400, {"error": "ExpiredToken", "message": "Token has expired"})
        return None

    def create_session(self, request: Request) -> Response:
        body = request.json()
        if body.get("identifier") not in (self.handle, self.did) or body.get("password") != self.token:
            return Response(401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"})
        jwt = f"access-jwt-{next(self._jwt)}"
        self.sessions[jwt] = True
        self.session_count += 1
        return Response(200, {"accessJwt": jwt, "refreshJwt": f"refresh-{jwt}", "handle": self.handle,
                              "did": self.did, "active": True})

    # ---------------------------------------------------------------- blobs and records

    def upload_blob(self, request: Request) -> Response:
        mime = request.header("content-type")
        if not mime or not request.body:
            return _invalid("Request encoding (Content-Type) required but not provided")
        cid = _cid(request.body, "bafkrei")
        self.blobs[cid] = {"mimeType": mime, "size": len(request.body)}
        return Response(200, {"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime,
                                       "size": len(request.body)}})

    def create_record(self, request: Request) -> Response:
        body = request.json()
        if body.get("repo") not in (self.did, self.handle):
            return _invalid("Invalid repo")
        if body.get("collection") != POST:
            return _invalid(f"Invalid collection: {body.get('collection')}")
        rkey = body.get("rkey")
        if rkey is None:
            return _invalid("this fake needs a client-chosen rkey")
        if not _TID.fullmatch(rkey):
            return _invalid(f"Invalid record key: {rkey}")
        if rkey in self.records:
            return Response(500, {"error": "InternalServerError", "message": "Internal Server Error"})
        record = body.get("record")
        problem = self._record_problem(record)
        if problem:
            return _invalid(f"Invalid {POST} record: {problem}")
        uri = f"at://{self.did}/{POST}/{rkey}"
        cid = _cid(request.body)
        self.records[rkey] = {"uri": uri, "cid": cid, "value": record, "likeCount": 0, "repostCount": 0,
                              "replyCount": 0, "quoteCount": 0}
        return Response(200, {"uri": uri, "cid": cid, "commit": {"cid": _cid(uri.encode()), "rev": rkey},
                              "validationStatus": "valid"})

    def _record_problem(self, record) -> str | None:
        if not isinstance(record, dict) or record.get("$type") != POST:
            return "Record/$type must be app.bsky.feed.post"
        text = record.get("text")
        if not isinstance(text, str):
            return "Record must have the property \"text\""
        graphemes, size = get_platform("bluesky").count(text), len(text.encode("utf-8"))
        if graphemes > 300:  # the wording a real PDS (@atproto/dev-env 0.3.215) answers
            return f"grapheme too big (maximum 300, got {graphemes}) at $.record.text"
        if size > 3000:
            return f"string too long (maximum 3000, got {size}) at $.record.text"
        try:
            created = datetime.fromisoformat(str(record.get("createdAt")).replace("Z", "+00:00"))
        except ValueError:
            created = None
        if created is None or created.tzinfo is None:
            return "Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)"
        return self._facets_problem(record.get("facets", [])) or self._embed_problem(record.get("embed")) \
            or self._reply_problem(record.get("reply"))

    def _facets_problem(self, facets) -> str | None:
        if not isinstance(facets, list):
            return "Record/facets must be an array"
        for n, facet in enumerate(facets):
            index = facet.get("index") if isinstance(facet, dict) else None
            if not isinstance(index, dict) or not all(isinstance(index.get(k), int) and index[k] >= 0
                                                      for k in ("byteStart", "byteEnd")):
                return f"Record/facets/{n}/index must have integer byteStart and byteEnd"
            for feature in facet.get("features") or [None]:
                field_name = FACET_TYPES.get(feature.get("$type")) if isinstance(feature, dict) else None
                if field_name is None or not isinstance(feature.get(field_name), str):
                    return f"Record/facets/{n}/features must be link, mention or tag with their field"
        return None

    def _embed_problem(self, embed) -> str | None:
        if embed is None:
            return None
        kind = embed.get("$type")
        if kind == "app.bsky.embed.images":
            images = embed.get("images")
            if not isinstance(images, list) or not 1 <= len(images) <= 4:
                return "Record/embed/images must have 1 to 4 items"
            for n, image in enumerate(images):
                if not isinstance(image.get("alt"), str):
                    return f"Record/embed/images/{n} must have the property \"alt\""
                problem = self._blob_problem(image.get("image"), "image/", 1_000_000, f"embed/images/{n}/image")
                if problem:
                    return problem
            return None
        if kind == "app.bsky.embed.video":
            return self._blob_problem(embed.get("video"), "video/mp4", 100_000_000, "embed/video")
        return f"Record/embed has an unsupported $type {kind}"

    def _blob_problem(self, blob, mime_prefix: str, max_size: int, where: str) -> str | None:
        if not isinstance(blob, dict) or blob.get("$type") != "blob":
            return f"Record/{where} should be a blob ref"
        stored = self.blobs.get((blob.get("ref") or {}).get("$link"))
        if stored is None:
            return f"Record/{where} should be a blob ref of an uploaded blob"
        if not stored["mimeType"].startswith(mime_prefix):
            return f"Record/{where} mimeType {stored['mimeType']} is not accepted"
        if stored["size"] > max_size:
            return f"Record/{where} file too large"
        return None

    def _reply_problem(self, reply) -> str | None:
        if reply is None:
            return None
        for end in ("root", "parent"):
            ref = reply.get(end) if isinstance(reply, dict) else None
            if not isinstance(ref, dict) or not str(ref.get("uri", "")).startswith("at://") \
                    or not isinstance(ref.get("cid"), str):
                return f"Record/reply/{end} must be a strong ref {{uri, cid}}"
            if ref["uri"].startswith(f"at://{self.did}/"):
                stored = self.records.get(ref["uri"].rsplit("/", 1)[-1])
                if stored is None or stored["uri"] != ref["uri"] or stored["cid"] != ref["cid"]:
                    return f"Record/reply/{end} names no record of this repo with that cid"
        return None

    def get_record(self, request: Request) -> Response:
        if request.arg("repo") not in (self.did, self.handle) or request.arg("collection") != POST:
            return _invalid("Could not find repo")
        found = self.records.get(request.arg("rkey") or "")
        if found is None:
            uri = f"at://{request.arg('repo')}/{request.arg('collection')}/{request.arg('rkey')}"
            return Response(400, {"error": "RecordNotFound", "message": f"Could not locate record: {uri}"})
        return Response(200, {"uri": found["uri"], "cid": found["cid"], "value": found["value"]})

    def resolve_handle(self, request: Request) -> Response:
        did = self.handles.get((request.arg("handle") or "").lower())
        if did is None:
            return _invalid("Unable to resolve handle")
        return Response(200, {"did": did})

    def get_posts(self, request: Request) -> Response:
        wanted = request.query.get("uris", [])
        posts = [{"uri": r["uri"], "cid": r["cid"], "author": {"did": self.did, "handle": self.handle},
                  "record": r["value"], **{k: r[k] for k in ("likeCount", "repostCount", "replyCount", "quoteCount")}}
                 for r in self.records.values() if r["uri"] in wanted]
        return Response(200, {"posts": posts})


def contract_fake() -> FakeBluesky:
    return FakeBluesky()
