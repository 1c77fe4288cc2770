"""The drafts stage: one draft per (highlight or episode) × platform, each render a new version.

A draft's text is never overwritten: regeneration adds a ``DraftVersion`` when the
rendered text differs from the latest one. Every version passes through the
platform's ``fit`` (shortened or threaded, hashtags capped) before it is stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.drafts.context import episode_context, highlight_context, notes_context, template_context
from pipeline.longform.notes import notes_for_episode
from pipeline.drafts.templates import environment, render, template_name
from pipeline.core.vocab import ASPECTS, CARD
from pipeline.core.errors import CastmillError, NotFoundError
from pipeline.core.clock import utcnow
from pipeline.store.models import Client, Clip, Draft, DraftVersion, Episode, Highlight
from pipeline.core.settings import LLMSettings
from pipeline.platforms import FitError, MediaItem, PostContent, get_platform

EPISODE_KEY = "episode"
AUTHOR = "castmill"
# The vertical clip the clips stage renders for a highlight (9:16 video, vocab.ASPECTS).
CLIP_WIDTH, CLIP_HEIGHT = ASPECTS["9:16"]


class NoPlatforms(CastmillError):
    """The client has no platforms configured, so there is nothing to draft."""


@dataclass
class DraftOutcome:
    draft_id: int
    platform: str
    subject: str  # "episode" or the highlight's "start-end"
    version: int
    created: bool  # a new version was stored (False: text unchanged)
    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def highlight_key(highlight: Highlight | None) -> str:
    """Stable across re-mining: the same cut points give the same draft."""
    return EPISODE_KEY if highlight is None else highlight.key


def generate_drafts(session: Session, episode_id: int, platforms: list[str] | None = None,
                    rewrite_with: LLMSettings | None = None) -> list[DraftOutcome]:
    """Drafts for the episode and each highlight on each platform; ``rewrite_with`` turns on the LLM rewrite."""
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFoundError(f"no episode {episode_id}")
    client = episode.client
    names = platforms or list(client.platforms or [])
    if not names:
        raise NoPlatforms(f"client {client.slug} has no platforms: add platforms = [\"x\", \"linkedin\", …] to its "
                          "profile, or pass --platform")
    env = environment(client.templates_dir or None)
    outcomes, notes = [], None
    for name in names:
        platform = get_platform(name)
        template = template_name(env, platform.name, client.language)
        if platform.episode_only and notes is None:
            notes = notes_context(notes_for_episode(session, episode), episode_context(episode)["link"])
        subjects: list[Highlight | None] = [None] if platform.episode_only else [None, *episode.highlights]
        for highlight in subjects:
            outcomes.append(_draft_one(session, env, template, episode, highlight, client, platform, rewrite_with,
                                       notes if platform.episode_only else None))
    return outcomes


def _draft_one(session, env, template: str, episode: Episode, highlight, client: Client, platform,
               rewrite_with: LLMSettings | None, notes: dict | None = None) -> DraftOutcome:
    rendered = render(env, template, template_context(episode, highlight, client, platform, notes))
    hashtags = [] if platform.episode_only else _hashtags(client, highlight)
    media = planned_media(platform, episode, highlight)
    parts, source, notes = platform.fit(rendered.text, hashtags=hashtags), None, []
    if rewrite_with is not None and not platform.episode_only:  # the rewrite prompt is for short posts
        parts, source, notes = _rewritten(rendered.text, parts, platform, client, highlight, hashtags, media, rewrite_with)
    draft = _find_or_create(session, episode, highlight, client, platform.name)
    latest = draft.latest
    created = latest is None or latest.parts != parts or latest.media != media
    if created:
        digest = hashlib.sha256(Path(rendered.path).read_bytes()).hexdigest()[:12] if Path(rendered.path).is_file() else "?"
        draft.versions.append(DraftVersion(
            number=(latest.number + 1) if latest else 1, parts=parts, hashtags=hashtags, media=media,
            author=AUTHOR, source=source or f"template {rendered.path} sha256:{digest}",
        ))
        draft.updated_at = utcnow()
        if latest is not None:
            draft.status = "draft"  # a new text needs review again; approvals bind to the old version's hash
        session.flush()
    violations = [v.message for v in platform.validate(posts_of(parts, media))]
    return DraftOutcome(draft.id, platform.name, highlight_key(highlight), draft.latest.number, created, violations,
                        notes)


def _rewritten(text: str, template_parts: list[str], platform, client: Client, highlight, hashtags, media,
               settings: LLMSettings) -> tuple[list[str], str | None, list[str]]:
    """The LLM's version when it keeps the quote and passes the platform's rules, else the template's."""
    from pipeline.drafts.rewrite import rewrite
    from pipeline.core.llm import LLMError

    try:
        new_text = rewrite(text, platform, settings, language=client.language, brand_voice=client.brand_voice)
        quote = highlight_context(highlight)["quote"] if highlight is not None else ""
        if quote and quote not in new_text:
            raise LLMError("LLM rewrite dropped or changed the quote")
        parts = platform.fit(new_text, hashtags=hashtags)
        problems = platform.validate(posts_of(parts, media))
        if problems:
            raise LLMError(f"LLM rewrite breaks a rule: {problems[0].message}")
    except (LLMError, FitError) as exc:
        return template_parts, None, [f"kept the template text: {exc}"]
    return parts, f"llm {settings.model}", []


def planned_media(platform, episode: Episode, highlight: Highlight | None) -> list[dict]:
    """What a post carries. Platforms that need media (Reels, TikTok, Shorts): the highlight's rendered 9:16
    clip, else the plan for it (the episode post uses the best highlight's). Platforms with
    ``quote_card_posts``: a highlight post carries its quote card when one was drawn."""
    if platform.episode_only:  # a blog post's featured image: the best highlight's quote card
        card = _rendered_card(episode, episode.highlights[0]) if platform.max_images and episode.highlights else None
        return [_card_item(card)] if card else []
    if not (platform.requires_media or platform.requires_video):
        card = _rendered_card(episode, highlight) if highlight is not None and platform.quote_card_posts else None
        return [_card_item(card)] if card else []
    subject = highlight or (episode.highlights[0] if episode.highlights else None)
    if subject is None:
        return []
    rendered = _rendered_clip(episode, subject)
    if rendered is not None:
        probe = rendered.probe or {}
        return [{"kind": "video", "clip": f"highlight {highlight_key(subject)}", "status": "rendered",
                 "path": rendered.path, **_stored(probe), "seconds": probe.get("seconds"), "width": probe.get("width"),
                 "height": probe.get("height"), "bytes": probe.get("bytes")}]
    return [{"kind": "video", "clip": f"highlight {highlight_key(subject)}", "status": "planned",
             "seconds": round(subject.end - subject.start, 3), "width": CLIP_WIDTH, "height": CLIP_HEIGHT}]


def _rendered_card(episode: Episode, highlight: Highlight) -> Clip | None:
    """The highlight's quote card, portrait (4:5, more of the feed) before square."""
    from sqlalchemy.orm import object_session

    cards = object_session(episode).scalars(
        select(Clip).where(Clip.episode_id == episode.id, Clip.highlight_key == highlight.key, Clip.kind == CARD,
                           Clip.status == "ready")).all()
    present = [c for c in cards if Path(c.path).is_file() or (c.probe or {}).get("stored")]
    return min(present, key=lambda c: (c.aspect != "4:5", c.aspect), default=None)


def _card_item(card: Clip) -> dict:
    probe = card.probe or {}
    size = Path(card.path).stat().st_size if Path(card.path).is_file() else probe.get("bytes")
    return {"kind": "image", "clip": f"quote card {card.aspect}", "status": "rendered", "path": card.path,
            **_stored(probe), "width": probe.get("width"), "height": probe.get("height"), "bytes": size,
            "alt": probe.get("alt_text", "")}


def _stored(probe: dict) -> dict:
    """``{"stored": ref}`` when the clip is in the shared media storage too (its file may be on another machine)."""
    return {"stored": probe["stored"]} if probe.get("stored") else {}


def _rendered_clip(episode: Episode, highlight: Highlight) -> Clip | None:
    from sqlalchemy.orm import object_session

    return object_session(episode).scalar(
        select(Clip).where(Clip.episode_id == episode.id, Clip.highlight_key == highlight.key, Clip.format == "mp4",
                           Clip.aspect == "9:16", Clip.kind.in_(("video", "audiogram")), Clip.status == "ready")
        .order_by(Clip.kind.desc()))  # a real video cut before an audiogram


def posts_of(parts: list[str], media: list[dict]) -> list[PostContent]:
    """The post and its thread replies as the platform validates them; media rides on the first post."""
    items = tuple(MediaItem(kind=m["kind"], path=m.get("path", ""), seconds=m.get("seconds"), width=m.get("width"),
                            height=m.get("height"), bytes=m.get("bytes")) for m in media)
    return [PostContent(text=part, media=items if k == 0 else ()) for k, part in enumerate(parts)]


def _hashtags(client: Client, highlight: Highlight | None) -> list[str]:
    tags = [t if t.startswith("#") else f"#{t}" for t in (client.hashtags or [])]
    return tags + (highlight_context(highlight)["hashtags"] if highlight else [])


def _find_or_create(session: Session, episode: Episode, highlight, client: Client, platform: str) -> Draft:
    key = highlight_key(highlight)
    draft = session.scalar(select(Draft).where(Draft.episode_id == episode.id, Draft.highlight_key == key,
                                               Draft.platform == platform))
    if draft is None:
        draft = Draft(client_id=client.id, episode_id=episode.id, highlight_key=key, platform=platform,
                      language=client.language, status="draft")
        session.add(draft)
    draft.highlight_id = highlight.id if highlight is not None else None
    return draft
