"""``castmill doctor``: is this installation working, and what fixes what is not."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.cli.support import friendly_errors, settings_of
from pipeline.core.vocab import HEALTH_FAIL, HEALTH_OK, HEALTH_STATUSES, HEALTH_WARN

STATUS_STYLES = {HEALTH_OK: "green", HEALTH_WARN: "yellow", HEALTH_FAIL: "bold red"}


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: the worst status and every check's finding.")
@click.pass_context
@friendly_errors
def doctor(ctx, as_json) -> None:
    """Check the database, ffmpeg, speech models, disk space, platform tokens, the scheduler, stuck work and
    the secret key; say what to do about each problem.

    Exit status 1 when a check fails; warnings are shown but exit 0. The database is looked at, not migrated.

    Examples:

        castmill doctor

        castmill doctor --json
    """
    from pipeline.health import diagnose
    from pipeline.health.checks import worst

    findings = diagnose(settings_of(ctx))
    status = worst(f.status for f in findings)
    if as_json:
        click.echo(json.dumps({"status": status, "findings": [f.to_dict() for f in findings]}, indent=2,
                              ensure_ascii=False))
    else:
        table = Table("status", "check", "detail", "what to do")
        for f in findings:
            # Text, not markup: a detail such as "[transcribe] model" is shown as written.
            table.add_row(Text(f.status, style=STATUS_STYLES[f.status]), Text(f.name), Text(f.detail), Text(f.fix))
        Console().print(table)
        counts = {s: sum(1 for f in findings if f.status == s) for s in reversed(HEALTH_STATUSES)}
        click.echo(", ".join(f"{n} {s}" for s, n in counts.items()))
    sys.exit(1 if status == HEALTH_FAIL else 0)
