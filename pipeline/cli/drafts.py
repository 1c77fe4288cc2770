"""``castmill drafts …`` and ``castmill templates check``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from pipeline.core.vocab import DRAFT_STATUSES
from pipeline.cli.support import cli_identity, database_of, friendly_errors, settings_of

STATUS_CHOICE = click.Choice(DRAFT_STATUSES)
PREVIEW_CHARS = 40


@click.group()
def drafts() -> None:
    """Generate, list and check draft posts."""


@drafts.command("generate")
@click.argument("episode_id", type=int)
@click.option("--platform", "platforms", multiple=True, help="Only this platform (repeatable); default: the client's.")
@click.option("--rewrite/--no-rewrite", default=None,
              help="Rewrite with the configured LLM (default: [drafts] llm_rewrite).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def drafts_generate(ctx, episode_id, platforms, rewrite, as_json) -> None:
    """Render drafts for an episode and each of its highlights.

    A changed text becomes a new version; an unchanged one is left as it is.

    Example:

        castmill drafts generate 12 --platform x --platform linkedin
    """
    from pipeline.drafts.generate import generate_drafts

    settings = settings_of(ctx)
    llm = settings.rewrite_llm if rewrite is None else (settings.highlights.llm if rewrite else None)
    if rewrite and not settings.highlights.llm.enabled:
        raise click.UsageError("--rewrite needs [highlights.llm] enabled = true with a base_url and model")
    with database_of(ctx).session() as session:
        outcomes = generate_drafts(session, episode_id, list(platforms) or None, rewrite_with=llm)
    if as_json:
        click.echo(json.dumps([o.__dict__ for o in outcomes], indent=2))
        return
    new = sum(o.created for o in outcomes)
    click.echo(f"{len(outcomes)} draft(s): {new} new version(s), {len(outcomes) - new} unchanged")
    for o in outcomes:
        for problem in o.violations + o.notes:
            click.echo(f"warning: draft {o.draft_id} ({o.platform}, {o.subject}): {problem}", err=True)


@drafts.command("list")
@click.option("--client", "client_slug", help="Only this client's drafts.")
@click.option("--status", type=STATUS_CHOICE, help="Only drafts in this state.")
@click.option("--episode", "episode_id", type=int, help="Only this episode's drafts.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with the full text).")
@click.pass_context
@friendly_errors
def drafts_list(ctx, client_slug, status, episode_id, as_json) -> None:
    """List drafts with their latest version.

    Example:

        castmill drafts list --client acme --status draft
    """
    from pipeline.drafts.queries import list_drafts

    with database_of(ctx).session() as session:
        rows = list_drafts(session, cli_identity(), client_slug, status, episode_id)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2, ensure_ascii=False))
        return
    header = ["id", *([] if client_slug else ["client"]), "ep", "about", "platform", "status", "v", "length"]
    cells = [[str(r.id), *([] if client_slug else [r.client]), str(r.episode_id), _about(r.subject), r.platform,
              r.status, str(r.version), f"{r.length}/{r.limit}"] for r in rows]
    table = Table()
    for k, name in enumerate(header):
        table.add_column(name, no_wrap=True, min_width=max([len(name)] + [len(c[k]) for c in cells]))
    table.add_column("text")
    for r, row in zip(rows, cells):
        text = " ".join(r.parts[0].split())
        thread = f" (+{len(r.parts) - 1} in thread)" if len(r.parts) > 1 else ""
        table.add_row(*row, (text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…") + thread)
    Console().print(table)


def _about(subject: str) -> str:
    """"episode", or the highlight's start as m:ss."""
    if subject == "episode":
        return subject
    from pipeline.drafts.context import clock

    return "@" + clock(float(subject.split("-")[0]))


@drafts.command("check")
@click.argument("draft_id", type=int)
@click.option("--client", "client_slug", help="Refuse unless the draft belongs to this client.")
@click.pass_context
@friendly_errors
def drafts_check(ctx, draft_id, client_slug) -> None:
    """Print every rule the draft's latest version breaks; exit 1 when any.

    Example:

        castmill drafts check 42
    """
    from pipeline.drafts.queries import check_draft

    with database_of(ctx).session() as session:
        problems = check_draft(session, cli_identity(), draft_id, client_slug)
    for problem in problems:
        click.echo(f"draft {draft_id}: {problem}")
    if problems:
        sys.exit(1)
    click.echo(f"draft {draft_id}: passes every rule")


@drafts.command("edit")
@click.argument("draft_id", type=int)
@click.option("--text", "texts", multiple=True, help="The post's new text; repeat for each post of a thread "
              "(default: keep the text).")
@click.option("--first-comment", help="Comment posted right after the post (hashtags, links).")
@click.option("--no-first-comment", is_flag=True, help="Remove the first comment.")
@click.pass_context
@friendly_errors
def drafts_edit(ctx, draft_id, texts, first_comment, no_first_comment) -> None:
    """Save a new version of the draft's text or first comment; any change voids its approvals.

    Example:

        castmill drafts edit 42 --first-comment "#podcast #marketing https://example.com/ep/12"
    """
    from pipeline.review.queries import latest_version
    from pipeline.review.workflow import edit

    if first_comment is not None and no_first_comment:
        raise click.UsageError("give --first-comment or --no-first-comment, not both")
    comment = "" if no_first_comment else first_comment
    with database_of(ctx).session() as session:
        latest = latest_version(session, draft_id)
        if latest is None:
            raise click.ClickException(f"no draft {draft_id} with text: check the id with `castmill drafts list`")
        result = edit(session, cli_identity(), draft_id, list(texts) or list(latest.parts),
                      base_version=latest.number, first_comment=comment)
    if not result.created:
        click.echo(f"draft {draft_id}: nothing changed (version {result.version_number})")
        return
    click.echo(f"draft {draft_id}: version {result.version_number}, now {result.status}"
               + (f"; {result.voided_approvals} approval(s) voided" if result.voided_approvals else ""))
    for problem in result.violations:
        click.echo(f"draft {draft_id}: {problem}")


@drafts.command("export")
@click.argument("draft_id", type=int)
@click.option("--to", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write into.")
@click.option("--latest", is_flag=True, help="The latest version, approved or not (default: the approved one).")
@click.pass_context
@friendly_errors
def drafts_export(ctx, draft_id, folder, latest) -> None:
    """Write a show-notes, newsletter or blog draft as files: Markdown with front matter for static sites,
    HTML, or the newsletter's HTML and text parts for the client's own email platform.

    Example:

        castmill drafts export 57 --to site/content/posts
    """
    from pipeline.review.export import export_draft

    with database_of(ctx).session() as session:
        written = export_draft(session, cli_identity(), draft_id, folder, latest=latest)
    for path in written:
        click.echo(f"wrote {path}")


@click.group()
def templates() -> None:
    """Validate post templates."""


@templates.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--platform", help="Platform whose limits the sample render is checked against (default: from the file name).")
@friendly_errors
def templates_check(paths, platform) -> None:
    """Load and render template files with sample data in the sandbox; exit 1 on any problem.

    Without PATH, checks every shipped template.

    Example:

        castmill templates check config/clients/acme/posts/x.j2
    """
    from pipeline.drafts.templates import BUILTIN_DIR, TemplateProblem, check_template_file
    from pipeline.drafts.context import sample_context
    from pipeline.platforms import LONG_FORM_NAMES, PLATFORM_NAMES, get_platform

    files = list(paths) or sorted(p for p in BUILTIN_DIR.glob("*.j2") if not p.name.startswith("_"))
    failed = 0
    for path in files:
        name = platform or path.name.split(".")[0]
        target = get_platform(name if name in PLATFORM_NAMES + LONG_FORM_NAMES else "linkedin")
        try:
            rendered = check_template_file(path, sample_context(target))
            parts = target.fit(rendered.text)
            click.echo(f"ok: {path} ({len(parts)} post(s) on {target.label})")
        except TemplateProblem as exc:
            failed += 1
            click.echo(f"error: {exc}", err=True)
    if failed:
        sys.exit(1)
