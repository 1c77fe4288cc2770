"""safe_fetch: user-supplied URLs reach only public addresses unless [network] allow admits them.

Every test here that expects a refusal removes the suite's allow-list (CASTMILL_NETWORK_ALLOW=127.0.0.1) and
guards ``socket.connect``: a refused address must be refused before anything is sent to it. The fake servers
all listen on 127.0.0.1, so "an allowed first hop, a refused later hop" is a redirect from the fake server
(allowed as 127.0.0.1) to an address the allow-list does not name: 169.254.169.254, 10.0.0.5, another loopback
address (127.0.0.2) or [::1]. Allow-list entries carry no port.
"""

from __future__ import annotations

import socket
import ssl
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from pydantic import ValidationError

from pipeline.core.errors import ConfigError, IngestError
from pipeline.core.settings import NetworkSettings, Settings, load_settings
from pipeline.media.download import download
from pipeline.media.safe_fetch import (MAX_REDIRECTS, RefusedURL, address_kind, allow_list, check_url, fetch,
                                       safe_session)
from tests.fakes.http_server import Route
from tests.helpers.cli import castmill

PUBLIC = "93.184.216.34"  # never connected to: every test refuses before, or resolves it to 127.0.0.1
HINT = 'allow it with [network] allow = ["{}"] in castmill.toml'


@pytest.fixture
def no_allow(monkeypatch) -> NetworkSettings:
    """No allow-list at all: what a fresh install has."""
    monkeypatch.delenv("CASTMILL_NETWORK_ALLOW", raising=False)
    return NetworkSettings()


@pytest.fixture
def connects(monkeypatch) -> list:
    """Every address a socket connects to; connecting anywhere but 127.0.0.1 fails the test."""
    seen: list = []
    real = socket.socket.connect

    def connect(sock, address):
        seen.append(address[0])
        assert address[0] == "127.0.0.1", f"tried to connect to {address}"
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


@pytest.fixture
def resolver(monkeypatch):
    """``names[host] = [addresses]`` (or a callable giving them) answers getaddrinfo for that host."""
    names: dict = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host not in names:
            return real(host, port, family, type, proto, flags)
        answer = names[host]
        addresses = answer() if callable(answer) else answer
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port or 80) if ":" not in a else (a, port or 80, 0, 0)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


def refusal(url: str, network: NetworkSettings, what: str = "feed URL") -> str:
    with safe_session(network) as session, pytest.raises(RefusedURL) as caught:
        fetch(session, url, what=what, timeout=5)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{url}: {what} ")
    return message


@pytest.mark.parametrize("url, said", [
    ("http://127.0.0.1:9/x.mp3", "points at a loopback address 127.0.0.1; " + HINT.format("127.0.0.1")),
    ("http://10.1.2.3/feed.xml", "points at a private address 10.1.2.3; " + HINT.format("10.1.2.3")),
    ("http://172.16.0.1/feed.xml", "points at a private address 172.16.0.1; " + HINT.format("172.16.0.1")),
    ("https://192.168.1.20/feed.xml", "points at a private address 192.168.1.20; " + HINT.format("192.168.1.20")),
    ("http://169.254.169.254/latest/meta-data/", "points at the cloud metadata address 169.254.169.254"),
    ("http://169.254.1.1/", "points at a link-local address 169.254.1.1; " + HINT.format("169.254.1.1")),
    ("http://[::1]:9/feed.xml", "points at a loopback address ::1; " + HINT.format("::1")),
    ("http://[fc00::1]/feed.xml", "points at a private address fc00::1; " + HINT.format("fc00::1")),
    ("http://[fe80::1]/feed.xml", "points at a link-local address fe80::1; " + HINT.format("fe80::1")),
    ("http://[::ffff:127.0.0.1]:9/", "points at a loopback address ::ffff:127.0.0.1; "
                                     + HINT.format("::ffff:127.0.0.1")),
    ("http://[::ffff:169.254.169.254]/", "points at the cloud metadata address ::ffff:169.254.169.254"),
    ("http://0.0.0.0:9/feed.xml", "points at an unspecified address 0.0.0.0; " + HINT.format("0.0.0.0")),
    ("http://224.0.0.1/feed.xml", "points at a multicast address 224.0.0.1; " + HINT.format("224.0.0.1")),
    ("file:///etc/passwd", "uses file://; only http and https URLs are fetched"),
    ("ftp://example.com/feed.xml", "uses ftp://; only http and https URLs are fetched"),
    ("gopher://127.0.0.1:70/_x", "uses gopher://; only http and https URLs are fetched"),
    ("http:///feed.xml", "has no host"),
])
def test_refused_before_anything_is_sent(url, said, no_allow, connects):
    assert refusal(url, no_allow) == f"{url}: feed URL {said}"
    with pytest.raises(RefusedURL, match="feed URL"):
        check_url(url, network=no_allow, what="feed URL")
    assert connects == []


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("10.0.0.1", "private"), ("172.31.255.255", "private"),
    ("192.168.0.1", "private"), ("100.64.0.1", "private"), ("169.254.169.254", "link-local"), ("0.0.0.0", "unspecified"),
    ("224.0.0.251", "multicast"), ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"),
    ("192.0.2.10", "non-public"), ("::1", "loopback"), ("::", "unspecified"), ("fc00::1", "private"),
    ("fd12:3456::1", "private"), ("fe80::1", "link-local"), ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"), ("::ffff:169.254.169.254", "link-local"),
    ("64:ff9b::7f00:1", "loopback"), ("2002:a00:1::", "private"),
    ("8.8.8.8", None), ("93.184.216.34", None), ("2606:4700:4700::1111", None), ("::ffff:8.8.8.8", None),
])
def test_address_kinds(address, kind):
    assert address_kind(address) == kind


def test_a_name_with_a_public_and_a_private_address_is_refused(no_allow, connects, resolver):
    resolver["mixed.example"] = [PUBLIC, "10.0.0.5"]
    message = refusal("http://mixed.example/feed.xml", no_allow)
    assert message == ("http://mixed.example/feed.xml: feed URL points at a private address 10.0.0.5 "
                       "(mixed.example resolves to it); " + HINT.format("10.0.0.5"))
    resolver["v6.example"] = [PUBLIC, "::1"]
    assert "loopback address ::1 (v6.example resolves to it)" in refusal("http://v6.example/", no_allow)
    assert connects == []


def test_dns_that_changes_after_the_check_is_caught_at_the_socket(no_allow, connects, resolver, http_server):
    """Rebinding: the check sees a public address, the connect gets 127.0.0.1; the peer check refuses it
    before a request is written."""
    http_server.routes["/feed.xml"] = Route(b"<rss/>", content_type="application/rss+xml")
    answers = iter([[PUBLIC]])
    resolver["rebind.example"] = lambda: next(answers, ["127.0.0.1"])
    port = http_server.base_url.rsplit(":", 1)[1]
    message = refusal(f"http://rebind.example:{port}/feed.xml", no_allow)
    assert "points at a loopback address 127.0.0.1 (rebind.example resolves to it)" in message
    assert connects == ["127.0.0.1"] and http_server.requests == []


@pytest.mark.parametrize("target, said", [
    ("http://169.254.169.254/latest/meta-data/", "which points at the cloud metadata address 169.254.169.254"),
    ("http://10.0.0.5/feed.xml", "which points at a private address 10.0.0.5; " + HINT.format("10.0.0.5")),
    ("http://127.0.0.2:{port}/feed.xml", "which points at a loopback address 127.0.0.2; " + HINT.format("127.0.0.2")),
    ("http://[::1]:{port}/feed.xml", "which points at a loopback address ::1; " + HINT.format("::1")),
    ("file:///etc/passwd", "which uses file://; only http and https URLs are fetched"),
])
def test_a_redirect_from_an_allowed_server_to_a_refused_address(target, said, http_server, connects, monkeypatch):
    monkeypatch.delenv("CASTMILL_NETWORK_ALLOW")
    allowed = NetworkSettings(allow=["127.0.0.1"])
    target = target.format(port=http_server.base_url.rsplit(":", 1)[1])
    http_server.routes["/start"] = Route(status=302, headers={"Location": "/next"})
    http_server.routes["/next"] = Route(status=301, headers={"Location": target})
    start = http_server.url("/start")
    assert refusal(start, allowed) == f"{start}: feed URL redirects to {target}, {said}"
    assert [path for path, _ in http_server.requests] == ["/start", "/next"]
    assert set(connects) == {"127.0.0.1"}
    # requests following the redirect itself (publishers, the notification webhook) goes through the same check.
    with safe_session(allowed) as session, pytest.raises(RefusedURL) as caught:
        session.get(start, timeout=5)
    assert str(caught.value).startswith(f"{target}: URL ")


def test_redirects_are_followed_and_capped(http_server, connects):
    http_server.routes["/old.xml"] = Route(status=301, headers={"Location": "/feed.xml"})
    http_server.routes["/feed.xml"] = Route(b"<rss/>", content_type="application/rss+xml")
    with safe_session(NetworkSettings()) as session:
        response = fetch(session, http_server.url("/old.xml"), timeout=5)
    assert response.status_code == 200 and response.content == b"<rss/>"
    http_server.routes["/loop"] = Route(status=302, headers={"Location": "/loop"})
    message = refusal(http_server.url("/loop"), NetworkSettings())
    assert message.endswith(f"feed URL redirects more than {MAX_REDIRECTS} times")


@pytest.mark.parametrize("entries", [["127.0.0.1"], ["127.0.0.0/8"], ["fake.test"], ["*.test"]])
def test_the_allow_list_admits(entries, http_server, resolver, monkeypatch, connects):
    monkeypatch.delenv("CASTMILL_NETWORK_ALLOW")
    http_server.routes["/feed.xml"] = Route(b"<rss/>", content_type="application/rss+xml")
    resolver["fake.test"] = ["127.0.0.1"]
    url = http_server.url("/feed.xml").replace("127.0.0.1", "fake.test")
    with safe_session(NetworkSettings(allow=entries)) as session:
        assert fetch(session, url, timeout=5).content == b"<rss/>"
    assert http_server.requests[-1][1]["Host"] == url.split("/")[2]


def test_https_keeps_the_host_name_for_sni_and_the_certificate(http_server, resolver, tmp_path, connects):
    """The checked connection still verifies the certificate against the URL's name (the cert names only
    fake.test, not 127.0.0.1)."""
    cert, key = _self_signed(tmp_path, "fake.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    http_server._server.socket = context.wrap_socket(http_server._server.socket, server_side=True)
    http_server.routes["/ok"] = Route(b"ok")
    resolver["fake.test"] = ["127.0.0.1"]
    url = http_server.url("/ok").replace("http://127.0.0.1", "https://fake.test")
    with safe_session(NetworkSettings()) as session:
        session.verify = str(cert)
        assert fetch(session, url, timeout=5).content == b"ok"
        with pytest.raises(requests.exceptions.SSLError):
            fetch(session, url.replace("fake.test", "127.0.0.1"), timeout=5)
    assert http_server.requests[0][1]["Host"] == url.split("/")[2]


def _self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_the_environment_adds_to_the_settings(http_server, monkeypatch):
    http_server.routes["/ok"] = Route(b"ok")
    monkeypatch.setenv("CASTMILL_NETWORK_ALLOW", "192.168.1.0/24, 127.0.0.1")
    with safe_session(NetworkSettings(allow=["nas.local"])) as session:
        assert fetch(session, http_server.url("/ok"), timeout=5).content == b"ok"
    assert allow_list(NetworkSettings(allow=["nas.local"])).names == ("nas.local",)
    monkeypatch.setenv("CASTMILL_NETWORK_ALLOW", "http://nas.local")
    with pytest.raises(ConfigError, match=r"^CASTMILL_NETWORK_ALLOW: 'http://nas.local' is a URL"):
        allow_list(NetworkSettings())


def test_network_settings_file_environment_and_validation(castmill_home, monkeypatch):
    castmill_home.mkdir(parents=True)
    (castmill_home / "castmill.toml").write_text('[network]\nallow = ["192.168.1.0/24", "NAS.local.", "[::1]"]\n')
    monkeypatch.delenv("CASTMILL_NETWORK_ALLOW")
    assert load_settings().network.allow == ["192.168.1.0/24", "nas.local", "::1"]
    monkeypatch.setenv("CASTMILL_NETWORK_ALLOW", "10.0.0.7, *.lan")
    assert load_settings().network.allow == ["10.0.0.7", "*.lan"]
    assert Settings(home=castmill_home).network.allow == []
    for bad, said in [("nas.local:8080", "has a port"), ("https://nas.local", "is a URL"),
                      ("10.0.0.0/33", "is not a network"), ("not a host", "is not an address, a network or a host")]:
        with pytest.raises(ValidationError, match=said):
            NetworkSettings(allow=[bad])
    (castmill_home / "castmill.toml").write_text('[network]\nallow = ["nas.local:8080"]\n')
    monkeypatch.delenv("CASTMILL_NETWORK_ALLOW")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == (f"{castmill_home.resolve() / 'castmill.toml'}: network.allow: 'nas.local:8080' "
                                 "has a port; entries are hosts without ports: 'nas.local'")


# --- every user-supplied fetch goes through it --------------------------------------------------------------

def test_an_enclosure_download_is_refused_in_one_line(tmp_path, no_allow, connects):
    url = "http://127.0.0.1:9/x.mp3"
    with pytest.raises(IngestError) as caught:
        download(url, tmp_path / "x.mp3", max_bytes=1000, network=no_allow, what="enclosure URL")
    assert str(caught.value) == f"{url}: enclosure URL points at a loopback address 127.0.0.1; " + HINT.format("127.0.0.1")
    assert not (tmp_path / "x.mp3").exists() and connects == []


def test_an_enclosure_that_redirects_to_a_private_address(tmp_path, http_server, monkeypatch, connects):
    monkeypatch.delenv("CASTMILL_NETWORK_ALLOW")
    http_server.routes["/ep.mp3"] = Route(status=302, headers={"Location": "http://10.0.0.5/ep.mp3"})
    url = http_server.url("/ep.mp3")
    with pytest.raises(IngestError) as caught:
        download(url, tmp_path / "x.mp3", max_bytes=1000, network=NetworkSettings(allow=["127.0.0.1"]),
                 what="enclosure URL")
    assert str(caught.value) == (f"{url}: enclosure URL redirects to http://10.0.0.5/ep.mp3, which points at a "
                                 "private address 10.0.0.5; " + HINT.format("10.0.0.5"))


def test_trusted_downloads_are_not_checked(tmp_path, http_server, no_allow):
    """The model hub is Castmill's own configuration (a LAN mirror is fine), not a user-supplied URL."""
    http_server.routes["/model.bin"] = Route(b"weights")
    got = download(http_server.url("/model.bin"), tmp_path / "model.bin", max_bytes=1000, trusted=True)
    assert got.path.read_bytes() == b"weights"


def test_a_feed_on_a_private_address_is_refused(castmill_home, no_allow, connects):
    from pipeline.ingest.sources import resolve_inputs

    sources, failures = resolve_inputs(["http://192.168.1.20/feed.xml"], load_settings())
    assert sources == [] and [f.error for f in failures] == [
        "http://192.168.1.20/feed.xml: feed URL points at a private address 192.168.1.20; " + HINT.format("192.168.1.20")]


def test_feed_artwork_on_a_private_address_falls_back_with_a_note(tmp_path, no_allow, connects):
    from pipeline.clips.cover import resolve_cover

    episode = SimpleNamespace(feed_meta={"image": "http://169.254.169.254/art.jpg"},
                              client=SimpleNamespace(clip_settings={}))
    cover = resolve_cover(Settings(home=tmp_path), episode)
    assert cover.origin == "title card"
    assert cover.note == ("feed artwork not used (feed artwork URL points at the cloud metadata address "
                          "169.254.169.254)")


def test_a_webhook_account_on_a_private_address_fails_without_showing_its_secret(castmill_home, no_allow, connects):
    from pipeline.publish.publishers import Account, Post, PublishError, get_publisher

    hook = get_publisher(Account(platform="webhook", base_url="http://10.0.0.5/hooks/catch/123/s3cret/"))
    with pytest.raises(PublishError) as caught:
        hook.publish(Post(parts=("hello",), idempotency_key="k1"))
    assert str(caught.value) == ("http://10.0.0.5: webhook URL points at a private address 10.0.0.5; "
                                 + HINT.format("10.0.0.5"))
    assert not caught.value.retryable and "s3cret" not in str(caught.value)


def test_the_notification_webhook_is_checked_too(no_allow, connects):
    from pipeline.publish.notify import NotifyError, NotifySettings, Notifier

    notifier = Notifier.from_settings(NotifySettings(webhook_url="http://[::1]:9/services/T0/B0/s3cret"),
                                      network=no_allow)
    with pytest.raises(NotifyError) as caught:
        notifier.channels[0].send([])
    assert str(caught.value) == ("http://[::1]:9: notification webhook URL points at a loopback address ::1; "
                                 + HINT.format("::1"))


def test_requests_errors_are_still_requests_errors(http_server):
    """A refusal is not a connection failure: a closed port keeps its own error (and retry) path."""
    with safe_session(NetworkSettings()) as session, pytest.raises(requests.ConnectionError):
        fetch(session, "http://127.0.0.1:9/", timeout=5)


# --- the CLI ---------------------------------------------------------------------------------------------

@pytest.fixture
def acme(castmill_home):
    assert castmill("init").exit_code == 0
    assert castmill("client", "add", "acme", "--name", "Acme Podcast").exit_code == 0
    return "acme"


def test_process_refuses_a_loopback_url_in_one_line(acme, no_allow, connects):
    url = "http://127.0.0.1:9/x.mp3"
    result = castmill("process", "--client", acme, url)
    assert result.exit_code == 1
    reason = "feed URL points at a loopback address 127.0.0.1; " + HINT.format("127.0.0.1")
    said = [line for line in (result.stdout + result.stderr).splitlines() if reason in line]
    assert said == [f"error: {url}: {reason}"]
    assert "Traceback" not in result.output and connects == []
