"""Client profile and template editing for the Clients & settings page.

A profile is edited as the same ``ClientProfile`` a TOML file holds and saved with the
library's ``upsert_client`` (so validation is pydantic's). A template is previewed by the
sandboxed renderer of pipeline/drafts/templates.py on a scratch copy of the client's
template folder, and saved only when it renders.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from dashboard.data import session, settings
from pipeline.clients import build_profile, upsert_client
from pipeline.config import ClientProfile
from pipeline.drafts.context import client_context, sample_context, template_context
from pipeline.drafts.templates import BUILTIN_DIR, environment, render, template_name
from pipeline.errors import ConfigError
from pipeline.ingest import get_client
from pipeline.models import Episode
from pipeline.platforms import get_platform

CLIENT_TEMPLATES = "templates"  # under $CASTMILL_HOME: folders made for clients that had none
TEMPLATE_NAME = re.compile(r"[a-z]+(\.[a-z]{2}(-[A-Z]{2})?)?\.j2")  # posts/<platform>[.<lang>].j2


def profile_of(client) -> ClientProfile:
    """The client row as the profile it was made from."""
    return build_profile(
        slug=client.slug, name=client.name, timezone=client.timezone, language=client.language,
        brand_voice=client.brand_voice or "", hashtags=list(client.hashtags or []),
        platforms=list(client.platforms or []), handles=dict(client.handles or {}),
        call_to_action=client.call_to_action or "", templates_dir=client.templates_dir or "",
        highlights=dict(client.highlight_settings or {}), clips=dict(client.clip_settings or {}),
        approval_stages=client.approval_stages, posting_slots=list(client.posting_slots or []),
    )


def load_profile(slug: str) -> ClientProfile:
    with session() as s:
        return profile_of(get_client(s, slug))


def save_profile(slug: str, **changes) -> ClientProfile:
    """Validate the profile with ``changes`` laid over it, then store it (ConfigError names the bad field)."""
    current = load_profile(slug).model_dump()
    profile = build_profile(**{**current, **changes, "slug": slug})
    with session() as s:
        upsert_client(s, profile)
    return profile


# --- templates ---------------------------------------------------------------------------------------

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


def template_source(slug: str, platform: str) -> TemplateSource:
    with session() as s:
        client = get_client(s, slug)
        templates_dir, language = client.templates_dir, client.language
    env = environment(templates_dir or None)
    name = template_name(env, get_platform(platform).name, language)
    own_dir = _client_posts(templates_dir)
    if own_dir is not None and (own_dir / name).is_file():
        return TemplateSource(name, (own_dir / name).read_text(encoding="utf-8"), True)
    return TemplateSource(name, (BUILTIN_DIR / name).read_text(encoding="utf-8"), False)


def preview_template(slug: str, platform_name: str, name: str, text: str) -> Preview:
    """Render ``text`` as template ``name`` in the sandbox, with the client's newest highlight when there is one."""
    platform = get_platform(platform_name)
    with session() as s:
        client = get_client(s, slug)
        context, sample = _context(s, client, platform)
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


def save_template(slug: str, platform_name: str, name: str, text: str) -> Path:
    """Store the client's own template (after it renders); makes the client a template folder if needed."""
    if not TEMPLATE_NAME.fullmatch(name):
        raise ConfigError(f"not a post template name: {name!r}")
    preview_template(slug, platform_name, name, text)  # raises TemplateProblem: nothing is written
    with session() as s:
        client = get_client(s, slug)
        if not client.templates_dir:
            client.templates_dir = str(settings().home / CLIENT_TEMPLATES / slug)
        folder = Path(client.templates_dir) / "posts"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_text(text, encoding="utf-8")
    return target

