"""The Clients & settings page's calls into ``pipeline.profiles``, each in one library session.

The rules (staff only, validation, audit) are the library's; this only opens the session and
passes the signed-in identity along.
"""

from __future__ import annotations

from pathlib import Path

from dashboard.data import session, settings
from pipeline.core.settings import ClientProfile
from pipeline.profiles import edit, templates
from pipeline.profiles.templates import Preview, TemplateSource


def load_profile(identity, slug: str) -> ClientProfile:
    with session() as s:
        return edit.load_profile(s, identity, slug)


def save_profile(identity, slug: str, **changes) -> ClientProfile:
    with session() as s:
        return edit.save_profile(s, identity, slug, **changes)


def template_source(identity, slug: str, platform: str) -> TemplateSource:
    with session() as s:
        return templates.template_source(s, identity, slug, platform)


def preview_template(identity, slug: str, platform: str, name: str, text: str) -> Preview:
    with session() as s:
        return templates.preview_template(s, identity, slug, platform, name, text)


def save_template(identity, slug: str, platform: str, name: str, text: str) -> Path:
    with session() as s:
        return templates.save_template(s, identity, settings().home, slug, platform, name, text)
