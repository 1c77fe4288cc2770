"""``castmill deploy``: systemd units and a Caddy site for running Castmill for clients on a server."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.support import friendly_errors, settings_of


@click.command("deploy")
@click.option("--domain", required=True, help="The name clients open, e.g. review.example.com (its DNS record "
                                              "points at this server).")
@click.option("--local-tls", is_flag=True, help="Caddy's own certificate authority instead of a public certificate: "
                                                "for a LAN name or address, or a test.")
@click.option("--user", default="castmill", show_default=True, help="The system user the services run as.")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), default="/etc/castmill/castmill.env",
              show_default=True, help="Where the services read their environment.")
@click.option("--to", "dest", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the files (default: <home>/deploy).")
@click.option("--force", is_flag=True, help="Replace files there that differ from what would be written.")
@click.pass_context
@friendly_errors
def deploy(ctx, domain, local_tls, user, env_file, dest, force) -> None:
    """Write systemd units (dashboard, scheduler, workers, daily backup), their environment file and a Caddy
    site that serves the dashboard over HTTPS, then print the commands that install them.

    The units run this environment's castmill as USER with the home given by --home (or CASTMILL_HOME).
    Nothing is installed or started: the files go into a folder for you to check and copy.

    Examples:

        castmill --home /srv/castmill deploy --domain review.example.com

        castmill deploy --domain castmill.lan --local-tls
    """
    from pipeline.serve.deploy import DEFAULT_FOLDER, Install, Site, next_steps, render_files, write_files

    settings = settings_of(ctx)
    site = Site(domain, local_tls=local_tls)
    install = Install(home=settings.home, user=user, env_file=env_file)
    written = write_files(render_files(settings, site, install), dest or settings.home / DEFAULT_FOLDER, force=force)
    click.echo(f"wrote {len(written.written)} file(s) to {written.folder}"
               + (f" ({len(written.unchanged)} already up to date)" if written.unchanged else ""))
    for name in written.written:
        click.echo(f"  {name}")
    click.echo("")
    for line in next_steps(settings, site, install, written):
        click.echo(line)
