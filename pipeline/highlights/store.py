"""Highlight options per client, and reading stored highlights (the stage itself is ``stage.py``).

Options are layered, later wins: built-in defaults, the settings file, the
client profile's [highlights] table, weights re-fitted from feedback, then
command-line flags. ``explain_weights`` reports where each weight came from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from pipeline.core.settings import Settings
from pipeline.core.errors import NotFoundError
from pipeline.highlights.options import FeatureWeights, HighlightOptions
from pipeline.store.models import Client, Episode, Highlight, Transcript
from pipeline.transcribe.base import TranscriptResult

@dataclass(frozen=True)
class WeightSource:
    name: str
    value: float
    normalized: float
    source: str  # default | settings | client profile | fitted from N labels


def client_options(settings: Settings, client: Client | None, *, platform: str | None = None,
                   top: int | None = None, min_seconds: float | None = None,
                   max_seconds: float | None = None) -> HighlightOptions:
    """The options for one client (None: settings only), narrowed by platform and flags."""
    weights, _sources = _layered_weights(settings, client)
    profile = (client.highlight_settings or {}) if client else {}
    h = settings.highlights
    options = HighlightOptions(
        top=top or h.top,
        min_seconds=profile.get("min_seconds") or h.min_seconds,
        max_seconds=profile.get("max_seconds") or h.max_seconds,
        weights=weights,
    )
    bounds = {name: (b.min_seconds, b.max_seconds) for name, b in h.platforms.items()}
    bounds |= {name: (b["min_seconds"], b["max_seconds"]) for name, b in profile.get("platforms", {}).items()}
    options = options.for_platform(platform, bounds)
    if min_seconds or max_seconds:
        options = replace(options, min_seconds=min_seconds or options.min_seconds,
                          max_seconds=max_seconds or options.max_seconds)
    return options


def _layered_weights(settings: Settings, client: Client | None) -> tuple[FeatureWeights, dict[str, str]]:
    weights = FeatureWeights()
    sources = dict.fromkeys(weights.names(), "default")
    layers = [("settings", settings.highlights.weights)]
    if client is not None:
        layers.append((f"client profile {client.slug}", (client.highlight_settings or {}).get("weights", {})))
        fitted = client.fitted_weights or {}
        layers.append((f"fitted from {fitted.get('labels', 0)} labels", fitted.get("weights", {})))
    for source, overrides in layers:
        weights = weights.with_overrides(overrides, source=source)
        sources.update(dict.fromkeys(overrides, source))
    return weights, sources


def weights_in_use(settings: Settings, client: Client | None) -> FeatureWeights:
    return _layered_weights(settings, client)[0]


def explain_weights(settings: Settings, client: Client | None) -> list[WeightSource]:
    weights, sources = _layered_weights(settings, client)
    normalized = weights.normalized()
    return [WeightSource(n, getattr(weights, n), normalized[n], sources[n]) for n in weights.names()]


def stage_input_key(transcript: Transcript, options: HighlightOptions, settings: Settings, *, translate: bool) -> str:
    """What the stored highlights were made from; ``translate``: the client's translate_quotes."""
    llm = settings.highlights.llm
    return (f"{transcript.id}|{transcript.input_key}|{options.cache_key()}|llm={llm.enabled and llm.model}"
            + ("|translate" if translate else ""))


def transcript_result(row: Transcript) -> TranscriptResult:
    data = {"language": row.language, "duration": row.duration, "segments": row.segments}
    return TranscriptResult.from_dict(data, engine=row.engine, model=row.model)


def episode_highlights(session: Session, episode_id: int, client_slug: str | None = None) -> list[Highlight]:
    """Stored highlights of one episode, best first; scoped to ``client_slug`` when given."""
    episode = session.get(Episode, episode_id)
    if episode is None or (client_slug and episode.client.slug != client_slug):
        raise NotFoundError(f"no episode {episode_id}" + (f" for client {client_slug}" if client_slug else ""))
    return list(episode.highlights)
