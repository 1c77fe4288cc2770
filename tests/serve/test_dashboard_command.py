"""The dashboard's one Streamlit command line: the public address it answers for, and where it listens."""

from __future__ import annotations

from pipeline.core.settings import load_settings
from pipeline.serve.dashboard import public_url_of, streamlit_command


def flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_without_a_public_url_the_dashboard_answers_for_the_address_it_listens_on(tmp_path):
    settings = load_settings(tmp_path)
    assert public_url_of(settings) == "http://127.0.0.1:8501"
    command = streamlit_command(settings, port=8600)
    assert (flag(command, "--server.port"), flag(command, "--browser.serverPort")) == ("8600", "8600")
    assert flag(command, "--server.corsAllowedOrigins") == "http://127.0.0.1:8600"
    assert public_url_of(settings, port=8600, address="0.0.0.0") == "http://127.0.0.1:8600"
    assert public_url_of(settings, port=8600, address="::1") == "http://[::1]:8600"


def test_a_public_url_behind_a_proxy_wins_over_the_listen_address(tmp_path, monkeypatch):
    monkeypatch.delenv("CASTMILL_PUBLIC_URL", raising=False)
    (tmp_path / "castmill.toml").write_text('[server]\npublic_url = "https://review.example.com/castmill"\n')
    settings = load_settings(tmp_path)
    command = streamlit_command(settings, port=8600)
    assert public_url_of(settings, port=8600) == "https://review.example.com/castmill"
    assert flag(command, "--server.port") == "8600" and flag(command, "--server.address") == "127.0.0.1"
    assert flag(command, "--browser.serverAddress") == "review.example.com"
    assert flag(command, "--browser.serverPort") == "443"
    assert flag(command, "--server.corsAllowedOrigins") == "https://review.example.com"
    assert flag(command, "--server.baseUrlPath") == "castmill"
