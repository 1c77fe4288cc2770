"""Client profiles: import a profile file, read one as a ``ClientProfile``, save changes to it.

Every call takes the identity and refuses anyone but staff (``permissions.require_staff``); a
profile is validated whole (pydantic, then the highlight weights) before anything is written,
and every save writes an audit event.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pipeline.access import audit
from pipeline.access.identity import Identity
from pipeline.access.permissions import require_staff
from pipeline.core.settings import ClientProfile, speakers_setting
from pipeline.highlights.options import FeatureWeights
from pipeline.store.clients import build_profile, get_client, upsert_client
from pipeline.store.models import Client


def check_profile(profile: ClientProfile) -> None:
    """What pydantic cannot see: the highlight weights name known features with sane values."""
    FeatureWeights().with_overrides(profile.highlights.weights, source=f"client {profile.slug}")


def import_profile(session: Session, identity: Identity, profile: ClientProfile) -> tuple[Client, bool]:
    """Create the client, or update it when the slug exists; returns (client, created)."""
    require_staff(identity, "change client settings")
    check_profile(profile)  # fail before writing
    client, created = upsert_client(session, profile)
    audit.record(session, actor=identity.email, action="client.create" if created else "client.update",
                 entity_type="client", entity_id=client.id, client_id=client.id, user_id=identity.user_id)
    return client, created


def profile_of(client: Client) -> ClientProfile:
    """The client row as the profile it was made from."""
    return build_profile(
        slug=client.slug, name=client.name, timezone=client.timezone, language=client.language,
        brand_voice=client.brand_voice or "", hashtags=list(client.hashtags or []),
        platforms=list(client.platforms or []), handles=dict(client.handles or {}),
        call_to_action=client.call_to_action or "", templates_dir=client.templates_dir or "",
        highlights=dict(client.highlight_settings or {}), clips=dict(client.clip_settings or {}),
        approval_stages=client.approval_stages, posting_slots=list(client.posting_slots or []),
        languages=list(client.spoken_languages or []), translate_quotes=bool(client.translate_quotes),
        speakers=speakers_setting(client.speakers), reminders=dict(client.reminder_settings or {}),
        evergreen=dict(client.evergreen_settings or {}),
    )


def load_profile(session: Session, identity: Identity, slug: str) -> ClientProfile:
    require_staff(identity, "read client settings")
    return profile_of(get_client(session, slug))


def save_profile(session: Session, identity: Identity, slug: str, **changes) -> ClientProfile:
    """Validate the profile with ``changes`` laid over it, then store it (ConfigError names the bad field)."""
    current = load_profile(session, identity, slug).model_dump()
    profile = build_profile(**{**current, **changes, "slug": slug})
    import_profile(session, identity, profile)
    return profile
