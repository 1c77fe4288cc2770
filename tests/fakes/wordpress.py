"""A fake WordPress site (REST API ``/wp-json/wp/v2``) enforcing the documented contract.

Sources: developer.wordpress.org/rest-api (reference/posts, reference/media, reference/users,
using-the-rest-api/authentication) and WordPress core (``WP_REST_Posts_Controller``,
``WP_REST_Attachments_Controller``, ``wp_authenticate_application_password``,
``rest_authorization_required_code``), whose codes and messages are copied here.

- Auth: HTTP Basic ``username:application password`` (non-alphanumerics in the password are
  ignored, as WordPress strips them). Unknown user → 401 ``invalid_username``; wrong password →
  401 ``incorrect_password``; no or another scheme → anonymous. A permission failure answers 401
  when anonymous and 403 when signed in. ``role`` (administrator, editor, author, contributor,
  subscriber) decides the rights: create posts (``rest_cannot_create``), publish
  (``rest_cannot_publish``), upload files, use ``context=edit`` (``rest_forbidden_context``),
  list other statuses than publish (400 ``rest_invalid_param`` "Status is forbidden."), post
  unfiltered HTML (without it kses removes ``<script>`` and shortens ``--`` inside comments).
- ``POST /wp/v2/posts`` (JSON or form): ``status`` must be publish, future, draft, pending or
  private; ``date``/``date_gmt`` RFC 3339; ``categories``/``tags`` arrays of integers (unknown ids
  are skipped, as ``wp_set_object_terms`` does); title, content and excerpt all empty → 400
  ``empty_content``; a taken slug gets "-2", "-3" …; a ``future`` date in the past publishes, a
  ``publish`` date ahead schedules (``future``). 201 with the post.
- ``GET /wp/v2/posts``: ``slug`` (comma list), ``status`` (comma list, ``any``), ``search``
  (title, excerpt and content), ``context`` (view|edit), ``per_page`` 1–100, ``page``; newest first,
  ``X-WP-Total``/``X-WP-TotalPages``. ``raw`` fields only with ``context=edit``.
- ``POST /wp/v2/media``: raw body with ``Content-Type`` and ``Content-Disposition: attachment;
  filename=…`` (else 400 ``rest_upload_no_content_type``/``rest_upload_no_content_disposition``/
  ``rest_upload_invalid_disposition``), or multipart ``file``; ``alt_text`` from the query or form;
  a file type WordPress does not allow → 500 ``rest_upload_sideload_error`` (as WordPress answers).
- ``GET /wp/v2/users/me`` (401 ``rest_not_logged_in`` when anonymous), ``GET /wp/v2/categories|tags``
  (``search``), ``POST /wp/v2/tags`` (400 ``term_exists`` with ``term_id`` for a taken name).

Rendered fields are approximations (``content.rendered`` is the raw HTML, the excerpt a paragraph).
"""

from __future__ import annotations

import base64
import html
import itertools
import json as jsonlib
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from pipeline.publish.publishers import Account, MediaFile, Post
from tests.fakes.server import ContractFake, Request, Response

STATUSES = ("publish", "future", "draft", "pending", "private")
LISTABLE_STATUSES = STATUSES + ("trash", "auto-draft", "inherit", "any")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}(?::\d{2})?)?$")
ALLOWED_UPLOADS = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
                   "webp": "image/webp", "avif": "image/avif", "mp3": "audio/mpeg", "mp4": "video/mp4",
                   "pdf": "application/pdf"}
ROLES = {
    "subscriber": {"read"},
    "contributor": {"read", "edit_posts"},
    "author": {"read", "edit_posts", "publish_posts", "upload_files"},
    "editor": {"read", "edit_posts", "publish_posts", "upload_files", "edit_others_posts", "manage_categories",
               "unfiltered_html"},
}
ROLES["administrator"] = ROLES["editor"] | {"manage_options"}
CANNOT_CREATE_POSTS = "Sorry, you are not allowed to create posts as this user."

SAMPLE_DRAFT = """Title: Pricing your work: what a podcast taught us
Slug: pricing-your-work
Description: Fixed packages beat hourly rates. Dinda and Budi on pricing the result.

## Stop selling your time

Clients buy **outcomes**, not hours.
"""


@dataclass
class FakePost:
    id: int
    title: str
    content: str
    excerpt: str
    slug: str
    status: str
    created_at: float  # the post's date (epoch seconds, the site runs on UTC)
    author: int
    featured_media: int = 0
    categories: list[int] = field(default_factory=list)
    tags: list[int] = field(default_factory=list)


@dataclass
class FakeMedia:
    id: int
    filename: str
    mime: str
    data: bytes
    alt_text: str
    created_at: float


def error(status: int, code: str, message: str, **data) -> Response:
    return Response(status, {"code": code, "message": message, "data": {"status": status, **data}})


def invalid_params(**params: str) -> Response:
    return error(400, "rest_invalid_param", f"Invalid parameter(s): {', '.join(params)}", params=params)


class FakeWordPress(ContractFake):
    platform = "wordpress"
    create_path = r"^/wp-json/wp/v2/posts$"
    invalid_message = "status is not one of publish, future, draft, pending, private"
    token = "abcd EFGH 1234 ijkl MNOP 5678"  # an application password, as WordPress shows it
    username = "castmill"
    user_id = 2

    def __init__(self, *, role: str = "administrator"):
        super().__init__()
        self.role = role
        self.clock = time.time  # tests may replace it to move time
        self.posts: dict[int, FakePost] = {}
        self.media: dict[int, FakeMedia] = {}
        self.terms: dict[str, dict[int, str]] = {"categories": {1: "Uncategorized"}, "tags": {}}
        self._ids = itertools.count(101)
        api = r"/wp-json/wp/v2"
        self.route("POST", api + r"/posts", self.create_post)
        self.route("GET", api + r"/posts", self.list_posts)
        self.route("GET", api + r"/posts/(?P<post_id>\d+)", self.get_post)
        self.route("POST", api + r"/media", self.upload_media)
        self.route("GET", api + r"/users/me", self.me)
        self.route("GET", api + r"/(?P<taxonomy>categories|tags)", self.list_terms)
        self.route("POST", api + r"/(?P<taxonomy>categories|tags)", self.create_term)

    # ---------------------------------------------------------------- ContractFake

    def account(self, *, token: str | None = None, **extra) -> Account:
        return Account(platform="wordpress", base_url=self.base_url, handle=self.username,
                       token=self.token if token is None else token, extra=extra)

    def sample_post(self, key: str) -> Post:
        return Post(parts=(SAMPLE_DRAFT,), idempotency_key=key)

    def invalid_post(self, key: str) -> Post:
        return Post(parts=("Status: published\n" + SAMPLE_DRAFT,), idempotency_key=key)

    @property
    def post_count(self) -> int:
        return len(self.posts)

    # ---------------------------------------------------------------- auth

    def check(self, request: Request) -> Response | None:
        credentials = _basic(request)
        if credentials is None:
            return None
        user, password = credentials
        if user != self.username:
            return error(401, "invalid_username",
                         "<strong>Error:</strong> Unknown username. Check again or try your email address.")
        if _alnum(password) != _alnum(self.token):
            return error(401, "incorrect_password", "The provided password is an invalid application password.")
        return None

    def signed_in(self, request: Request) -> bool:
        return _basic(request) is not None  # check() already refused wrong credentials

    def can(self, request: Request, capability: str) -> bool:
        return self.signed_in(request) and capability in ROLES[self.role]

    def refused(self, request: Request, code: str, message: str) -> Response:
        return error(403 if self.signed_in(request) else 401, code, message)

    # ---------------------------------------------------------------- posts

    def create_post(self, request: Request) -> Response:
        if not self.can(request, "edit_posts"):
            return self.refused(request, "rest_cannot_create", CANNOT_CREATE_POSTS)
        fields, problem = _params(request)
        problem = problem or _invalid_post_fields(fields)
        if problem:
            return problem
        status = fields.get("status", "draft")
        if status in ("publish", "future", "private") and not self.can(request, "publish_posts"):
            return self.refused(request, "rest_cannot_publish",
                                "Sorry, you are not allowed to publish posts in this post type.")
        title, content, excerpt = (_text(fields.get(name)) for name in ("title", "content", "excerpt"))
        if not (title or content or excerpt):
            return error(400, "empty_content", "Content, title, and excerpt are empty.")
        post = self._new_post(fields, title, content, excerpt, status, request)
        return Response(201, self.post_json(post, edit=True),
                        headers={"Location": self.url(f"/wp-json/wp/v2/posts/{post.id}")})

    def _new_post(self, fields: dict, title: str, content: str, excerpt: str, status: str,
                  request: Request) -> FakePost:
        when = _epoch(fields.get("date") or fields.get("date_gmt")) or self.clock()
        if status == "future" and when <= self.clock():
            status = "publish"
        elif status == "publish" and when > self.clock():
            status = "future"
        if not self.can(request, "unfiltered_html"):
            content = kses(content)
        post = FakePost(id=next(self._ids), title=title, content=content, excerpt=excerpt,
                        slug=self._unique_slug(sanitize_title(_text(fields.get("slug")) or title)),
                        status=status, created_at=when, author=self.user_id,
                        featured_media=self._featured(fields.get("featured_media")),
                        categories=self._known("categories", fields.get("categories")) or [1],
                        tags=self._known("tags", fields.get("tags")))
        self.posts[post.id] = post
        return post

    def _unique_slug(self, slug: str) -> str:
        taken = {p.slug for p in self.posts.values()}
        candidate, suffix = slug, 2
        while candidate in taken:
            candidate, suffix = f"{slug}-{suffix}", suffix + 1
        return candidate

    def _featured(self, media_id) -> int:
        return int(media_id) if media_id and int(media_id) in self.media else 0  # an unknown id is dropped

    def _known(self, taxonomy: str, ids) -> list[int]:
        return [int(i) for i in ids or [] if int(i) in self.terms[taxonomy]]

    def list_posts(self, request: Request) -> Response:
        context = request.arg("context", "view")
        if context == "edit" and not self.can(request, "edit_posts"):
            return self.refused(request, "rest_forbidden_context",
                                "Sorry, you are not allowed to edit posts in this post type.")
        statuses = [s for s in (request.arg("status") or "publish").split(",") if s]
        problem = self._status_problem(request, statuses) or _per_page_problem(request)
        if problem:
            return problem
        found = sorted((p for p in self.posts.values() if self._matches(p, request, statuses)),
                       key=lambda p: (p.created_at, p.id), reverse=True)
        per_page, page = int(request.arg("per_page") or 10), int(request.arg("page") or 1)
        pages = max(1, -(-len(found) // per_page))
        headers = {"X-WP-Total": str(len(found)), "X-WP-TotalPages": str(pages)}
        chunk = found[(page - 1) * per_page: page * per_page]
        return Response(200, [self.post_json(p, edit=context == "edit") for p in chunk], headers=headers)

    def _status_problem(self, request: Request, statuses: list[str]) -> Response | None:
        for status in statuses:
            if status not in LISTABLE_STATUSES:
                return invalid_params(status=f"status[0] is not one of {', '.join(LISTABLE_STATUSES)}.")
            if status != "publish" and not self.can(request, "edit_posts"):
                return invalid_params(status="Status is forbidden.")
        return None

    def _matches(self, post: FakePost, request: Request, statuses: list[str]) -> bool:
        if "any" not in statuses and post.status not in statuses:
            return False
        slugs = [sanitize_title(s) for s in (request.arg("slug") or "").split(",") if s.strip()]
        if slugs and post.slug not in slugs:
            return False
        search = (request.arg("search") or "").lower()
        return not search or any(search in text.lower() for text in (post.title, post.excerpt, post.content))

    def get_post(self, request: Request, post_id: str) -> Response:
        post = self.posts.get(int(post_id))
        if post is None or (post.status != "publish" and not self.can(request, "edit_posts")):
            return error(404, "rest_post_invalid_id", "Invalid post ID.")
        return Response(200, self.post_json(post, edit=request.arg("context") == "edit"))

    # ---------------------------------------------------------------- media

    def upload_media(self, request: Request) -> Response:
        if not self.can(request, "upload_files"):
            return self.refused(request, "rest_cannot_create", CANNOT_CREATE_POSTS)
        upload = _upload(request)
        if isinstance(upload, Response):
            return upload
        filename, mime, data, alt = upload
        if filename.rsplit(".", 1)[-1].lower() not in ALLOWED_UPLOADS:
            return error(500, "rest_upload_sideload_error", "Sorry, you are not allowed to upload this file type.")
        media = FakeMedia(id=next(self._ids), filename=filename, mime=mime, data=data, alt_text=alt,
                          created_at=self.clock())
        self.media[media.id] = media
        return Response(201, self.media_json(media))

    # ---------------------------------------------------------------- users and terms

    def me(self, request: Request) -> Response:
        if not self.signed_in(request):
            return error(401, "rest_not_logged_in", "You are not currently logged in.")
        body = {"id": self.user_id, "name": "Castmill Bot", "slug": self.username,
                "link": self.url(f"/author/{self.username}/")}
        if request.arg("context") == "edit":
            body |= {"username": self.username, "email": "bot@example.com", "roles": [self.role],
                     "capabilities": {cap: True for cap in sorted(ROLES[self.role])}}
        return Response(200, body)

    def list_terms(self, request: Request, taxonomy: str) -> Response:
        search = (request.arg("search") or "").lower()
        terms = [{"id": i, "name": html.escape(n), "slug": sanitize_title(n), "taxonomy": taxonomy}
                 for i, n in self.terms[taxonomy].items() if search in n.lower()]
        return Response(200, terms)

    def create_term(self, request: Request, taxonomy: str) -> Response:
        right = "manage_categories" if taxonomy == "categories" else "edit_posts"
        if not self.can(request, right):
            return self.refused(request, "rest_cannot_create",
                                "Sorry, you are not allowed to create terms in this taxonomy.")
        fields, problem = _params(request)
        if problem:
            return problem
        name = _text(fields.get("name")).strip()
        if not name:
            return error(400, "rest_missing_callback_param", "Missing parameter(s): name", params=["name"])
        taken = next((i for i, n in self.terms[taxonomy].items() if n.lower() == name.lower()), None)
        if taken is not None:
            return error(400, "term_exists", "A term with the name provided already exists in this taxonomy.",
                         term_id=taken)
        term_id = next(self._ids)
        self.terms[taxonomy][term_id] = name
        return Response(201, {"id": term_id, "name": html.escape(name), "slug": sanitize_title(name)})

    # ---------------------------------------------------------------- rendering

    def post_json(self, post: FakePost, *, edit: bool) -> dict:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(post.created_at))
        body = {"id": post.id, "date": stamp, "date_gmt": stamp, "modified": stamp, "modified_gmt": stamp,
                "slug": post.slug, "status": post.status, "type": "post", "link": self._link(post),
                "title": {"rendered": html.escape(post.title, quote=False)},
                "content": {"rendered": post.content, "protected": False},
                "excerpt": {"rendered": f"<p>{html.escape(post.excerpt, quote=False)}</p>\n" if post.excerpt else "",
                            "protected": False},
                "author": post.author, "featured_media": post.featured_media, "comment_status": "open",
                "ping_status": "open", "sticky": False, "format": "standard", "meta": [],
                "categories": post.categories, "tags": post.tags}
        if edit:
            for name, raw in (("title", post.title), ("content", post.content), ("excerpt", post.excerpt)):
                body[name]["raw"] = raw
        return body

    def _link(self, post: FakePost) -> str:
        if post.status in ("draft", "pending", "future"):
            return self.url(f"/?p={post.id}")
        day = time.strftime("%Y/%m/%d", time.gmtime(post.created_at))
        return self.url(f"/{day}/{post.slug}/")

    def media_json(self, media: FakeMedia) -> dict:
        return {"id": media.id, "slug": sanitize_title(media.filename.rsplit(".", 1)[0]), "status": "inherit",
                "type": "attachment", "alt_text": media.alt_text,
                "media_type": "image" if media.mime.startswith("image/") else "file", "mime_type": media.mime,
                "source_url": self.url(f"/wp-content/uploads/{media.filename}")}



# ---------------------------------------------------------------------- request parsing


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = (request.header("authorization") or "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        user, _, password = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z\d]", "", text, flags=re.IGNORECASE)


def _params(request: Request) -> tuple[dict, Response | None]:
    """Body parameters over query parameters, as ``WP_REST_Request`` merges them."""
    fields = {name: values[0] for name, values in request.query.items()}
    content_type = (request.header("content-type") or "").lower()
    if content_type.startswith("application/json") and request.body:
        try:
            body = jsonlib.loads(request.body.decode("utf-8"))
        except ValueError:
            return {}, error(400, "rest_invalid_json", "Invalid JSON body passed.")
        fields.update(body if isinstance(body, dict) else {})
    elif content_type.startswith("application/x-www-form-urlencoded"):
        for name, values in request.form().items():
            fields[name.removesuffix("[]")] = values if name.endswith("[]") else values[0]
    elif content_type.startswith("multipart/form-data"):
        fields.update({part.name: part.text for part in request.multipart() if part.filename is None})
    return fields, None


def _invalid_post_fields(fields: dict) -> Response | None:
    problems = {}
    if "status" in fields and fields["status"] not in STATUSES:
        problems["status"] = f"status is not one of {', '.join(STATUSES)}."
    for name in ("date", "date_gmt"):
        if fields.get(name) is not None and not RFC3339.match(str(fields[name])):
            problems[name] = "Invalid date."
    for name in ("categories", "tags"):
        values = fields.get(name)
        if values is not None and (not isinstance(values, list) or not all(_is_int(v) for v in values)):
            problems[name] = f"{name}[0] is not of type integer."
    if fields.get("featured_media") is not None and not _is_int(fields["featured_media"]):
        problems["featured_media"] = "featured_media is not of type integer."
    return invalid_params(**problems) if problems else None


def _per_page_problem(request: Request) -> Response | None:
    per_page = request.arg("per_page")
    if per_page is not None and (not per_page.isdigit() or not 1 <= int(per_page) <= 100):
        return invalid_params(per_page="per_page must be between 1 (inclusive) and 100 (inclusive)")
    return None


def _upload(request: Request) -> tuple[str, str, bytes, str] | Response:
    """(filename, type, data, alt text) of a raw or multipart upload, or WordPress's refusal."""
    fields, _ = _params(request)
    files = [part for part in request.multipart() if part.name == "file" and part.filename]
    if files:
        return files[0].filename, files[0].content_type, files[0].data, _text(fields.get("alt_text"))
    if not request.body:
        return error(400, "rest_upload_no_data", "No data supplied.")
    if not request.header("content-type"):
        return error(400, "rest_upload_no_content_type", "No Content-Type supplied.")
    disposition = request.header("content-disposition")
    if not disposition:
        return error(400, "rest_upload_no_content_disposition", "No Content-Disposition supplied.")
    filename = _filename(disposition)
    if not filename:
        return error(400, "rest_upload_invalid_disposition",
                     "Invalid Content-Disposition supplied. Content-Disposition needs to be formatted as "
                     '`attachment; filename="image.png"` or similar.')
    return filename, request.header("content-type"), request.body, _text(fields.get("alt_text"))


def _filename(disposition: str) -> str | None:
    """``WP_REST_Attachments_Controller::get_filename_from_disposition``: ``type; filename=…``."""
    if ";" not in disposition:
        return None
    attributes = dict(part.strip().split("=", 1) for part in disposition.split(";")[1:] if "=" in part)
    filename = attributes.get("filename", "").strip()
    if len(filename) >= 2 and filename[0] == filename[-1] == '"':
        filename = filename[1:-1]
    return filename or None


def _text(value) -> str:
    if isinstance(value, dict):  # {"raw": "…"} is accepted for title, content and excerpt
        value = value.get("raw")
    return "" if value is None else str(value)


def _is_int(value) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value.isdigit())


def _epoch(value) -> float | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).upper().replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def sanitize_title(text: str) -> str:
    """Roughly WordPress's ``sanitize_title``: lower case, runs of other characters become one "-"."""
    return re.sub(r"[^a-z0-9_]+", "-", text.strip().lower()).strip("-")


def kses(content: str) -> str:
    """What ``wp_kses_post`` does to the parts of our HTML that matter: scripts go, comments keep one "-"."""
    content = re.sub(r"<script\b.*?</script>", "", content, flags=re.IGNORECASE | re.DOTALL)
    return re.sub(r"<!--(.*?)-->", lambda m: "<!--" + re.sub(r"--+", "-", m.group(1)) + "-->", content, flags=re.DOTALL)


def sample_image(tmp_path, name: str = "cover.png", mime: str = "image/png",
                 alt: str = "Dinda at the mic") -> MediaFile:
    """A small image file for tests (WordPress does not inspect its pixels here)."""
    path = tmp_path / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    return MediaFile(path, "image", mime, alt=alt)


def contract_fake() -> FakeWordPress:
    return FakeWordPress()
