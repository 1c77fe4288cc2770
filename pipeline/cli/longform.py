"""``castmill chapters`` and ``castmill notes``: an episode's chapters (for a YouTube description, a podcast
feed or show notes) and its show notes."""

from __future__ import annotations

import click

from pipeline.cli.support import cli_identity, database_of, friendly_errors


@click.command()
@click.argument("episode_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["youtube", "json", "md"]), default="md", show_default=True,
              help="youtube: description lines (needs 3 chapters or more); json: Podcasting 2.0 chapters; "
                   "md: a Markdown list.")
@click.option("--client", "client_slug", help="Refuse unless the episode belongs to this client.")
@click.pass_context
@friendly_errors
def chapters(ctx, episode_id, fmt, client_slug) -> None:
    """Cut an episode into chapters by topic, each with a short title, from its latest transcript.

    Example:

        castmill chapters 12 --format youtube

        castmill chapters 12 --format json > chapters.json
    """
    from pipeline.longform.chapters import episode_chapters
    from pipeline.longform.chapters_export import export

    with database_of(ctx).session() as session:
        found = episode_chapters(session, cli_identity(), episode_id, client_slug=client_slug)
    click.echo(export(found, fmt))


@click.command()
@click.argument("episode_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True,
              help="md: Markdown; html: the same as HTML.")
@click.pass_context
@friendly_errors
def notes(ctx, episode_id, fmt) -> None:
    """Show notes for an episode: summary, chapters, takeaways, quotes with times, links and names mentioned.

    They are written with the client's show-notes template (posts/shownotes.j2), the one its show-notes
    drafts use.

    Example:

        castmill notes 12 > notes.md

        castmill notes 12 --format html > notes.html
    """
    from pipeline.drafts.longform import show_notes

    with database_of(ctx).session() as session:
        click.echo(show_notes(session, cli_identity(), episode_id, fmt))
