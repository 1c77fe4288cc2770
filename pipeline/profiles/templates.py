"""A client's post templates: the one in use per platform, a sandboxed preview, saving the client's own.

A template is previewed by the sandboxed renderer of ``pipeline.drafts.templates`` on a scratch
copy of the client's template folder, and saved only when it renders. Staff only.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.access import audit
from pipeline.access.identity import Identity
from pipeline.access.permissions import require_staff
from pipeline.core.errors import ConfigError
from pipeline.drafts.context import client_context, sample_context, template_context
from pipeline.drafts.templates import BUILTIN_DIR, environment, render, template_name
from pipeline.platforms import get_platform
from pipeline.store.clients import get_client
from pipeline.store.models import Episode

CLIENT_TEMPLATES = "templates"  # under $CASTMILL_HOME: folders made for clients that had none
TEMPLATE_NAME = re.compile(r"[a-z]+(\.[a-z]{2}(-[A-Z]{2})?)?\.j2")  # posts/<platform>[.<lang>].j2


@dataclass(frozen=True)
class TemplateSource:
    name: str  # e.g. "x.j2" or "x.id.j2"
    text: str
    own: bool  # the client's own file (False: the shipped one)


@dataclass(frozen=True)
class Preview:
    text: str
    parts: list[str]  # as the platform would post it (fitted, hashtags added)
    sample: bool  # rendered with made-up episode data (the client has no highlight yet)


def _client_posts(templates_dir: str) -> Path | None:
    return Path(templates_dir) / "posts" if templates_dir else None


def template_source(session: Session, identity: Identity, slug: str, platform: str) -> TemplateSource:
    require_staff(identity, "read client templates")
    client = get_client(session, slug)
    templates_dir, language = client.templates_dir, client.language
    env = environment(templates_dir or None)
    name = template_name(env, get_platform(platform).name, language)
    own_dir = _client_posts(templates_dir)
    if own_dir is not None and (own_dir / name).is_file():
        return TemplateSource(name, (own_dir / name).read_text(encoding="utf-8"), True)
    return TemplateSource(name, (BUILTIN_DIR / name).read_text(encoding="utf-8"), False)


def preview_template(session: Session, identity: Identity, slug: str, platform_name: str, name: str,
                     text: str) -> Preview:
    """Render ``text`` as template ``name`` in the sandbox, with the client's newest highlight when there is one."""
    require_staff(identity, "preview client templates")
    platform = get_platform(platform_name)
    client = get_client(session, slug)
    context, sample = _context(session, client, platform)
    templates_dir = client.templates_dir
    hashtags = [t if t.startswith("#") else f"#{t}" for t in (client.hashtags or [])]
    with tempfile.TemporaryDirectory(prefix="castmill-preview-") as scratch:
        posts = Path(scratch) / "posts"
        own = _client_posts(templates_dir)
        if own is not None and own.is_dir():
            shutil.copytree(own, posts)
        posts.mkdir(parents=True, exist_ok=True)
        (posts / name).write_text(text, encoding="utf-8")
        rendered = render(environment(scratch), name, context)
    parts = platform.fit(rendered.text, hashtags=hashtags + list((context.get("highlight") or {}).get("hashtags", [])))
    return Preview(rendered.text, parts, sample)


def _context(s, client, platform) -> tuple[dict, bool]:
    episode = s.scalar(select(Episode).where(Episode.client_id == client.id, Episode.highlights.any())
                       .order_by(Episode.id.desc()))
    if episode is None:
        return {**sample_context(platform), "client": client_context(client)}, True
    return template_context(episode, episode.highlights[0], client, platform), False


def save_template(session: Session, identity: Identity, home: Path, slug: str, platform_name: str, name: str,
                  text: str) -> Path:
    """Store the client's own template (after it renders); makes the client a folder under ``home`` if needed."""
    require_staff(identity, "change client templates")
    if not TEMPLATE_NAME.fullmatch(name):
        raise ConfigError(f"not a post template name: {name!r}")
    preview_template(session, identity, slug, platform_name, name, text)  # raises TemplateProblem: nothing is written
    client = get_client(session, slug)
    if not client.templates_dir:
        client.templates_dir = str(home / CLIENT_TEMPLATES / slug)
    folder = Path(client.templates_dir) / "posts"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_text(text, encoding="utf-8")
    audit.record(session, actor=identity.email, action="client.template_save", entity_type="client",
                 entity_id=client.id, client_id=client.id, user_id=identity.user_id, after={"template": name})
    return target

