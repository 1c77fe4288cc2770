"""The dashboard's door to the library: one Database per process, plain calls, no rules of its own."""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from pipeline.store.clients import list_clients
from pipeline.core.settings import Settings, load_settings
from pipeline.store.db import Database
from pipeline.store.episodes import EpisodeRow, list_episodes

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


def process(identity, client_slug: str, inputs: list[str], reporter):
    """``castmill process --client SLUG INPUTS`` with the settings' engine and model (staff only)."""
    from pipeline.batch import process_for

    return process_for(identity, database(), settings(), client_slug, inputs, reporter)


def rerun_stage(identity, episode_id: int, stage: str, reporter):
    """Run ``stage`` of the episode again, and whatever depends on it (staff only)."""
    from pipeline.batch import rerun_stage as rerun

    return rerun(identity, database(), settings(), episode_id, stage, reporter)


def queue_available() -> bool:
    """Whether episodes can go to the job queue: only a PostgreSQL database has one."""
    return database().engine.dialect.name == "postgresql"


def enqueue(identity, client_slug: str, inputs: list[str]):
    """``castmill process --queue`` (staff only): workers on any machine take the episodes."""
    from pipeline.jobs.enqueue import enqueue_for

    return enqueue_for(identity, database(), settings(), client_slug, inputs)


def jobs(identity, client_slug: str | None):
    """The queue's jobs, newest first, with their worker and error (staff only)."""
    from pipeline.jobs.manage import list_jobs

    return list_jobs(identity, database(), client=client_slug)


def retry_job(identity, job_id: int) -> None:
    from pipeline.jobs.manage import retry_job as retry

    retry(identity, database(), settings(), job_id)


def cancel_job(identity, job_id: int) -> str:
    from pipeline.jobs.manage import cancel_job as cancel

    return cancel(identity, database(), settings(), job_id)


def speakers(identity, episode_id: int):
    """Who speaks in the episode, most first, with the names the VA gave them."""
    from pipeline.transcribe.speakers import episode_speakers

    with session() as s:
        return episode_speakers(s, identity, episode_id)


def rename_speakers(identity, episode_id: int, names: dict[str, str]) -> dict[str, str]:
    """Name the episode's speakers (staff only, audited by the library); clip captions follow."""
    from pipeline.clips.stage import name_speakers

    with session() as s:
        return name_speakers(s, settings(), identity, episode_id, names)


def draft_preview(identity, draft_id: int, parts: list[str]) -> str | None:
    """A long-form draft's script-free preview page (None for a short post)."""
    from pipeline import review

    with session() as s:
        return review.draft_preview(s, identity, draft_id, parts)


def health(identity):
    """``castmill doctor``'s checks on this database and settings (admins only; the library refuses others)."""
    from pipeline.health import checks_for

    return checks_for(identity, database(), settings())
