"""``castmill deploy`` (being written)."""

import click


@click.command("deploy")
def deploy() -> None:
    """Write systemd units and a Caddy site."""
    raise click.ClickException("not yet")
