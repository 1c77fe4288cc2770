"""WordPress (REST API ``wp/v2``): the featured image via ``POST /wp-json/wp/v2/media``, then
``POST /wp-json/wp/v2/posts``.

Contract (developer.wordpress.org/rest-api: reference/posts, reference/media, reference/users,
using-the-rest-api/authentication; WordPress core's ``WP_REST_Posts_Controller``):

- Auth is HTTP Basic with the WordPress username (``account.handle``) and an Application Password
  (``account.token``, WordPress strips the spaces it shows it with). A wrong password answers 401
  ``incorrect_password``, an unknown user 401 ``invalid_username``; a signed-in user without the
  right answers 403 (``rest_cannot_create``, ``rest_cannot_publish``), an anonymous one 401.
- Errors are ``{"code": "rest_…", "message": "…", "data": {"status": 400, "params": {…}}}``;
  ``params`` names each invalid parameter ("status is not one of publish, future, …").
- ``POST /wp/v2/posts`` (JSON) takes ``title``, ``content``, ``excerpt``, ``slug``, ``status``
  (publish, future, draft, pending, private), ``date`` (RFC 3339, with or without offset),
  ``categories`` and ``tags`` (term ids), ``featured_media``; it answers 201 with the post (``id``,
  ``link``, ``status``, ``slug`` …). A slug already taken gets "-2", "-3" … appended. A ``future``
  post whose date has passed is published at once, a ``publish`` post dated ahead becomes ``future``.
- ``POST /wp/v2/media``: the file as the raw body with ``Content-Type`` and
  ``Content-Disposition: attachment; filename="…"``; ``alt_text`` as a query parameter → 201
  with the attachment's ``id``.
- Categories and tags are term ids. A draft names them (or gives ids): names are looked up with
  ``GET /wp/v2/categories|tags?search=``; a missing tag is created (``POST /wp/v2/tags``, which an
  author may do), a missing category is an error (creating one needs ``manage_categories``).

The draft is a long-form document (``pipeline.platforms.document``): ``Title`` (required), ``Slug``
(made from the title when absent), ``Description`` → ``excerpt``, optional ``Status`` (else
``account.extra["status"]``, else ``publish``), ``Date``, ``Categories``, ``Tags`` (comma-separated);
the Markdown body becomes HTML (raw HTML in it is escaped). WordPress core has no meta-description
field; the excerpt is the nearest core field, and themes show it in post lists. SEO plugins do not
all read it: Yoast SEO outputs no description unless its template uses ``%%excerpt%%``
(developer.yoast.com/features/seo-tags/descriptions/functional-specification/).

Idempotency: WordPress has no idempotency key, so every post carries a marker, the HTML comment
``<!-- castmill:<key> -->`` at the end of its content (readers never see it; kses keeps HTML comments
for users without ``unfiltered_html``). ``find_existing`` reads, it never writes:
``GET /wp/v2/posts?slug=<slug>,<slug>-2,…&status=publish,future,draft,pending,private&context=edit``
(``content.raw`` is only returned with ``context=edit``, which needs the ``edit_posts`` right), and
takes the post whose raw content carries the marker, so a different post with the same slug is never
taken for ours. When that finds nothing (the slug was edited in WordPress, or taken more than
``SLUG_VARIANTS`` times) a ``search=`` for the marker runs over titles, excerpts and contents. The
marker is unique per scheduled post, not a text match, so no look-up window applies. ``publish``
looks first on a retry only (``post.first_attempt_at`` set). The featured image is uploaded before
the post: a failed attempt leaves an unattached image in the media library, never a second post.
"""

from __future__ import annotations

import hashlib
import re
from html import unescape

import requests

from pipeline.platforms.document import Document, DocumentError, parse, to_html
from pipeline.publish.publishers.base import (AuthError, CredentialStatus, MediaFile, Post, PublishError, Published,
                                              Publisher, caption_of, json_object)

API = "/wp-json/wp/v2"
LOOKUP_STATUSES = "publish,future,draft,pending,private"
SLUG_VARIANTS = 10  # "<slug>", "<slug>-2" … "<slug>-10" are searched for an earlier attempt
NEEDS_PUBLISH_RIGHT = ("publish", "future", "private")
NOTES = {
    "draft": "saved as a draft in WordPress: publish it from the WordPress editor",
    "pending": "submitted for review in WordPress: an editor of the site publishes it",
    "private": "published privately: only the site's editors and administrators see it",
}
_SAFE_KEY = re.compile(r"[A-Za-z0-9_.:/]+(?:-[A-Za-z0-9_.:/]+)*")
_TAGS = re.compile(r"<[^>]+>")


class WordPressPublisher(Publisher):
    name = "wordpress"
    media_kinds = ("image",)

    # ------------------------------------------------------------------ publishing

    def publish(self, post: Post) -> Published:
        document = _document(post)
        if post.first_attempt_at is not None and (earlier := self.find_existing(post)) is not None:
            return earlier
        body = self._post_body(document, post)
        if (image := _featured_image(post)) is not None:
            body["featured_media"] = self._upload(image)
        created = self.request("POST", self._url("/posts"), json=body, auth=self._auth()).json()
        return _published(created)

    def find_existing(self, post: Post) -> Published | None:
        document = _document(post)
        wanted = marker(post.idempotency_key)
        slugs = [_slug(document)] + [f"{_slug(document)}-{n}" for n in range(2, SLUG_VARIANTS + 1)]
        for query in ({"slug": ",".join(slugs)}, {"search": _marker_token(post.idempotency_key)}):
            found = next((p for p in self._posts(query) if wanted in _raw(p.get("content"))), None)
            if found is not None:
                return _published(found)
        return None

    def check_credentials(self) -> CredentialStatus:
        try:
            me = self._get("/users/me", params={"context": "edit"}).json()
        except AuthError as exc:
            return CredentialStatus(False, f"{exc} — check the username and create a new application password",
                                    self.account.expires_at)
        except PublishError as exc:
            return CredentialStatus(False, str(exc), self.account.expires_at)
        who = f"wordpress: signed in as {me.get('username') or me.get('name') or '?'} on {self._host()}"
        status = self._default_status()
        if status in NEEDS_PUBLISH_RIGHT and not (me.get("capabilities") or {}).get("publish_posts"):
            roles = ", ".join(me.get("roles") or []) or "no role"
            return CredentialStatus(False, f"{who}, but this user ({roles}) may not publish posts: give it the "
                                           f"Author role or set the account's status to draft or pending",
                                    self.account.expires_at)
        return CredentialStatus(True, who, self.account.expires_at)

    # ------------------------------------------------------------------ the post

    def _post_body(self, document: Document, post: Post) -> dict:
        content = to_html(document.body).rstrip("\n") + "\n" + marker(post.idempotency_key)
        body = {"title": document.get("title"), "content": content, "slug": _slug(document),
                "status": document.get("status") or self._default_status()}
        if document.get("description"):
            body["excerpt"] = document.get("description")
        if document.get("date"):
            body["date"] = document.get("date")
        for taxonomy, field in (("categories", "categories"), ("tags", "tags")):
            if document.get(field):
                body[taxonomy] = [self._term_id(taxonomy, name) for name in _listed(document.get(field))]
        return body

    def _default_status(self) -> str:
        return str(self.account.extra.get("status") or "publish").strip().lower()

    def _term_id(self, taxonomy: str, name: str) -> int:
        if name.isdigit():
            return int(name)
        terms = self._get(f"/{taxonomy}", params={"search": name, "per_page": 100}).json()
        match = next((t for t in terms if _same_term(t, name)), None)
        if match is not None:
            return int(match["id"])
        if taxonomy == "categories":
            raise PublishError(f"wordpress: the site has no category {name!r}; create it in WordPress or fix the "
                               "Categories line of the draft")
        return self._create_tag(name)

    def _create_tag(self, name: str) -> int:
        try:
            return int(self.request("POST", self._url("/tags"), sent=False, json={"name": name},
                                    auth=self._auth()).json()["id"])
        except PublishError as exc:
            existing = getattr(exc, "term_id", None)  # "term_exists": created meanwhile
            if existing is None:
                raise
            return int(existing)

    def _upload(self, image: MediaFile) -> int:
        headers = {"Content-Type": image.mime,
                   "Content-Disposition": f'attachment; filename="{_header_safe(image.path.name)}"'}
        with open(image.path, "rb") as handle:
            response = self.request("POST", self._url("/media"), sent=False, data=handle, headers=headers,
                                    params={"alt_text": image.alt} if image.alt else None, auth=self._auth())
        return int(response.json()["id"])

    # ------------------------------------------------------------------ reading

    def _posts(self, query: dict) -> list[dict]:
        params = {**query, "status": LOOKUP_STATUSES, "context": "edit", "per_page": 100}
        return self._get("/posts", params=params).json()

    def _get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", self._url(path), sent=False, auth=self._auth(), **kwargs)

    def _auth(self) -> tuple[str, str]:
        if not self.account.handle:
            raise AuthError("wordpress: the account has no WordPress username")
        return self.account.handle, self.account.token

    def _url(self, path: str) -> str:
        if not self.account.base_url:
            raise PublishError("wordpress: the account has no site URL (e.g. https://blog.example.com)")
        return self.account.base_url.rstrip("/") + API + path

    # ------------------------------------------------------------------ errors

    def error_for(self, response: requests.Response) -> PublishError:
        error = super().error_for(response)
        body = json_object(response)
        if body.get("code") == "term_exists":
            error.term_id = (body.get("data") or {}).get("term_id")
        return error

    def error_message(self, response: requests.Response) -> str:
        body = json_object(response)
        if not isinstance(body.get("message"), str) or not body.get("code"):
            return super().error_message(response)
        params = (body.get("data") or {}).get("params")
        details = "; ".join(str(v) for v in params.values()) if isinstance(params, dict) else ""
        text = f"{_plain(body['message'])} ({body['code']})"
        return f"{text}: {_plain(details)}" if details else text


# ---------------------------------------------------------------------- helpers


def marker(key: str) -> str:
    """The HTML comment that identifies the post made for idempotency key ``key``."""
    return f"<!-- {_marker_token(key)} -->"


def _marker_token(key: str) -> str:
    # kses shortens "--" inside comments for users without unfiltered_html: such keys are hashed.
    if _SAFE_KEY.fullmatch(key):
        return f"castmill:{key}"
    return f"castmill:sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}"


def _document(post: Post) -> Document:
    try:
        document = parse(caption_of(post))
    except DocumentError as exc:
        raise PublishError(f"wordpress: the draft's header cannot be read: {exc}") from exc
    if not document.get("title"):
        raise PublishError("wordpress: the draft has no Title line; start it with 'Title: …' and a blank line "
                           "before the text")
    return document


def _slug(document: Document) -> str:
    return _slugify(document.get("slug") or document.get("title"))


def _slugify(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.strip().lower()).strip("-")


def _featured_image(post: Post) -> MediaFile | None:
    others = [m for m in post.media if m.kind != "image"]
    if others:
        raise PublishError(f"wordpress: a blog post takes only an image (the featured image), not {others[0].kind}")
    if len(post.media) > 1:
        raise PublishError(f"wordpress: a post has one featured image; this draft has {len(post.media)} images")
    return post.media[0] if post.media else None


def _published(post: dict) -> Published:
    status = post.get("status") or ""
    note = NOTES.get(status, "")
    if status == "future":
        note = f"scheduled in WordPress for {post.get('date_gmt') or post.get('date')} UTC"
    return Published(remote_id=str(post["id"]), url=post.get("link") or "", note=note)


def _raw(field) -> str:
    return (field.get("raw") or "") if isinstance(field, dict) else ""


def _listed(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _same_term(term: dict, name: str) -> bool:
    wanted = name.strip().casefold()
    return unescape(str(term.get("name", ""))).strip().casefold() == wanted or term.get("slug") == _slugify(name)


def _header_safe(filename: str) -> str:
    return filename.encode("ascii", "replace").decode("ascii").replace('"', "'").replace("?", "_")


def _plain(text: str) -> str:
    return " ".join(unescape(_TAGS.sub("", text)).split())


