"""``castmill serve`` (the dashboard, scheduler, workers and daily backup under one supervisor) and
``castmill dashboard`` (the dashboard alone, in the foreground)."""

from __future__ import annotations

import logging
import os
import sys

import click

from pipeline.cli.support import configure_logging, database_of, err_console, friendly_errors, settings_of
from pipeline.serve.options import ServeOptions

PORT = click.IntRange(min=1, max=65535)
SERVE = ServeOptions()  # the timings the help text states

SERVE_HELP = f"""Run the dashboard, the scheduler, the workers and the daily backup until stopped.

    A process that exits is started again (after {SERVE.restart_delay:g} s, doubling up to
    {SERVE.max_restart_delay:g} s); one that exits within {SERVE.fast_exit:g} s of starting {SERVE.give_up_after} times
    in a row is given up on, and the others keep running. Every line the processes write goes to
    this command's stdout or stderr with their name in front, e.g. "scheduler | …": under systemd,
    the unit's journal holds it all. SIGTERM or Ctrl-C stops them all (SIGKILL after
    {SERVE.stop_grace:g} s) and exits 0. The daily backup's outcome is kept in
    <home>/backups-status.json; `castmill doctor` warns when it failed or is over a day old.

    Examples:

        castmill serve

        castmill serve --workers 2 --address 0.0.0.0 --port 8080

        castmill serve --no-dashboard --no-backup
    """


@click.command("serve", help=SERVE_HELP)
@click.option("--no-dashboard", is_flag=True, help="Do not run the dashboard.")
@click.option("--no-scheduler", is_flag=True, help="Do not run the scheduler (run it on one machine only).")
@click.option("--workers", type=click.IntRange(min=0, max=32), default=None,
              help="`castmill worker` processes to run, PostgreSQL only (default: [server] workers, 0).")
@click.option("--no-backup", is_flag=True, help="No daily backup from this process (default: at [backup] daily_at).")
@click.option("--port", type=PORT, help="Dashboard port (default: [server] dashboard_port, 8501).")
@click.option("--address", help="Dashboard listen address (default: [server] dashboard_address, 127.0.0.1).")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging from the supervisor and the daily backup.")
@click.pass_context
@friendly_errors
def serve(ctx, no_dashboard, no_scheduler, workers, no_backup, port, address, verbose) -> None:
    from pipeline.serve.supervisor import Supervisor, service_children

    configure_logging(verbose)
    settings = settings_of(ctx)
    workers = settings.server.workers if workers is None else workers
    children = service_children(settings, dashboard=not no_dashboard, scheduler=not no_scheduler, workers=workers,
                                port=port, address=address)
    daily = not no_backup and bool(settings.backup.daily_at)
    if not children and not daily:
        raise click.UsageError("nothing to run: every process and the daily backup are turned off")
    database_of(ctx).dispose()  # migrated once here, not by every child at the same moment
    backups = _start_backups(settings) if daily else None
    _say_started(settings, children, port, address, backups)
    code = Supervisor(children, SERVE).run()
    if backups is not None and backups.running.is_set():
        logging.getLogger("castmill.backup").warning("stopped during the daily backup: it is abandoned and leaves "
                                                     "no archive behind")
    sys.exit(code)


def _start_backups(settings):
    from pipeline.serve.daily_backup import DailyBackups

    backups = DailyBackups(settings)
    backups.start()
    return backups


def _say_started(settings, children, port, address, backups) -> None:
    from pipeline.serve.daily_backup import backup_folder
    from pipeline.serve.dashboard import public_url_of
    from pipeline.serve.supervisor import DASHBOARD

    server = settings.server
    names = [child.name for child in children]
    if DASHBOARD in names:
        click.echo(f"dashboard: {public_url_of(settings, port=port, address=address)} (listening on "
                   f"{address or server.dashboard_address}:{port or server.dashboard_port})")
    click.echo(f"processes: {', '.join(names) or 'none'}")
    if backups is None:
        click.echo("daily backup: off" + ("" if settings.backup.daily_at else " ([backup] daily_at is empty)"))
    else:
        click.echo(f"daily backup: at {settings.backup.daily_at} local time into {backup_folder(settings)}, "
                   f"keeping {settings.backup.keep}; next {backups.next_run():%Y-%m-%d %H:%M %Z}")
    click.echo("SIGTERM or Ctrl-C stops everything", err=True)


@click.command("dashboard")
@click.option("--port", type=PORT, help="Port to listen on (default: [server] dashboard_port, 8501).")
@click.option("--address", help="Address to listen on (default: [server] dashboard_address, 127.0.0.1; "
                                "0.0.0.0 for every interface).")
@click.pass_context
@friendly_errors
def dashboard(ctx, port, address) -> None:
    """Run the dashboard alone, in the foreground: this process becomes Streamlit.

    The same command line as `castmill serve` uses (public address, cookie secret, upload limit
    from [server]); for a systemd unit of its own, or `make dashboard`.

    Examples:

        castmill dashboard

        castmill --home /srv/castmill dashboard --port 8080 --address 0.0.0.0
    """
    from pipeline.serve.dashboard import public_url_of, streamlit_command, streamlit_env

    settings = settings_of(ctx)
    command = streamlit_command(settings, port=port, address=address)
    server = settings.server
    err_console.print(f"dashboard: {public_url_of(settings, port=port, address=address)} (listening on "
                      f"{address or server.dashboard_address}:{port or server.dashboard_port})", markup=False,
                      highlight=False)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(command[0], command, streamlit_env(settings, dict(os.environ)))
