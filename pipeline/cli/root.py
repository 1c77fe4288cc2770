"""The ``castmill`` root group: settings from --home, ``castmill init``, and every command group.

Each command opens the library, calls one function and turns a CastmillError into one line on
stderr and a non-zero exit (``support.friendly_errors``). The library never imports this package.
"""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.support import database_of, friendly_errors
from pipeline.core.settings import load_settings
from pipeline.core.errors import CastmillError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar="CASTMILL_HOME",
              help="Data folder (default ~/.castmill).")
@click.version_option(package_name="castmill")
@click.pass_context
def cli(ctx: click.Context, home: Path | None) -> None:
    """Castmill: podcast episodes in, social posts out."""
    try:
        ctx.obj = {"settings": load_settings(home)}
    except CastmillError as exc:
        raise click.ClickException(str(exc))


@cli.command()
@click.pass_context
@friendly_errors
def init(ctx: click.Context) -> None:
    """Create or migrate the database.

    Example:

        castmill init
    """
    from pipeline.store.db import current_revision, safe_url

    db = database_of(ctx)
    click.echo(f"database ready at revision {current_revision(db.engine)}: {safe_url(db.url)}")


from pipeline.cli.accounts import accounts_group  # noqa: E402  (each command group lives in its own module)
from pipeline.cli.backup import backup, restore  # noqa: E402
from pipeline.cli.calendar import calendar_group, schedule_group  # noqa: E402
from pipeline.cli.clients import client  # noqa: E402
from pipeline.cli.clips import clips  # noqa: E402
from pipeline.cli.deploy import deploy  # noqa: E402
from pipeline.cli.doctor import doctor  # noqa: E402
from pipeline.cli.drafts import drafts, templates  # noqa: E402
from pipeline.cli.evergreen import evergreen  # noqa: E402
from pipeline.cli.feeds import feeds  # noqa: E402
from pipeline.cli.highlights import feedback, highlights, refit  # noqa: E402
from pipeline.cli.jobs import jobs, worker  # noqa: E402
from pipeline.cli.longform import chapters, notes  # noqa: E402
from pipeline.cli.notices import notices  # noqa: E402
from pipeline.cli.process import episodes, process  # noqa: E402
from pipeline.cli.scheduler import metrics, report, scheduler  # noqa: E402
from pipeline.cli.serve import dashboard, serve  # noqa: E402
from pipeline.cli.slots import slots  # noqa: E402
from pipeline.cli.transcribe import transcribe  # noqa: E402
from pipeline.cli.users import review_link, user  # noqa: E402

for command in (client, doctor, process, feeds, worker, jobs, episodes, transcribe, highlights, feedback, refit, chapters,
                notes, drafts, templates, clips, schedule_group, calendar_group, accounts_group, slots, user, review_link,
                scheduler, notices, evergreen, metrics, report, backup, restore, serve, dashboard, deploy):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="castmill")


if __name__ == "__main__":
    main()
