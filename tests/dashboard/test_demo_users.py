"""scripts/demo_users.py: idempotent demo accounts with fresh random passwords, nothing stored in plain text."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from pipeline.access import auth
from pipeline.store.clients import build_profile, upsert_client
from pipeline.store.models import User
from tests.helpers.scripts import load_script

LINE = re.compile(r"^  (\S+@\S+) / (\S+) / (admin|va|client)$", re.M)


@pytest.fixture
def demo_users(monkeypatch):
    return load_script("demo_users", monkeypatch)


def run(demo_users, *args):
    return CliRunner().invoke(demo_users.main, list(args))


def test_creates_three_users_then_resets_their_passwords(fresh_db, settings, demo_users):
    with fresh_db.session() as session:
        upsert_client(session, build_profile(slug="acme", name="Acme"))
    first = run(demo_users)
    assert first.exit_code == 0, first.output
    accounts = LINE.findall(first.output)
    assert [role for _, _, role in accounts] == ["admin", "va", "client"]
    assert "/?token=" in first.output

    second = run(demo_users)
    assert second.exit_code == 0, second.output
    again = LINE.findall(second.output)
    assert [email for email, _, _ in again] == [email for email, _, _ in accounts]
    with fresh_db.session() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 3
        for (email, old, role), (_, new, _) in zip(accounts, again):
            assert old != new
            identity = auth.login(session, email, new)
            assert identity.role == role and (identity.client_slug == "acme") == (role == "client")
        with pytest.raises(auth.AuthFailed):
            auth.login(session, accounts[0][0], accounts[0][1])
    database = (settings.home / "castmill.db").read_bytes()
    assert not any(password.encode() in database for _, password, _ in accounts + again)


def test_unknown_client_is_a_one_line_error(fresh_db, demo_users):
    result = run(demo_users, "--client", "nope")
    assert result.exit_code == 1
    assert "unknown client 'nope'" in result.output
