"""RSS and Atom feeds served by the local fake server, resolved into sources."""

from __future__ import annotations

import socket
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from pipeline.ingest.feeds import parse_feed
from pipeline.ingest.sources import fetch_source, resolve_inputs
from tests.fakes.http_server import Route

RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"

# Deliberately out of order in the document: the newest must come first anyway.
EPISODES = [
    ("Episode 2: Pricing", datetime(2024, 3, 8, 9, 30, tzinfo=timezone.utc)),
    ("Episode 4: Hiring", datetime(2024, 5, 2, 6, 0, tzinfo=timezone.utc)),
    ("Episode 1: Hello", datetime(2024, 1, 15, 12, 0, tzinfo=timezone.utc)),
    ("Episode 3: Churn", datetime(2024, 4, 1, 23, 59, 59, tzinfo=timezone.utc)),
]
NEWEST_FIRST = sorted(EPISODES, key=lambda e: e[1], reverse=True)


def dead_url(path: str = "/feed.xml") -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def slug(title: str) -> str:
    return title.split(":")[0].lower().replace(" ", "-")


def rss(server, episodes=EPISODES, enclosure_type: str | None = "audio/mpeg") -> bytes:
    items = []
    for title, when in episodes:
        type_attr = f' type="{enclosure_type}"' if enclosure_type is not None else ""
        items.append(
            f"<item><title>{title}</title><pubDate>{format_datetime(when)}</pubDate>"
            f'<enclosure url="{server.url(f"/media/{slug(title)}.mp3")}" length="1234"{type_attr}/></item>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Show</title>'
        f"<link>{server.base_url}</link>{''.join(items)}</channel></rss>"
    ).encode()


def atom(server, episodes=EPISODES) -> bytes:
    entries = "".join(
        f"<entry><title>{title}</title><id>urn:{slug(title)}</id><updated>{when.isoformat()}</updated>"
        f"<published>{when.isoformat()}</published>"
        f'<link rel="enclosure" type="video/mp4" length="99" href="{server.url(f"/media/{slug(title)}.mp4")}"/>'
        "</entry>"
        for title, when in episodes
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Show</title><id>urn:show</id><updated>2024-06-01T00:00:00Z</updated>{entries}</feed>"
    ).encode()


@pytest.mark.parametrize(
    "build, content_type, ext, media_type, length",
    [(rss, RSS_TYPE, ".mp3", "audio/mpeg", 1234), (atom, ATOM_TYPE, ".mp4", "video/mp4", 99)],
)
def test_latest_n_newest_first(http_server, settings, build, content_type, ext, media_type, length):
    http_server.routes["/feed.xml"] = Route(build(http_server), content_type=content_type)
    feed_url = http_server.url("/feed.xml")
    sources, failures = resolve_inputs([feed_url], settings, latest=2)
    assert failures == []
    assert [s.feed_item.title for s in sources] == [t for t, _ in NEWEST_FIRST[:2]]
    assert [s.title for s in sources] == [t for t, _ in NEWEST_FIRST[:2]]
    assert [s.feed_item.published for s in sources] == [w for _, w in NEWEST_FIRST[:2]]
    assert [s.uri for s in sources] == [http_server.url(f"/media/{slug(t)}{ext}") for t, _ in NEWEST_FIRST[:2]]
    for source in sources:
        assert source.local_path is None
        assert source.feed_item.url == source.uri
        assert source.feed_item.feed_url == feed_url
        assert source.feed_item.media_type == media_type
        assert source.feed_item.length == length
    assert [path for path, _ in http_server.requests] == ["/feed.xml"]  # no enclosure fetched yet


@pytest.mark.parametrize("latest, expected", [(None, 4), (1, 1), (3, 3), (10, 4)])
def test_latest_defaults_to_settings_and_caps_at_feed_size(http_server, settings, latest, expected):
    settings.ingest.feed_latest = 4
    http_server.routes["/feed.xml"] = Route(rss(http_server), content_type=RSS_TYPE)
    sources, failures = resolve_inputs([http_server.url("/feed.xml")], settings, latest=latest)
    assert failures == []
    assert [s.feed_item.title for s in sources] == [t for t, _ in NEWEST_FIRST[:expected]]


def test_undated_episodes_sort_last(http_server, settings):
    body = rss(http_server, EPISODES[:2]).replace(b"</channel>", (
        f'<item><title>Bonus</title><enclosure url="{http_server.url("/media/bonus.mp3")}" type="audio/mpeg"/></item>'
        "</channel>"
    ).encode())
    http_server.routes["/feed.xml"] = Route(body, content_type=RSS_TYPE)
    sources, _ = resolve_inputs([http_server.url("/feed.xml")], settings, latest=5)
    assert [s.feed_item.title for s in sources] == ["Episode 4: Hiring", "Episode 2: Pricing", "Bonus"]
    assert sources[-1].feed_item.published is None


def test_missing_enclosure_type_still_works(http_server, settings):
    http_server.routes["/feed.xml"] = Route(rss(http_server, EPISODES[:1], enclosure_type=None), content_type=RSS_TYPE)
    http_server.routes["/media/episode-2.mp3"] = Route(b"ID3 fake mp3 bytes", content_type="audio/mpeg")
    sources, failures = resolve_inputs([http_server.url("/feed.xml")], settings, latest=2)
    assert failures == []
    assert [s.uri for s in sources] == [http_server.url("/media/episode-2.mp3")]
    assert sources[0].feed_item.media_type == ""
    path = fetch_source(sources[0], settings, "acme")
    assert path.read_bytes() == b"ID3 fake mp3 bytes"


def test_non_media_enclosures_are_skipped(http_server, settings):
    body = rss(http_server, EPISODES[:2]).replace(b'type="audio/mpeg"', b'type="image/jpeg"', 1)
    http_server.routes["/feed.xml"] = Route(body, content_type=RSS_TYPE)
    sources, _ = resolve_inputs([http_server.url("/feed.xml")], settings, latest=5)
    assert [s.feed_item.title for s in sources] == ["Episode 4: Hiring"]


NO_ENCLOSURES = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>
<item><title>Post one</title><link>http://127.0.0.1/one</link></item>
<item><title>Post two</title><enclosure url="http://127.0.0.1/cover.jpg" type="image/jpeg"/></item>
</channel></rss>"""
EMPTY_CHANNEL = b'<?xml version="1.0"?><rss version="2.0"><channel><title>New show</title></channel></rss>'
HTML_PAGE = b"""<!DOCTYPE html><html><head><title>My Podcast</title></head>
<body><h1>Listen</h1><a href="/ep1.mp3">Episode 1</a></body></html>"""


@pytest.mark.parametrize(
    "route, expected",
    [
        (None, "feed returned HTTP 404"),
        (Route(b"boom", status=500, content_type="text/plain"), "feed returned HTTP 500"),
        (Route(NO_ENCLOSURES, content_type=RSS_TYPE), "feed has no audio or video enclosures"),
        (Route(EMPTY_CHANNEL, content_type=RSS_TYPE), "feed has no episodes"),
        (Route(HTML_PAGE, content_type="text/html"), "not an RSS or Atom feed"),
        (Route(b"<html><body>plain</body></html>", content_type="text/html"), "not an RSS or Atom feed"),
        (Route(b"\x00\x01 binary junk", content_type=RSS_TYPE), "not an RSS or Atom feed"),
        (Route(b"", content_type=RSS_TYPE), "not an RSS or Atom feed"),
    ],
    ids=["404", "500", "no-enclosures", "empty-channel", "html-page", "html-no-title", "binary", "empty-body"],
)
def test_feed_failures_name_the_url(http_server, settings, route, expected):
    if route is not None:
        http_server.routes["/feed.xml"] = route
    url = http_server.url("/feed.xml")
    sources, failures = resolve_inputs([url], settings, latest=2)
    assert sources == []
    assert len(failures) == 1
    assert failures[0].uri == url
    assert failures[0].error == f"{url}: {expected}"


def test_unreachable_feed(settings):
    url = dead_url()
    sources, failures = resolve_inputs([url], settings)
    assert sources == []
    assert [f.uri for f in failures] == [url]
    assert failures[0].error.startswith(f"{url}: cannot fetch feed: ")
    assert "ConnectionError" in failures[0].error
    assert "\n" not in failures[0].error


def test_good_and_bad_inputs_together(http_server, settings, tmp_path):
    http_server.routes["/good.xml"] = Route(rss(http_server), content_type=RSS_TYPE)
    local = tmp_path / "local.mp3"
    local.write_bytes(b"x")
    inputs = [http_server.url("/missing.xml"), http_server.url("/good.xml"), str(local), http_server.url("/good.xml")]
    sources, failures = resolve_inputs(inputs, settings, latest=2)
    assert [f.uri for f in failures] == [http_server.url("/missing.xml")]
    assert [s.uri for s in sources] == [
        http_server.url("/media/episode-4.mp3"), http_server.url("/media/episode-3.mp3"), str(local.resolve())
    ]  # the repeated feed adds nothing


def test_parse_feed_direct_rss_link_type_variants():
    body = b"""<rss version="2.0"><channel><title>x</title>
    <item><title>A</title><pubDate>Mon, 01 Jan 2024 00:00:00 +0700</pubDate>
    <enclosure url="http://127.0.0.1/a.m4a" type="Audio/X-M4A" length="oops"/></item></channel></rss>"""
    [item] = parse_feed("http://127.0.0.1/f", body)
    assert item.media_type == "audio/x-m4a"
    assert item.length == 0
    assert item.published == datetime(2023, 12, 31, 17, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "body",
    [
        # unescaped ampersand: not well-formed XML, but feedparser's loose parser copes
        b'<rss version="2.0"><channel><title>Tom & Jerry</title><item><title>A & B</title>'
        b'<enclosure url="http://127.0.0.1/a.mp3" type="audio/mpeg"/></item></channel></rss>',
        # RSS 0.91 without an XML declaration
        b'<rss version="0.91"><channel><title>Old</title><item><title>A & B</title>'
        b'<enclosure url="http://127.0.0.1/a.mp3" type="audio/mpeg"/></item></channel></rss>',
        # Atom with a BOM
        b'\xef\xbb\xbf<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><entry><title>A &amp; B</title>'
        b'<link rel="enclosure" type="audio/mpeg" href="http://127.0.0.1/a.mp3"/></entry></feed>',
    ],
    ids=["rss-bad-ampersand", "rss091", "atom-bom"],
)
def test_sloppy_but_real_feeds_are_accepted(body):
    [item] = parse_feed("http://127.0.0.1/f", body)
    assert item.url == "http://127.0.0.1/a.mp3"
    assert item.title == "A & B"


def test_episode_number_and_page_come_from_the_feed_entry():
    from pipeline.ingest.feeds import parse_feed

    body = (
        '<?xml version="1.0"?><rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">'
        "<channel><title>Show</title><item><title>Ep 7</title><link>https://example.com/ep7</link>"
        "<itunes:episode>7</itunes:episode>"
        '<enclosure url="https://example.com/ep7.mp3" length="10" type="audio/mpeg"/></item>'
        "<item><title>Ep 6</title>"
        '<enclosure url="https://example.com/ep6.mp3" length="10" type="audio/mpeg"/></item></channel></rss>'
    ).encode()
    seven, six = parse_feed("https://example.com/feed.xml", body)
    assert (seven.number, seven.page) == ("7", "https://example.com/ep7")
    assert (six.number, six.page) == (None, None)


def test_episode_artwork_then_show_artwork_is_kept_for_audiogram_covers():
    body = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Show</title>
<itunes:image href="https://example.test/show.jpg"/>
<item><title>One</title><enclosure url="https://example.test/1.mp3" type="audio/mpeg" length="1"/>
<itunes:image href="https://example.test/ep1.jpg"/></item>
<item><title>Two</title><enclosure url="https://example.test/2.mp3" type="audio/mpeg" length="1"/></item>
</channel></rss>"""
    items = {item.title: item for item in parse_feed("https://example.test/feed.xml", body)}
    assert items["One"].image == "https://example.test/ep1.jpg"
    assert items["Two"].image == "https://example.test/show.jpg"
