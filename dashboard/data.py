"""The dashboard's door to the library: one Database per process, plain calls, no rules of its own."""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from pipeline.clients import list_clients
from pipeline.config import Settings, load_settings
from pipeline.db import Database
from pipeline.episodes import EpisodeRow, list_episodes
from pipeline.errors import CastmillError, NotFoundError
from pipeline.models import Episode

UPLOADS = "uploads"  # under $CASTMILL_HOME: files sent through the Episodes page


@st.cache_resource
def _open(url: str) -> Database:
    # Cached per URL: opening (and migrating) is idempotent and has no other side effect.
    return Database(url)


def settings() -> Settings:
    return load_settings()


def database() -> Database:
    return _open(settings().database_url)


def session():
    """A library session: committed when the block ends, rolled back on an error."""
    return database().session()


def client_slugs() -> list[str]:
    with session() as s:
        return [c.slug for c in list_clients(s)]


def episodes(client_slug: str | None) -> list[EpisodeRow]:
    with session() as s:
        return list_episodes(s, client_slug)


# --- processing episodes -------------------------------------------------------------------------

def safe_filename(name: str) -> str:
    """One safe path component: anything but letters, digits, dot, dash, underscore (slashes too) becomes "_"."""
    cleaned = re.sub(r"[^\w.-]+", "_", name or "").strip("._") or "upload"
    return cleaned[:120]


def save_upload(client_slug: str, name: str, content: bytes) -> Path:
    """``$CASTMILL_HOME/uploads/<client>/<name>``; an existing different file keeps its name, the new one gets a suffix."""
    folder = settings().home / UPLOADS / client_slug
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_filename(name)
    stem, suffix, n = target.stem, target.suffix, 1
    while target.exists() and target.read_bytes() != content:
        n += 1
        target = folder / f"{stem}-{n}{suffix}"
    target.write_bytes(content)
    return target


def process(client_slug: str, inputs: list[str], reporter):
    """``castmill process --client SLUG INPUTS`` with the settings' engine and model."""
    from pipeline.cli import transcribe_options
    from pipeline.runner import TranscribeJob, process_batch

    current = settings()
    job = TranscribeJob(current.transcribe.engine, transcribe_options(current, None, None, None, None, None))
    return process_batch(database(), current, client_slug, inputs, job=job, reporter=reporter)


def rerun_stage(episode_id: int, stage: str, reporter):
    """Run ``stage`` of the episode again, and whatever depends on it.

    Forgetting the stage's input key makes the runner's resume check fail for that stage
    only; the runner then redoes it, and later stages redo their work when their input
    changed (their own checks decide).
    """
    from pipeline.stages import STAGES, stage_row

    if stage not in STAGES:
        raise NotFoundError(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
    with session() as s:
        episode = s.get(Episode, episode_id)
        if episode is None:
            raise NotFoundError(f"no episode {episode_id}")
        row = stage_row(s, episode, stage)
        row.input_key = ""
        slug, media = episode.client.slug, episode.media_path
    if not Path(media).is_file():
        raise CastmillError(f"the episode's media file is gone: {media}")
    return process(slug, [media], reporter)
