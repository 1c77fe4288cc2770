"""Client records: look up by slug, create or update from a profile, list."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.core.settings import ClientProfile, first_error
from pipeline.core.errors import ConfigError, NotFoundError
from pipeline.store.models import Client


ADD_CLIENT_HINT = "; add it with `castmill client add`"


def get_client(session: Session, slug: str, hint: str = ADD_CLIENT_HINT) -> Client:
    """The client ``slug``; an unknown one is a one-line NotFoundError naming the known slugs, then ``hint``."""
    client = session.scalar(select(Client).where(Client.slug == slug))
    if client is None:
        known = ", ".join(session.scalars(select(Client.slug).order_by(Client.slug))) or "none yet"
        raise NotFoundError(f"unknown client {slug!r} (known: {known}){hint}")
    return client


def build_profile(**fields) -> ClientProfile:
    try:
        return ClientProfile(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(first_error(exc)) from exc


def upsert_client(session: Session, profile: ClientProfile) -> tuple[Client, bool]:
    """Create the client, or update it when the slug exists; returns (client, created)."""
    client = session.scalar(select(Client).where(Client.slug == profile.slug))
    created = client is None
    if created:
        client = Client(slug=profile.slug)
        session.add(client)
    client.name = profile.name
    client.timezone = profile.timezone
    client.language = profile.language
    client.brand_voice = profile.brand_voice
    client.hashtags = list(profile.hashtags)
    client.platforms = list(profile.platforms)
    client.posting_slots = [slot.model_dump() for slot in profile.posting_slots]
    client.highlight_settings = profile.highlights.model_dump(exclude_defaults=True)
    client.handles = dict(profile.handles)
    client.call_to_action = profile.call_to_action
    client.templates_dir = profile.templates_dir
    client.clip_settings = profile.clips.model_dump()
    client.approval_stages = profile.approval_stages
    client.spoken_languages = list(profile.languages)
    client.translate_quotes = profile.translate_quotes
    client.speakers = str(profile.speakers)
    client.reminder_settings = profile.reminders.model_dump(exclude_none=True)
    client.evergreen_settings = profile.evergreen.model_dump(exclude_none=True)
    session.flush()
    return client, created


def list_clients(session: Session) -> list[Client]:
    return list(session.scalars(select(Client).order_by(Client.slug)))
