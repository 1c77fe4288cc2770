"""Fetching user-supplied URLs without request forgery: feeds, enclosures, feed artwork, webhooks.

A URL typed by a VA, found in a feed or set on an account may point at this machine, the office LAN or the
cloud metadata service (169.254.169.254). Every fetch of such a URL goes through a ``safe_session``:

- only ``http`` and ``https`` URLs are fetched, never through a proxy or with a .netrc from the environment
  (a proxy would connect on our behalf, unchecked);
- each new connection resolves its host and is refused when any address it resolves to is not public
  (``address_kind``: unspecified, loopback, link-local, multicast, private, reserved, other non-public
  ranges, and IPv6 forms that carry such an IPv4 address: ``::ffff:a.b.c.d``, NAT64, 6to4), so a name with
  one public and one private address is refused;
- once connected, the address the socket is really connected to (``getpeername``) is checked the same way,
  so a DNS answer that changes between the check and the connect (rebinding) is refused too;
- every redirect is a new request through the same checks; ``fetch`` follows redirects itself (at most
  ``MAX_REDIRECTS``) and its refusal names both the URL asked for and the hop that was refused.

``[network] allow`` (plus ``CASTMILL_NETWORK_ALLOW``) lists what may be private anyway, a VA's own LAN:
addresses, networks and host names, never ports. A refused fetch raises ``RefusedURL``, one line, e.g.
``https://example.com/feed.xml: feed URL points at a private address 10.0.0.5; allow it with
[network] allow = ["10.0.0.5"] in castmill.toml``. Callers turn it into their own error class.

URLs from Castmill's own configuration (the model hub, the LLM endpoint, the S3 endpoint) are not
user-supplied and do not come through here.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError

from pipeline.core.errors import CastmillError, ConfigError
from pipeline.core.settings import NETWORK_ALLOW_ENV, NetworkSettings, allow_entry, env_list, load_settings

SCHEMES = ("http", "https")
MAX_REDIRECTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
METADATA_ADDRESS = ipaddress.ip_address("169.254.169.254")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 1918, shared address space (RFC 6598, carrier-grade NAT), unique-local and the old site-local IPv6.
_PRIVATE = tuple(ipaddress.ip_network(net) for net in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7", "fec0::/10"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedURL(CastmillError):
    """A URL, or a hop it redirects to, that Castmill will not fetch. ``str()`` is one line naming the URL
    asked for, ``what`` it is, the problem and, for a non-public address, how to allow it."""

    def __init__(self, url: str, problem: str, *, hint: str = "", what: str = "URL", hop: str | None = None,
                 redact: bool = False):
        self.url, self.problem, self.hint, self.what, self.hop = url, problem, hint, what, hop
        shown_hop = _origin(hop) if hop and redact else hop
        said = f"{what} redirects to {shown_hop}, which {problem}" if hop else f"{what} {problem}"
        super().__init__(f"{said}; {hint}" if hint else said, source=_origin(url) if redact else url)

    def seen_from(self, url: str, what: str = "URL", *, redact: bool = False) -> "RefusedURL":
        """The same refusal told about ``url``, the URL that was asked for (this one, or one that redirected
        here). ``redact`` shows only scheme, host and port: for webhook URLs, whose paths are secrets."""
        hop = self.hop or (self.url if self.url != url else None)
        return RefusedURL(url, self.problem, hint=self.hint, what=what, hop=hop, redact=redact)


class RefusedAddress(Exception):
    """Raised inside a connection (deliberately not an OSError, which urllib3 would retry and wrap);
    ``SafeAdapter`` turns it into a ``RefusedURL`` naming the request's URL."""

    def __init__(self, host: str, address: str, kind: str):
        super().__init__(f"{host}: {kind} address {address}")
        self.host, self.address, self.kind = host, address, kind

    def refusal(self, url: str) -> RefusedURL:
        ip = _ip(self.address)
        if ip is not None and METADATA_ADDRESS in (ip, _embedded_ipv4(ip)):
            problem, hint = f"points at the cloud metadata address {self.address}", ""
        else:
            article = "an" if self.kind[0] in "aeiou" else "a"
            problem = f"points at {article} {self.kind} address {self.address}"
            hint = f'allow it with [network] allow = ["{self.address}"] in castmill.toml'
        if _ip(self.host) is None:  # a name: say which one led there
            problem += f" ({self.host} resolves to it)"
        return RefusedURL(url, problem, hint=hint)


# --- which addresses ---------------------------------------------------------------------------------------

def _ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip("[]").split("%")[0])  # "%eth0": an IPv6 scope
    except ValueError:
        return None


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4; else None."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _kind(ip: IPAddress) -> str | None:
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if any(ip in net for net in _PRIVATE):
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:  # documentation, benchmarking and protocol ranges, "this network" 0/8 …
        return "non-public"
    return None


def address_kind(address: str | IPAddress) -> str | None:
    """Why ``address`` may not be fetched from by default: "loopback", "private", "link-local",
    "unspecified", "multicast", "reserved" or "non-public"; None for a public address.

    An IPv6 address that carries an IPv4 one (``::ffff:127.0.0.1``, NAT64, 6to4) is judged by both."""
    ip = address if isinstance(address, (ipaddress.IPv4Address, ipaddress.IPv6Address)) else _ip(str(address))
    if ip is None:
        raise ValueError(f"{address!r} is not an IP address")
    inner = _embedded_ipv4(ip)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return _kind(inner)
    return (_kind(inner) if inner is not None else None) or _kind(ip)


@dataclass(frozen=True)
class AllowList:
    """What may be fetched from although it is not public: networks (an address is a /32 or /128) and host
    names ("*.lan": every name under lan). A host name admitted here may resolve to anything."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    names: tuple[str, ...] = ()

    @classmethod
    def of(cls, entries) -> "AllowList":
        """From canonical entries (``settings.allow_entry``)."""
        networks, names = [], []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                names.append(entry.lower().rstrip("."))
        return cls(tuple(dict.fromkeys(networks)), tuple(dict.fromkeys(names)))

    def admits_name(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == name or (name.startswith("*.") and host.endswith(name[1:])) for name in self.names)

    def admits_address(self, ip: IPAddress) -> bool:
        forms = [ip] + ([inner] if (inner := _embedded_ipv4(ip)) is not None else [])
        return any(form in net for form in forms for net in self.networks)

    def check(self, host: str, addresses) -> None:
        """Raise ``RefusedAddress`` for the first of ``addresses`` (what ``host`` resolved to, or the peer of a
        connection to it) that is neither public nor admitted."""
        if self.admits_name(host):
            return
        for address in addresses:
            ip = _ip(address)
            if ip is None:
                raise RefusedAddress(host, address, "unreadable")
            kind = address_kind(ip)
            if kind and not self.admits_address(ip):
                raise RefusedAddress(host, address, kind)


def allow_list(network: NetworkSettings | None = None) -> AllowList:
    """``network.allow`` plus the entries of ``CASTMILL_NETWORK_ALLOW``. Without ``network``, the
    ``[network]`` table of ``load_settings()`` (none when the settings cannot be read: fewer allowed, never
    more), so code that builds its ``Settings`` itself still honours the environment."""
    if network is None:
        try:
            network = load_settings().network
        except ConfigError:
            network = NetworkSettings()
    entries = list(network.allow)
    for text in env_list(os.environ.get(NETWORK_ALLOW_ENV, "")):
        try:
            entries.append(allow_entry(text))
        except ValueError as exc:
            raise ConfigError(f"{NETWORK_ALLOW_ENV}: {exc}") from None
    return AllowList.of(entries)


# --- the connection, the adapter, the session ------------------------------------------------------------

class _CheckedConnection:
    """Mixed into urllib3's connections: check what the host resolves to before connecting, then the peer."""

    allowed: AllowList  # set on the per-adapter subclasses

    def _new_conn(self):
        host = self.host.strip("[]")
        try:
            infos = socket.getaddrinfo(host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        self.allowed.check(host, [info[4][0] for info in infos])
        sock = super()._new_conn()
        try:
            self.allowed.check(host, [sock.getpeername()[0]])
        except BaseException:
            sock.close()
            raise
        return sock


class CheckedHTTPConnection(_CheckedConnection, HTTPConnection):
    pass


class CheckedHTTPSConnection(_CheckedConnection, HTTPSConnection):
    pass


class SafeAdapter(HTTPAdapter):
    """requests' adapter whose connections are checked against ``allowed``; never through a proxy."""

    def __init__(self, allowed: AllowList, **kwargs):
        self.allowed = allowed  # before super().__init__, which builds the pool manager
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        bound = {"allowed": self.allowed}
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("CheckedHTTPConnectionPool", (HTTPConnectionPool,),
                         {"ConnectionCls": type("CheckedHTTPConnection", (CheckedHTTPConnection,), bound)}),
            "https": type("CheckedHTTPSConnectionPool", (HTTPSConnectionPool,),
                          {"ConnectionCls": type("CheckedHTTPSConnection", (CheckedHTTPSConnection,), bound)}),
        }

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        try:
            return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=None)
        except RefusedAddress as exc:
            raise exc.refusal(request.url) from None


class SafeSession(requests.Session):
    """A ``requests.Session`` for user-supplied URLs: http(s) only, every connection checked, at most
    ``MAX_REDIRECTS`` redirects when requests follows them itself."""

    def __init__(self, allowed: AllowList):
        super().__init__()
        self.allowed = allowed
        self.trust_env = False  # no proxy and no .netrc from the environment …
        self.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True  # … CA bundles still
        self.max_redirects = MAX_REDIRECTS
        adapter = SafeAdapter(allowed)
        self.adapters.clear()
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def get_adapter(self, url):
        if problem := url_problem(url):
            raise RefusedURL(url, problem)
        return super().get_adapter(url)


def safe_session(network: NetworkSettings | None = None) -> SafeSession:
    """The session every fetch of a user-supplied URL goes through; ``network`` is the settings' ``[network]``
    table (default: ``load_settings()``'s), with ``CASTMILL_NETWORK_ALLOW`` added (``allow_list``)."""
    return SafeSession(allow_list(network))


# --- URLs and redirects ------------------------------------------------------------------------------------

def url_problem(url: str) -> str | None:
    """What makes ``url`` unfetchable before any look-up (its scheme, no host), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return "is not a valid URL"
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        return f"uses {scheme}://; only http and https URLs are fetched" if scheme else "is not an http or https URL"
    if not parts.hostname:
        return "has no host"
    return None


def check_url(url: str, *, network: NetworkSettings | None = None, what: str = "URL") -> None:
    """Refuse ``url`` (``RefusedURL``) as a fetch would, without connecting: its scheme and every address its
    host resolves to. Nothing is sent; a host that does not resolve passes (the fetch will say so)."""
    if problem := url_problem(url):
        raise RefusedURL(url, problem, what=what)
    parts = urlsplit(url)
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme.lower() == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except socket.gaierror:
        return
    try:
        allow_list(network).check(host, [info[4][0] for info in infos])
    except RefusedAddress as exc:
        raise exc.refusal(url).seen_from(url, what) from None


def fetch(session: requests.Session, url: str, *, what: str = "URL", method: str = "GET",
          max_redirects: int = MAX_REDIRECTS, **kwargs) -> requests.Response:
    """``session.request`` with redirects followed here, each hop checked by ``session`` (a ``safe_session``).

    Raises ``RefusedURL`` told about ``url`` (naming the refused hop, if it was one) for a refused address or
    scheme or more than ``max_redirects`` redirects; requests' own errors (timeouts, connection) pass through.
    Credentials are not carried to another host; a 303, and a 301/302 after a POST, continue as a GET."""
    current = url
    headers = dict(kwargs.pop("headers", None) or {})
    for _ in range(max_redirects + 1):
        try:
            if problem := url_problem(current):
                raise RefusedURL(current, problem)
            response = session.request(method, current, headers=headers, allow_redirects=False, **kwargs)
        except RefusedURL as exc:
            raise exc.seen_from(url, what) from None
        location = response.headers.get("Location")
        if response.status_code not in REDIRECT_STATUSES or not location:
            return response
        response.close()
        target = urljoin(current, location)
        if urlsplit(target).netloc.lower() != urlsplit(current).netloc.lower():
            headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
        if response.status_code == 303 and method != "HEAD" or response.status_code in (301, 302) and method == "POST":
            method = "GET"
            for body in ("data", "json", "files"):
                kwargs.pop(body, None)
        current = target
    raise RefusedURL(url, f"redirects more than {max_redirects} times", what=what)


def _origin(url: str) -> str:
    """scheme://host[:port] of ``url``, without credentials, path or query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else url
