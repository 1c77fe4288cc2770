"""The dashboard's door to the library: one Database per process, plain calls."""

from __future__ import annotations

import streamlit as st

from pipeline.clients import list_clients
from pipeline.config import load_settings
from pipeline.db import Database
from pipeline.episodes import EpisodeRow, list_episodes


@st.cache_resource
def _open(url: str) -> Database:
    # Cached per URL: opening (and migrating) is idempotent and has no other side effect.
    return Database(url)


def database() -> Database:
    return _open(load_settings().database_url)


def client_slugs() -> list[str]:
    with database().session() as session:
        return [c.slug for c in list_clients(session)]


def episodes(client_slug: str | None) -> list[EpisodeRow]:
    with database().session() as session:
        return list_episodes(session, client_slug)
