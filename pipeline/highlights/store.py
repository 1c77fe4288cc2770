"""The highlights stage: options per client, mining an episode, storing and reading highlights.

Options are layered, later wins: built-in defaults, the settings file, the
client profile's [highlights] table, weights re-fitted from feedback, then
command-line flags. ``explain_weights`` reports where each weight came from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pipeline.config import Settings
from pipeline.db import Database
from pipeline.errors import CastmillError, MediaError, NotFoundError
from pipeline.highlights.energy import envelope_from_file
from pipeline.highlights.mine import MiningResult, mine_highlights
from pipeline.highlights.options import FeatureWeights, HighlightOptions
from pipeline.models import Client, Episode, Highlight, Transcript
from pipeline.stages import is_current, mark_done, mark_failed, mark_running, stage_row
from pipeline.transcribe.base import TranscriptResult

STAGE = "highlights"


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


def stage_input_key(transcript: Transcript, options: HighlightOptions, settings: Settings) -> str:
    llm = settings.highlights.llm
    return f"{transcript.id}|{transcript.input_key}|{options.cache_key()}|llm={llm.enabled and llm.model}"


def latest_transcript(session: Session, episode_id: int) -> Transcript | None:
    return session.scalar(select(Transcript).where(Transcript.episode_id == episode_id)
                          .order_by(Transcript.id.desc()).limit(1))


def transcript_result(row: Transcript) -> TranscriptResult:
    data = {"language": row.language, "duration": row.duration, "segments": row.segments}
    return TranscriptResult.from_dict(data, engine=row.engine, model=row.model)


def run_highlight_stage(db: Database, settings: Settings, episode_id: int, *, force: bool = False) -> MiningResult | None:
    """Mine and store one episode's highlights; None when they are current already.

    Raises CastmillError (after recording it on the stage row) when mining fails.
    """
    with db.session() as session:
        episode = session.get(Episode, episode_id)
        transcript = latest_transcript(session, episode_id)
        if transcript is None:
            raise NotFoundError("has no transcript yet: run `castmill process` first", source=f"episode {episode_id}")
        options = client_options(settings, episode.client)
        key = stage_input_key(transcript, options, settings)
        row = stage_row(session, episode, STAGE)
        if is_current(row, key) and not force:
            return None
        mark_running(row, key)
        result_input, media_path = transcript_result(transcript), episode.media_path
    try:
        result = mine_highlights(result_input, options, energy=energy_or_none(media_path),
                                 llm=settings.highlights.llm, source=f"episode {episode_id}")
    except CastmillError as exc:
        _record_failure(db, episode_id, str(exc))
        raise
    _store(db, episode_id, result, key)
    return result


def energy_or_none(media_path: str):
    try:
        return envelope_from_file(media_path)
    except MediaError:
        return None  # mining still works from the words alone; the result notes it


def _record_failure(db: Database, episode_id: int, message: str) -> None:
    with db.session() as session:
        mark_failed(stage_row(session, session.get(Episode, episode_id), STAGE), message)


def _store(db: Database, episode_id: int, result: MiningResult, key: str) -> None:
    with db.session() as session:
        session.execute(delete(Highlight).where(Highlight.episode_id == episode_id))
        for h in result.highlights:
            session.add(Highlight(
                episode_id=episode_id, rank=h.rank, start=h.start, end=h.end, score=h.score,
                features=h.features, reasons=h.reasons, caveats=h.caveats, text=h.text, quote=h.quote,
                title=h.title, key_phrases=h.key_phrases, hashtags=h.hashtags, llm=h.llm, input_key=key,
            ))
        mark_done(stage_row(session, session.get(Episode, episode_id), STAGE))


def episode_highlights(session: Session, episode_id: int, client_slug: str | None = None) -> list[Highlight]:
    """Stored highlights of one episode, best first; scoped to ``client_slug`` when given."""
    episode = session.get(Episode, episode_id)
    if episode is None or (client_slug and episode.client.slug != client_slug):
        raise NotFoundError(f"no episode {episode_id}" + (f" for client {client_slug}" if client_slug else ""))
    return list(episode.highlights)
