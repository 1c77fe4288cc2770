"""`castmill deploy`'s files: systemd units for the dashboard, the scheduler, queue workers and the daily
backup, the environment file they read, and a Caddy site that serves the dashboard over HTTPS.

They are rendered from ``templates/deploy/`` with the home's settings, written into a folder (files the
VA has changed there are kept unless forced), and the steps that install them are given as text.
"""

from __future__ import annotations

import ipaddress
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from pipeline.core.errors import ConfigError
from pipeline.core.settings import Settings
from pipeline.store.backup import default_folder

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "deploy"
DEFAULT_USER = "castmill"
DEFAULT_ENV_FILE = Path("/etc/castmill/castmill.env")
DEFAULT_FOLDER = "deploy"  # under the home
SERVICES = ("castmill-dashboard.service", "castmill-scheduler.service", "castmill-worker@.service")
BACKUP_UNITS = ("castmill-backup.service", "castmill-backup.timer")
ENV_FILE = "castmill.env"
CADDYFILE = "Caddyfile"
# Caddy's local CA as the Debian caddy service keeps it (user caddy, home /var/lib/caddy).
CADDY_LOCAL_ROOT = Path("/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt")

# Streamlit accepts [server] max_upload_mb MiB of file plus this much multipart framing.
UPLOAD_FRAMING_MIB = 1
PRIVATE_HOMES = (Path("/root"), Path("/home"))  # hidden from the services (ProtectHome) and from other users
SCHEDULER_STOP_SECONDS = 600  # the scheduler's default claim lease
WORKER_STOP_SECONDS = 1800  # when [queue] graceful_timeout is 0 ("wait until the jobs finish")

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# Written unquoted into unit files: no spaces, quotes, backslashes or systemd's % specifiers.
_PLAIN_PATH = re.compile(r"^/[A-Za-z0-9._/@+-]*$")
_LOCAL_SUFFIXES = (".local", ".localhost", ".lan", ".home", ".internal", ".home.arpa", ".test", ".invalid")


def default_castmill() -> Path:
    """The castmill command of the running Python's environment (the venv the units should use)."""
    return Path(sys.executable).parent / "castmill"


@dataclass(frozen=True)
class Site:
    """Where Caddy answers for the dashboard."""

    domain: str  # the host name clients open; with local_tls also an IPv4 address or localhost
    local_tls: bool = False  # Caddy's own CA (`tls internal`) instead of a public certificate
    https_port: int = 443  # on 80, Caddy redirects http:// to https://; only when this is 443
    bind: str = ""  # the address Caddy listens on; "": every interface
    admin: str = ""  # Caddy's admin endpoint; "": its default, localhost:2019, which `systemctl reload caddy` uses

    def __post_init__(self) -> None:
        object.__setattr__(self, "domain", check_domain(self.domain, local_tls=self.local_tls))

    @property
    def public_url(self) -> str:
        """The dashboard's address, which is also the Origin a browser sends from its pages."""
        return f"https://{self.domain}" + ("" if self.https_port == 443 else f":{self.https_port}")


@dataclass(frozen=True)
class Install:
    """Where Castmill lives on the server and who runs it."""

    home: Path
    castmill: Path = field(default_factory=default_castmill)  # the castmill command in the venv
    user: str = DEFAULT_USER
    env_file: Path = DEFAULT_ENV_FILE

    def __post_init__(self) -> None:
        for name in ("home", "castmill", "env_file"):
            object.__setattr__(self, name, check_path(getattr(self, name), name.replace("_", " ")))
        if not _USER.match(self.user):
            raise ConfigError(f"{self.user!r} is not a system user name (lower-case letters, digits, - and _)")


@dataclass(frozen=True)
class Written:
    folder: Path
    written: tuple[str, ...]  # new or replaced
    unchanged: tuple[str, ...]


def check_domain(domain: str, *, local_tls: bool = False) -> str:
    """``domain`` lower-cased, or a ConfigError in one line saying what is wrong with it."""
    name = domain.strip().lower().rstrip(".")
    if "://" in name or "/" in name:
        raise ConfigError(f"{domain!r} is an address; give the host name alone, like review.example.com")
    if ":" in name:
        raise ConfigError(f"{domain!r} has a port; give the host name alone, like review.example.com")
    if is_ip_address(name):
        if not local_tls:
            raise ConfigError(f"{domain!r} is an IP address, which gets no public certificate; "
                              "use a DNS name, or --local-tls for Caddy's own certificate")
        return name
    if len(name) > 253 or not all(_LABEL.match(label) for label in name.split(".")):
        raise ConfigError(f"{domain!r} is not a host name like review.example.com")
    if not local_tls and not is_public_name(name):
        raise ConfigError(f"{domain!r} cannot get a public certificate; use a public DNS name, "
                          "or --local-tls for Caddy's own certificate (a LAN or a test)")
    return name


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def is_public_name(name: str) -> bool:
    return "." in name and not name.endswith(_LOCAL_SUFFIXES) and not name[-1].isdigit()


def check_path(path: Path, what: str) -> Path:
    absolute = Path(path).expanduser().absolute()
    if not _PLAIN_PATH.match(str(absolute)):
        raise ConfigError(f"the {what} {str(absolute)!r} has spaces or characters a systemd unit would misread; "
                          "use a path of letters, digits, '.', '_', '-', '@', '+' and '/'")
    return absolute


def backup_folder(settings: Settings, install: Install) -> Path:
    """[backup] folder (relative: under the home), by default the home's backups folder."""
    if settings.backup.folder:
        return check_path(install.home / Path(settings.backup.folder).expanduser(), "backup folder")
    return default_folder(settings.model_copy(update={"home": install.home}))


def file_names(settings: Settings) -> tuple[str, ...]:
    """The files `castmill deploy` writes; the backup units only while [backup] daily_at is set."""
    backup = BACKUP_UNITS if settings.backup.daily_at else ()
    return (*SERVICES, *backup, ENV_FILE, CADDYFILE)


def unit_names(settings: Settings) -> tuple[str, ...]:
    return tuple(name for name in file_names(settings) if name not in (ENV_FILE, CADDYFILE))


def render_files(settings: Settings, site: Site, install: Install) -> dict[str, str]:
    """Each file's name and text."""
    env = _environment()
    context = _context(settings, site, install)
    return {name: env.get_template(f"{name}.j2").render(context) for name in file_names(settings)}


def write_files(files: dict[str, str], folder: Path, *, force: bool = False) -> Written:
    """Write ``files`` into ``folder``. Refuses, writing nothing, when one there differs and not ``force``."""
    existing = {name: (folder / name).read_text(encoding="utf-8") for name in files if (folder / name).is_file()}
    changed = [name for name, text in files.items() if existing.get(name, text) != text]
    if changed and not force:
        verb = "differs" if len(changed) == 1 else "differ"
        raise ConfigError(f"{', '.join(changed)} in {folder} {verb} from what castmill deploy writes "
                          "(changed by hand?); keep them, or run again with --force to replace them")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = folder / name
        if existing.get(name) != text:
            path.write_text(text, encoding="utf-8")
            written.append(name)
        path.chmod(0o600 if name == ENV_FILE else 0o644)  # the environment file is meant to receive secrets
    return Written(folder, tuple(written), tuple(name for name in files if name not in written))


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(loader=FileSystemLoader(str(TEMPLATES_DIR), encoding="utf-8"),
                                undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True,
                                keep_trailing_newline=True)


def _context(settings: Settings, site: Site, install: Install) -> dict:
    server = settings.server
    return {
        "castmill": str(install.castmill), "home": str(install.home), "user": install.user,
        "env_file": str(install.env_file), "read_write_paths": [str(p) for p in writable_paths(settings, install)],
        "public_url": site.public_url, "domain": site.domain, "local_tls": site.local_tls,
        "hsts": not site.local_tls, "https_port": site.https_port, "bind": site.bind,
        "admin": site.admin, "dashboard_port": server.dashboard_port, "max_upload_mb": server.max_upload_mb,
        "body_limit": f"{server.max_upload_mb + UPLOAD_FRAMING_MIB}MiB",
        "backup_folder": str(backup_folder(settings, install)), "backup_keep": settings.backup.keep,
        "daily_at": settings.backup.daily_at, "scheduler_stop_seconds": SCHEDULER_STOP_SECONDS,
        "worker_stop_seconds": worker_stop_seconds(settings),
    }


def writable_paths(settings: Settings, install: Install) -> list[Path]:
    """The home, the backup folder and a media folder outside the home, each once."""
    paths = [install.home, backup_folder(settings, install)]
    media = settings.storage.media_url
    if media and not media.startswith("s3://"):
        paths.append(check_path(Path(media), "media folder"))
    outside = [p for p in paths[1:] if not p.is_relative_to(install.home)]
    return [install.home, *dict.fromkeys(outside)]


def worker_stop_seconds(settings: Settings) -> int:
    grace = settings.queue.graceful_timeout
    return math.ceil(grace) + 60 if grace else WORKER_STOP_SECONDS


def uses_postgres(settings: Settings) -> bool:
    return settings.database_url.startswith("postgresql")


def next_steps(settings: Settings, site: Site, install: Install, written: Written) -> list[str]:
    """What to run, as root, to install the written files: one line each."""
    folder, user, home = written.folder, install.user, install.home
    castmill = f"{install.castmill} --home {home}"
    units = ["castmill-dashboard.service", "castmill-scheduler.service"]
    if settings.backup.daily_at:
        units.append("castmill-backup.timer")
    return [
        "Next steps, as root on this server:",
        "",
        *_venv_note(install),
        f"1. A system user for the services, owning the home (skip useradd if {user} exists):",
        f"     useradd --system --user-group --home-dir {home} --shell /usr/sbin/nologin {user}",
        f"     chown -R {user}:{user} {home}",
        *_backup_folder_step(settings, install),
        "2. The environment file (fill in what you need; it may then hold secrets):",
        f"     install -D -m 0640 -o root -g {user} {folder / ENV_FILE} {install.env_file}",
        "3. The services:",
        f"     cp {' '.join(str(folder / name) for name in unit_names(settings))} /etc/systemd/system/",
        "     systemctl daemon-reload",
        f"     systemctl enable --now {' '.join(units)}",
        *_worker_step(settings),
        "4. Caddy, the HTTPS front door:",
        f"     cp {folder / CADDYFILE} /etc/caddy/Caddyfile",
        "     systemctl reload caddy",
        *_tls_note(site),
        f"5. The public address, for review links and notices made from the shell: in {home / 'castmill.toml'}",
        "     [server]",
        f'     public_url = "{site.public_url}"',
        *_public_url_note(settings, site),
        "6. Check, as the service user:",
        f"     sudo -u {user} {castmill} doctor",
        f"   then open {site.public_url} and sign in.",
    ]


def _venv_note(install: Install) -> list[str]:
    if not any(install.castmill.is_relative_to(private) for private in PRIVATE_HOMES):
        return []
    return [f"0. {install.castmill} is in a private home folder, which the services cannot read: install Castmill",
            "   in a folder such as /opt/castmill and run castmill deploy from there.", ""]


def _backup_folder_step(settings: Settings, install: Install) -> list[str]:
    folder = backup_folder(settings, install)
    if not settings.backup.daily_at or folder.is_relative_to(install.home):
        return []
    return [f"     install -d -o {install.user} -g {install.user} {folder}"]


def _worker_step(settings: Settings) -> list[str]:
    if not uses_postgres(settings):
        return ["   (No workers: castmill-worker@.service needs PostgreSQL, CASTMILL_DATABASE_URL in castmill.env.)"]
    count = max(settings.server.workers, 1)
    instances = " ".join(f"castmill-worker@{n}.service" for n in range(1, count + 1))
    return [f"     systemctl enable --now {instances}"]


def _tls_note(site: Site) -> list[str]:
    if site.local_tls:
        return [f"   Caddy signs {site.domain}'s certificate with its own CA: install {CADDY_LOCAL_ROOT}",
                "   as a trusted root on every device that opens the dashboard."]
    return [f"   {site.domain} must point at this server (DNS A/AAAA record) and ports 80 and 443 be open;",
            "   Caddy then gets and renews the certificate itself."]


def _public_url_note(settings: Settings, site: Site) -> list[str]:
    if settings.server.public_url == site.public_url:
        return []
    return [f"   (now {settings.server.public_url}; the services already get {site.public_url} from castmill.env)"]
