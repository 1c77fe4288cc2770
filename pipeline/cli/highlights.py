"""``castmill highlights``, ``castmill feedback`` and ``castmill refit``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from pipeline.cli.support import database_of, err_console, friendly_errors, settings_of
from pipeline.core.errors import HighlightError
from pipeline.highlights.options import PLATFORM_BOUNDS

PLATFORM_CHOICE = click.Choice(sorted(PLATFORM_BOUNDS))


@click.command()
@click.argument("target", required=False, metavar="FILE_OR_EPISODE_ID")
@click.option("--client", "client_slug", help="Use this client's settings and weights (and check ownership).")
@click.option("--top", type=click.IntRange(1, 50), help="Highlights to return (default 8).")
@click.option("--min", "min_seconds", type=click.FloatRange(1, 600), help="Shortest clip in seconds (default 15).")
@click.option("--max", "max_seconds", type=click.FloatRange(1, 900), help="Longest clip in seconds (default 90).")
@click.option("--platform", type=PLATFORM_CHOICE, help="Use the platform's clip length bounds.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--explain", is_flag=True, help="Show the weights in use and every feature of every highlight.")
@click.pass_context
@friendly_errors
def highlights(ctx, target, client_slug, top, min_seconds, max_seconds, platform, fmt, explain) -> None:
    """Mine explained highlights from an episode, a transcript JSON or a media file.

    An episode id shows the highlights `castmill process` stored (mined again
    when --top/--min/--max/--platform differ from the stored run). A .json file
    is read as a transcript (`castmill transcribe --format json`); any other
    file is transcribed first.

    Example:

        castmill highlights 12 --platform tiktok --top 5

        castmill highlights episode.mp3 --format json > highlights.json

        castmill highlights --explain --client acme
    """
    from pipeline.highlights.store import explain_weights

    settings = settings_of(ctx)
    flags = dict(platform=platform, top=top, min_seconds=min_seconds, max_seconds=max_seconds)
    client = _client(ctx, client_slug) if client_slug else None
    if target is None:
        if not explain:
            raise click.UsageError("give FILE_OR_EPISODE_ID, or --explain to see the weights in use")
        _print_weights(explain_weights(settings, client), fmt)
        return
    if target.isdigit():
        payload, weights_client = _episode_highlights(ctx, int(target), client_slug, flags)
    else:
        payload, weights_client = _file_highlights(ctx, Path(target), client, flags), client
    if fmt == "json":
        if explain:
            payload["weights_in_use"] = [w.__dict__ for w in explain_weights(settings, weights_client)]
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    _print_highlights(payload, explain)
    if explain:
        _print_weights(explain_weights(settings, weights_client), "table")


def _client(ctx, slug: str):
    from pipeline.store.clients import get_client

    with database_of(ctx).session() as session:
        return get_client(session, slug)  # sessions keep loaded attributes after closing


def _episode_highlights(ctx, episode_id: int, client_slug: str | None, flags: dict):
    from pipeline.highlights import mine_highlights
    from pipeline.highlights.stage import energy_or_none, run_stage
    from pipeline.store.episodes import latest_transcript
    from pipeline.highlights.store import (client_options, episode_highlights,
                                           transcript_result)
    from pipeline.store.models import Episode

    settings, db = settings_of(ctx), database_of(ctx)
    with db.session() as session:
        episode_highlights(session, episode_id, client_slug)  # existence and ownership check
    if not any(flags.values()):
        result = run_stage(db, settings, episode_id)  # no-op when stored highlights are current
        with db.session() as session:
            rows = episode_highlights(session, episode_id, client_slug)
            payload = {"episode": episode_id, "notes": result.notes if result else [],
                       "highlights": [_row_dict(r) for r in rows]}
            client = session.get(Episode, episode_id).client
        return payload, client
    with db.session() as session:
        episode = session.get(Episode, episode_id)
        options = client_options(settings, episode.client, **flags)
        transcript = latest_transcript(session, episode_id)
        if transcript is None:
            raise HighlightError("has no transcript yet: run `castmill process` first", source=f"episode {episode_id}")
        data, media, client = transcript_result(transcript), episode.media_path, episode.client
        names = dict(episode.speaker_names or {})
    energy = energy_or_none(media, settings)
    result = mine_highlights(data, options, energy=energy, llm=settings.highlights.llm, source=f"episode {episode_id}")
    payload = result.to_dict()
    payload["highlights"] = [_named(h, names) for h in payload["highlights"]]
    return {"episode": episode_id, **payload}, client


def _file_highlights(ctx, path: Path, client, flags: dict) -> dict:
    from pipeline.highlights import envelope_from_samples, mine_highlights
    from pipeline.highlights.store import client_options

    settings = settings_of(ctx)
    options = client_options(settings, client, **flags)
    if path.suffix.lower() == ".json":
        transcript, energy = _read_transcript(path), None
    else:
        transcript, audio = _transcribe(settings, path)
        energy = envelope_from_samples(audio)
    result = mine_highlights(transcript, options, energy=energy, llm=settings.highlights.llm, source=str(path))
    return {"source": str(path), **result.to_dict()}


def _read_transcript(path: Path):
    from pipeline.transcribe.base import TranscriptResult

    if not path.is_file():
        raise HighlightError("no such file", source=path)
    try:
        return TranscriptResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise HighlightError(f"not a transcript JSON (expected language, duration, segments): {exc}",
                             source=path) from exc


def _transcribe(settings, path: Path):
    from pipeline.cli.support import transcribe_options
    from pipeline.transcribe import ModelStore, transcribe_file

    options = transcribe_options(settings, None, None, None, None, None)
    with err_console.status(f"transcribing {path.name} …"):
        return transcribe_file(path, settings.transcribe.engine, options, ModelStore(settings.models_dir, settings.models))


def _row_dict(row) -> dict:
    keys = ("rank", "start", "end", "score", "features", "reasons", "caveats", "text", "quote", "title",
            "key_phrases", "hashtags", "llm", "speakers", "quote_by")
    return _named({"id": row.id, **{k: getattr(row, k) for k in keys}}, row.episode.speaker_names or {})


def _named(highlight: dict, names: dict[str, str]) -> dict:
    """The highlight with speaker labels in its reasons, caveats and speakers replaced by the VA's names."""
    from pipeline.transcribe.speakers import with_names

    return {**highlight, "reasons": [with_names(r, names) for r in highlight["reasons"]],
            "caveats": [with_names(c, names) for c in highlight["caveats"]],
            "speakers": [names.get(s) or s for s in highlight.get("speakers") or []],
            "quote_by": names.get(highlight.get("quote_by") or "") or highlight.get("quote_by") or ""}


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:04.1f}"


def _print_highlights(payload: dict, explain: bool) -> None:
    console = Console()
    for note in payload.get("notes", []):
        click.echo(f"note: {note}", err=True)
    if not payload["highlights"]:
        click.echo("no highlights")
        return
    with_ids = "id" in payload["highlights"][0]
    table = Table("#", *(["id"] if with_ids else []), "cut", "len", "score", "title / reasons", show_lines=True)
    for h in payload["highlights"]:
        detail = f"[bold]{h['title']}[/bold]\n" + "; ".join(h["reasons"])
        if h["caveats"]:
            detail += "\n[yellow]" + "; ".join(h["caveats"]) + "[/yellow]"
        if explain:
            detail += "\n" + "  ".join(f"{k}={'–' if v is None else f'{v:.2f}'}" for k, v in h["features"].items())
        ids = [str(h["id"])] if with_ids else []
        table.add_row(str(h["rank"]), *ids, f"{_clock(h['start'])}–{_clock(h['end'])}",
                      f"{h['end'] - h['start']:.0f} s", f"{h['score']:.2f}", detail)
    console.print(table)


def _print_weights(rows, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps([r.__dict__ for r in rows], indent=2))
        return
    table = Table("feature", "weight", "share", "from", title="highlight weights in use")
    for r in rows:
        table.add_row(r.name, f"{r.value:.3f}", f"{r.normalized:.0%}", r.source)
    Console().print(table)


@click.command()
@click.argument("highlight_id", type=int)
@click.argument("label", type=click.Choice(["good", "bad"]))
@click.option("--client", "client_slug", help="Refuse unless the highlight belongs to this client.")
@click.option("--by", "author", default="", help="Who gave the label (name or email).")
@click.option("--note", default="", help="Why, in a few words.")
@click.pass_context
@friendly_errors
def feedback(ctx, highlight_id, label, client_slug, author, note) -> None:
    """Mark a stored highlight good or bad (used by `castmill refit`).

    Example:

        castmill feedback 42 good --by maya@example.com --note "great hook"
    """
    from pipeline.highlights.feedback import add_feedback

    with database_of(ctx).session() as session:
        row = add_feedback(session, highlight_id, label, author=author, note=note, client_slug=client_slug)
        click.echo(f"recorded {label} for highlight {highlight_id} (feedback {row.id})")


@click.command()
@click.option("--client", "client_slug", required=True, help="Client whose labels are used.")
@click.option("--dry-run", is_flag=True, help="Show the fitted weights without saving them.")
@click.pass_context
@friendly_errors
def refit(ctx, client_slug, dry_run) -> None:
    """Re-fit a client's highlight weights from good/bad labels (logistic regression).

    Example:

        castmill refit --client acme
    """
    from pipeline.highlights.feedback import refit_weights
    from pipeline.highlights.store import WeightSource, weights_in_use
    from pipeline.store.clients import get_client

    settings = settings_of(ctx)
    with database_of(ctx).session() as session:
        client = get_client(session, client_slug)
        report = refit_weights(session, client, weights_in_use(settings, client), save=not dry_run)
    click.echo(f"{report.labels} labels ({report.good} good, {report.bad} bad); "
               f"training accuracy {report.training_accuracy:.0%}; {'not saved (dry run)' if dry_run else 'saved'}")
    _print_weights([WeightSource(k, v, v, "fitted") for k, v in report.weights.items()], "table")
