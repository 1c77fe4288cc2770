"""`castmill deploy`: the Caddy site passes Debian's real `caddy validate` and proxies to the dashboard's port
with the upload limit; every systemd unit parses, passes `systemd-analyze verify`, and runs a castmill
command that exists; the command writes its files, keeps hand-made changes, and explains bad domains."""

from __future__ import annotations

import configparser
import json
import shlex
import subprocess
from pathlib import Path

import pytest

from pipeline.core.errors import ConfigError
from pipeline.core.settings import load_settings
from pipeline.serve import deploy
from pipeline.serve.deploy import Install, Site
from tests.helpers.caddy import caddy
from tests.helpers.cli import castmill

SERVICES = ("castmill-dashboard.service", "castmill-scheduler.service", "castmill-worker@.service",
            "castmill-backup.service")
LONG_RUNNING = SERVICES[:3]
DASHBOARD_PORT = 8765
UPLOAD_MB = 300


@pytest.fixture
def server_settings(castmill_home):
    castmill_home.mkdir(parents=True, exist_ok=True)
    (castmill_home / "castmill.toml").write_text(
        f"[server]\ndashboard_port = {DASHBOARD_PORT}\nmax_upload_mb = {UPLOAD_MB}\n\n"
        "[backup]\nfolder = \"/var/backups/castmill\"\ndaily_at = \"04:15\"\nkeep = 9\n")
    return load_settings(castmill_home)


def render(settings, site: Site) -> dict[str, str]:
    return deploy.render_files(settings, site, Install(home=settings.home))


def adapted(caddyfile: str, folder: Path) -> dict:
    """The Caddyfile checked by `caddy validate`, then as Caddy's JSON config."""
    path = folder / "Caddyfile"
    path.write_text(caddyfile)
    validated = caddy("validate", "--adapter", "caddyfile", "--config", str(path), folder=folder)
    assert validated.returncode == 0, validated.stderr
    assert "not formatted" not in validated.stderr  # laid out as `caddy fmt` would
    result = caddy("adapt", "--adapter", "caddyfile", "--config", str(path), folder=folder)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def site_handlers(config: dict) -> list[dict]:
    """Every handler of the one site's routes, in order, with its route's matchers."""
    (server,) = config["apps"]["http"]["servers"].values()
    (route,) = server["routes"]
    handlers = []
    for subroute in route["handle"][0]["routes"]:
        handlers += [{**handler, "match": subroute.get("match", [])} for handler in subroute["handle"]]
    return handlers


def handler(handlers: list[dict], name: str) -> dict:
    (found,) = [h for h in handlers if h["handler"] == name]
    return found


def test_the_caddy_site_for_a_real_domain_proxies_to_the_dashboard_with_the_upload_limit(server_settings, tmp_path):
    config = adapted(render(server_settings, Site("review.example.com"))["Caddyfile"], tmp_path)

    (server,) = config["apps"]["http"]["servers"].values()
    assert server["listen"] == [":443"]
    assert server["routes"][0]["match"] == [{"host": ["review.example.com"]}]
    handlers = site_handlers(config)
    assert handler(handlers, "reverse_proxy")["upstreams"] == [{"dial": f"127.0.0.1:{DASHBOARD_PORT}"}]
    assert handler(handlers, "request_body")["max_size"] == (UPLOAD_MB + 1) * 1024**2
    headers = handler(handlers, "headers")["response"]
    assert headers["set"]["Strict-Transport-Security"] == ["max-age=31536000"]
    assert headers["set"]["X-Content-Type-Options"] == ["nosniff"]
    assert headers["delete"] == ["Server"]
    refusal = handler(handlers, "static_response")
    assert refusal["status_code"] == 403
    assert refusal["match"] == [{"path": ["/_stcore/stream"],
                                 "not": [{"header": {"Origin": ["https://review.example.com"]}}]}]
    # A public certificate: no internal issuer, and Caddy's admin endpoint left for `systemctl reload caddy`.
    assert "pki" not in config["apps"] and "admin" not in config


def test_the_local_tls_site_uses_caddys_own_ca_without_hsts(server_settings, tmp_path):
    site = Site("castmill.lan", local_tls=True, https_port=8443)
    config = adapted(render(server_settings, site)["Caddyfile"], tmp_path)

    assert config["apps"]["pki"]["certificate_authorities"]["local"]["install_trust"] is False
    (policy,) = config["apps"]["tls"]["automation"]["policies"]
    assert policy["subjects"] == ["castmill.lan"] and policy["issuers"] == [{"module": "internal"}]
    assert config["apps"]["http"]["https_port"] == 8443
    (server,) = config["apps"]["http"]["servers"].values()
    assert server["automatic_https"] == {"disable_redirects": True}
    handlers = site_handlers(config)
    assert "Strict-Transport-Security" not in handler(handlers, "headers")["response"]["set"]
    assert handler(handlers, "static_response")["match"][0]["not"] == [
        {"header": {"Origin": ["https://castmill.lan:8443"]}}]


def parse_unit(text: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=True, comment_prefixes=("#", ";"))
    unit.optionxform = str  # systemd's keys are case-sensitive
    unit.read_string(text)
    return unit


def test_every_unit_parses_and_runs_a_castmill_command_that_exists(server_settings):
    files = render(server_settings, Site("review.example.com"))
    home = str(server_settings.home)

    for name in SERVICES:
        unit = parse_unit(files[name])
        service = unit["Service"]
        assert (service["User"], service["EnvironmentFile"]) == ("castmill", "/etc/castmill/castmill.env")
        assert service["ReadWritePaths"].split() == [home, "/var/backups/castmill"]
        assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
        assert (name in LONG_RUNNING) == unit.has_section("Install")
        command = shlex.split(service["ExecStart"].replace("%H", "host").replace("%i", "1"))
        assert Path(command[0]) == deploy.default_castmill() and Path(command[0]).is_file()
        assert command[1:3] == ["--home", home]
        shown = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0, f"{name}: {' '.join(command[3:])}: {shown.stderr}"

    assert shlex.split(parse_unit(files["castmill-backup.service"])["Service"]["ExecStart"])[3:] == [
        "backup", "--to", "/var/backups/castmill", "--keep", "9"]
    assert "--port 8765" in files["castmill-dashboard.service"]
    timer = parse_unit(files["castmill-backup.timer"])["Timer"]
    assert (timer["OnCalendar"], timer["Persistent"]) == ("*-*-* 04:15:00", "true")


def test_systemd_analyze_verifies_the_units(server_settings, tmp_path):
    files = render(server_settings, Site("review.example.com"))
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    # A template unit is verified through one of its instances.
    units = [f"./{name}" for name in files if name.endswith((".service", ".timer")) and "@" not in name]
    result = subprocess.run(["/usr/bin/systemd-analyze", "verify", *units,
                             "castmill-worker@1.service"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


def test_the_environment_file_holds_placeholders_only(server_settings):
    text = render(server_settings, Site("review.example.com"))["castmill.env"]
    settings_lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert settings_lines == [f"CASTMILL_HOME={server_settings.home}", "CASTMILL_PUBLIC_URL=https://review.example.com"]
    assert "#CASTMILL_SECRET_KEY=" in text and "#CASTMILL_DATABASE_URL=" in text


def test_without_a_daily_backup_there_is_no_timer(server_settings, castmill_home):
    (castmill_home / "castmill.toml").write_text("[backup]\ndaily_at = \"\"\n")
    names = set(render(load_settings(castmill_home), Site("review.example.com")))
    assert not names & {"castmill-backup.service", "castmill-backup.timer"}


def test_with_postgresql_and_a_shared_media_folder(castmill_home):
    castmill_home.mkdir(parents=True)
    (castmill_home / "castmill.toml").write_text(
        '[storage]\ndatabase_url = "postgresql+psycopg://castmill@127.0.0.1/castmill"\n'
        'media_url = "/mnt/castmill-media"\n\n[server]\nworkers = 2\n')
    settings = load_settings(castmill_home)
    site, install = Site("review.example.com"), Install(home=settings.home)

    worker = parse_unit(deploy.render_files(settings, site, install)["castmill-worker@.service"])["Service"]
    assert worker["ReadWritePaths"].split() == [str(settings.home), "/mnt/castmill-media"]
    written = deploy.Written(castmill_home / "deploy", (), ())
    steps = deploy.next_steps(settings, site, install, written)
    assert "     systemctl enable --now castmill-worker@1.service castmill-worker@2.service" in steps
    # The database URL may hold a password: it stays in the home's castmill.toml.
    assert "castmill@127.0.0.1/castmill" not in deploy.render_files(settings, site, install)["castmill.env"]


def test_deploy_writes_the_files_and_prints_the_next_steps(server_settings, castmill_home):
    result = castmill("deploy", "--domain", "Review.Example.com")

    assert result.exit_code == 0, result.output
    folder = castmill_home / "deploy"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*SERVICES, "castmill-backup.timer", "castmill.env", "Caddyfile"])
    assert (folder / "castmill.env").stat().st_mode & 0o777 == 0o600
    assert "review.example.com {" in (folder / "Caddyfile").read_text()
    for step in ("systemctl daemon-reload",
                 "systemctl enable --now castmill-dashboard.service castmill-scheduler.service castmill-backup.timer",
                 f"cp {folder / 'Caddyfile'} /etc/caddy/Caddyfile", "systemctl reload caddy",
                 'public_url = "https://review.example.com"', "castmill-worker@.service needs PostgreSQL"):
        assert step in result.output


def test_deploy_keeps_a_changed_file_unless_forced(server_settings, castmill_home, tmp_path):
    folder = tmp_path / "out"
    assert castmill("deploy", "--domain", "review.example.com", "--to", str(folder)).exit_code == 0
    caddyfile = folder / "Caddyfile"
    caddyfile.write_text(caddyfile.read_text() + "# the VA's own line\n")
    unit = folder / "castmill-dashboard.service"
    unit.unlink()

    refused = castmill("deploy", "--domain", "review.example.com", "--to", str(folder))
    assert refused.exit_code == 1
    assert refused.stderr.strip().splitlines() == [
        f"error: Caddyfile in {folder} differs from what castmill deploy writes (changed by hand?); "
        "keep them, or run again with --force to replace them"]
    assert "the VA's own line" in caddyfile.read_text() and not unit.exists()  # nothing written

    forced = castmill("deploy", "--domain", "review.example.com", "--to", str(folder), "--force")
    assert forced.exit_code == 0
    assert "the VA's own line" not in caddyfile.read_text() and unit.exists()
    assert "wrote 2 file(s)" in forced.output and "(5 already up to date)" in forced.output


@pytest.mark.parametrize("domain, says", [
    ("https://review.example.com", "give the host name alone"),
    ("review.example.com:443", "has a port"),
    ("review example.com", "is not a host name"),
    ("-review.example.com", "is not a host name"),
    ("localhost", "--local-tls"),
    ("castmill.lan", "--local-tls"),
    ("192.168.1.20", "--local-tls"),
])
def test_a_bad_domain_is_one_line(server_settings, domain, says):
    result = castmill("deploy", "--domain", domain)
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and says in line


def test_local_names_and_addresses_are_fine_with_local_tls():
    assert Site("CastMill.LAN", local_tls=True).domain == "castmill.lan"
    assert Site("192.168.1.20", local_tls=True).public_url == "https://192.168.1.20"
    assert Site("localhost", local_tls=True, https_port=8443).public_url == "https://localhost:8443"


def test_paths_a_unit_would_misread_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="spaces or characters"):
        Install(home=tmp_path / "my castmill")
    with pytest.raises(ConfigError, match="system user name"):
        Install(home=tmp_path, user="Cast Mill")
