"""What a post template can see: plain dicts of episode, highlight, client and platform facts."""

from __future__ import annotations

from pipeline.core.clock import media_position as clock
from pipeline.longform.notes import ShowNotes
from pipeline.platforms.longform import DESCRIPTION_CHARS
from pipeline.store.models import Client, Episode, Highlight

SLUG_CHARS = 60


def episode_context(episode: Episode) -> dict:
    meta = episode.feed_meta or {}
    enclosure = episode.source_uri if episode.source_uri.startswith(("http://", "https://")) else None
    return {
        "title": episode.title,
        "number": meta.get("number"),  # itunes:episode
        "guest": meta.get("guest"),
        "link": meta.get("link") or enclosure,
        "published": episode.published_at.date().isoformat() if episode.published_at else None,
        "duration": clock(episode.duration or 0.0),
    }


def highlight_context(highlight: Highlight | None) -> dict | None:
    """The highlight's facts; for one spoken in another language and translated, the translation's words,
    with ``translated_from`` (the spoken language) and ``spoken_quote`` (the quote as said).

    ``speaker`` (who talks most), ``quote_by`` (who says the quote) and ``speakers`` are the names the VA
    gave the episode's speakers; a speaker still known only by its label ("S1") is None, so a post never
    says "S1"."""
    if highlight is None:
        return None
    names = named_speakers(highlight)
    context = {
        "quote": highlight.quote, "title": highlight.title, "reasons": list(highlight.reasons),
        "key_phrases": list(highlight.key_phrases), "hashtags": list(highlight.hashtags),
        "start": clock(highlight.start), "end": clock(highlight.end), "text": highlight.text,
        "translated_from": None, "spoken_quote": highlight.quote,
        "speaker": names.get(highlight.speakers[0]) if highlight.speakers else None,
        "quote_by": names.get(highlight.quote_by), "speakers": [names[s] for s in highlight.speakers if s in names],
    }
    if translation := highlight.translation:
        context.update({key: translation[key] for key in ("quote", "title", "key_phrases", "hashtags", "text")},
                       translated_from=translation["from"])
    return context


def named_speakers(highlight: Highlight) -> dict[str, str]:
    """Label -> name for the speakers of the highlight's episode that the VA named."""
    return {label: name for label, name in (highlight.episode.speaker_names or {}).items() if name}


def client_context(client: Client) -> dict:
    return {
        "name": client.name, "handles": dict(client.handles or {}), "hashtags": list(client.hashtags or []),
        "call_to_action": client.call_to_action or "", "brand_voice": client.brand_voice or "",
        "language": client.language,
    }


def template_context(episode: Episode, highlight: Highlight | None, client: Client, platform,
                     notes: dict | None = None) -> dict:
    """``notes`` (long-form platforms only): ``notes_context`` of the episode's show notes."""
    return {
        "episode": episode_context(episode),
        "highlight": highlight_context(highlight),
        "client": client_context(client),
        "platform": {"name": platform.name, "label": platform.label, "text_limit": platform.text_limit},
        "language": client.language,
        "notes": notes,
    }


def notes_context(notes: ShowNotes, episode_link: str | None = None) -> dict:
    """Show notes for the long-form templates: times as "12:05", plus a slug and a meta description. With the
    episode's link, each quote links to its moment (a W3C media fragment, "#t=725": players start there)."""
    return {
        "title": notes.title, "summary": notes.summary,
        "chapters": [{"start": clock(c.start), "title": c.title, "summary": c.summary} for c in notes.chapters],
        "takeaways": list(notes.takeaways),
        "quotes": [{"start": clock(q.start), "text": q.text, "by": q.by or None,
                    "link": f"{episode_link}#t={int(q.start)}" if episode_link else None} for q in notes.quotes],
        "links": list(notes.links), "names": list(notes.names), "speakers": list(notes.speakers),
        "missing": list(notes.notes), "slug": slug(notes.title),
        "description": shortened(notes.summary or notes.title, DESCRIPTION_CHARS),
    }


def slug(title: str) -> str:
    """A URL slug: lower-case ASCII words joined by hyphens, cut at a word (e.g. "pricing-your-work")."""
    from slugify import slugify

    return slugify(title, max_length=SLUG_CHARS, word_boundary=True) or "episode"


def shortened(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with "…" when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def sample_context(platform) -> dict:
    """A full context with made-up values, for `castmill templates check`."""
    return {
        "episode": {"title": "Pricing your work", "number": "42", "guest": "a guest", "link": "https://example.com/ep42",
                    "published": "2026-11-23", "duration": "48:10"},
        "highlight": {"quote": "Stop selling your time, and start pricing the result.", "title": "Price the result",
                      "reasons": ["opens with a question"], "key_phrases": ["pricing", "fixed packages"],
                      "hashtags": ["#Pricing"], "start": "12:05", "end": "12:41", "text": "…",
                      "translated_from": None, "spoken_quote": "Stop selling your time, and start pricing the result.",
                      "speaker": "Dinda", "quote_by": "Dinda", "speakers": ["Dinda", "Budi"]},
        "client": {"name": "Example Show", "handles": {"x": "@example"}, "hashtags": ["#podcast"],
                   "call_to_action": "Follow for more.", "brand_voice": "", "language": "en"},
        "platform": {"name": platform.name, "label": platform.label, "text_limit": platform.text_limit},
        "language": "en",
        "notes": {"title": "Pricing your work", "summary": "Fixed packages beat hourly rates.",
                  "chapters": [{"start": "0:00", "title": "Welcome", "summary": "Why pricing matters."},
                               {"start": "6:40", "title": "Hourly Rates", "summary": "Hours cap what you earn."},
                               {"start": "21:15", "title": "Fixed Packages", "summary": "Sell the result."}],
                  "takeaways": ["Price the result"], "links": ["https://example.com/pricing"], "names": ["Budi"],
                  "quotes": [{"start": "12:05", "text": "Stop selling your time.", "by": "Dinda",
                              "link": "https://example.com/ep42#t=725"}],
                  "speakers": ["Dinda", "Budi"], "missing": [], "slug": "pricing-your-work",
                  "description": "Fixed packages beat hourly rates."},
    }
