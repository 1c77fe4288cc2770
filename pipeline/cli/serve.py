"""``castmill serve`` and ``castmill dashboard`` (being written)."""

import click


@click.command("serve")
def serve() -> None:
    """Run the dashboard, scheduler, workers and daily backup."""
    raise click.ClickException("not yet")


@click.command("dashboard")
def dashboard() -> None:
    """Run the dashboard."""
    raise click.ClickException("not yet")
