#!/usr/bin/env python3
"""Demo accounts for `make demo`: an admin, a VA and a client user of client `acme`.

Each run gives every demo user a fresh random password (creating the user the first time,
resetting the password after), and prints one "email / password / role" line per user
plus a review link for the client. Only argon2 hashes are stored.

    .venv/bin/python scripts/demo_users.py [--client acme] [--base-url http://127.0.0.1:8501]
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass

import click
from sqlalchemy import select

from pipeline.access import auth
from pipeline.core.settings import load_settings
from pipeline.store.db import Database
from pipeline.core.errors import CastmillError
from pipeline.store.clients import get_client
from pipeline.store.models import User


@dataclass(frozen=True)
class DemoUser:
    email: str
    role: str
    display_name: str


def demo_users(client_slug: str) -> list[DemoUser]:
    return [
        DemoUser("admin@castmill.test", "admin", "Demo admin"),
        DemoUser("va@castmill.test", "va", "Demo VA"),
        DemoUser(f"client@{client_slug}.test", "client", f"Demo client ({client_slug})"),
    ]


def new_password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, ~96 bits


def ensure_user(session, user: DemoUser, client_slug: str, password: str) -> str:
    """Create the user, or reset its password (and re-enable it); returns "created" or "reset"."""
    existing = session.scalar(select(User).where(User.email == user.email))
    if existing is None:
        auth.add_user(session, user.email, password, user.role,
                      client_slug=client_slug if user.role == "client" else None,
                      display_name=user.display_name, actor="demo_users")
        return "created"
    auth.set_password(session, user.email, password, actor="demo_users")
    if existing.disabled:
        auth.set_disabled(session, user.email, False, actor="demo_users")
    return "reset"


@click.command()
@click.option("--client", "client_slug", default="acme", show_default=True, help="Client of the client user.")
@click.option("--base-url", help="Dashboard address for the review link (default: [server] public_url).")
def main(client_slug: str, base_url: str | None) -> None:
    """Create (or reset) the demo users and print their passwords."""
    settings = load_settings()
    db = Database(settings.database_url)
    lines = []
    try:
        with db.session() as session:
            get_client(session, client_slug)
            for user in demo_users(client_slug):
                password = new_password()
                ensure_user(session, user, client_slug, password)
                lines.append(f"{user.email} / {password} / {user.role}")
            token = auth.make_review_link_token(session, client_slug, home=settings.home, actor="demo_users")
    except CastmillError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        db.dispose()
    click.echo("Demo users (email / password / role):")
    for line in lines:
        click.echo(f"  {line}")
    link = auth.review_link_url(base_url or settings.server.public_url, token)
    click.echo(f"Review link for {client_slug} ({auth.REVIEW_LINK_HOURS} h): {link}")


if __name__ == "__main__":
    main()
