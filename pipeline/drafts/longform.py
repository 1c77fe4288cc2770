"""Show notes on demand (`castmill notes`), written by the same template as the show-notes drafts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pipeline.access.identity import Identity
from pipeline.access.permissions import visible_episode
from pipeline.drafts.context import episode_context, notes_context, template_context
from pipeline.drafts.templates import environment, render, template_name
from pipeline.longform.notes import notes_for_episode
from pipeline.platforms import get_platform
from pipeline.platforms.document import parse, titled_html

FORMATS = ("md", "html")


def show_notes(session: Session, identity: Identity, episode_id: int, fmt: str = "md") -> str:
    """The episode's show notes as Markdown (with its "Title:" header) or as an HTML fragment."""
    episode = visible_episode(session, identity, episode_id)
    client, platform = episode.client, get_platform("shownotes")
    env = environment(client.templates_dir or None)
    notes = notes_context(notes_for_episode(session, episode), episode_context(episode)["link"])
    text = render(env, template_name(env, platform.name, client.language),
                  template_context(episode, None, client, platform, notes)).text
    if fmt == "md":
        return text
    return titled_html(parse(text))
