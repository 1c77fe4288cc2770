#!/usr/bin/env python3
"""`make demo`: a watched feed picks up the show's new episode by itself.

A small podcast feed is served on 127.0.0.1 (allowed for this run through CASTMILL_NETWORK_ALLOW, as
``[network] allow`` would). It lists the first sample episode, published a month ago. The client
subscribes to it; then the show "publishes" the second sample (``samples/sample_topics.mp3``) and one
poll picks it up: only that one is new, and it goes through every stage like `castmill process`. When
it was processed before (same bytes), the poll says so and processes nothing. The feed stops with
this script, so its subscription is removed at the end; the episode stays.

    .venv/bin/python scripts/demo_feeds.py [--client acme]
"""

from __future__ import annotations

import os
import sys
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click

REPO = Path(__file__).resolve().parents[1]
OLD = ("sample-episode", "Castmill Sample Episode", REPO / "samples" / "sample_episode.mp3")
NEW = ("sample-topics", "Castmill Sample Episode: Three Topics", REPO / "samples" / "sample_topics.mp3")


class DemoFeed:
    """An RSS feed and its enclosures on a free port of 127.0.0.1, served from a thread."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, Path, datetime]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/feed.xml"

    def publish(self, slug: str, title: str, media: Path, when: datetime) -> None:
        self.items.insert(0, (slug, title, media, when))

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def document(self) -> bytes:
        base = self.url.removesuffix("/feed.xml")
        items = "".join(
            f"<item><title>{title}</title><guid>demo-{slug}</guid><pubDate>{format_datetime(when)}</pubDate>"
            f'<enclosure url="{base}/media/{slug}.mp3" length="{media.stat().st_size}" type="audio/mpeg"/></item>'
            for slug, title, media, when in self.items)
        return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Acme Podcast</title>'
                f"<link>{base}/</link>{items}</channel></rss>").encode()

    def _handler(self):
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                media = {f"/media/{slug}.mp3": path for slug, _title, path, _when in feed.items}
                if self.path == "/feed.xml":
                    self._send(feed.document(), "application/rss+xml")
                elif self.path in media:
                    self._send(media[self.path].read_bytes(), "audio/mpeg")
                else:
                    self.send_error(404)

            def _send(self, body: bytes, content_type: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def allow_this_machine() -> None:
    """The demo feed is on 127.0.0.1, which Castmill refuses unless [network] allow lists it."""
    allowed = [a for a in os.environ.get("CASTMILL_NETWORK_ALLOW", "").split(",") if a.strip()]
    os.environ["CASTMILL_NETWORK_ALLOW"] = ",".join([*allowed, "127.0.0.1"])


@click.command()
@click.option("--client", "client_slug", default="acme", show_default=True)
def main(client_slug: str) -> None:
    allow_this_machine()
    from pipeline.access.identity import system_identity
    from pipeline.core.errors import CastmillError
    from pipeline.core.settings import load_settings
    from pipeline.store.db import Database
    from pipeline.watch import add_feed, poll_due, remove_feed

    settings = load_settings()
    db = Database(settings.database_url)
    demo = system_identity("demo")
    feed = DemoFeed()
    now = datetime.now(timezone.utc)
    feed.publish(*OLD, now - timedelta(days=30))
    try:
        view = add_feed(demo, db, settings, client_slug, feed.url, now=now)
        click.echo(f"{client_slug} watches feed {view.id}: {view.title} at {view.url} (it lists {OLD[1]!r})")
        feed.publish(*NEW, now + timedelta(seconds=1))
        click.echo(f"the show publishes {NEW[1]!r}; one poll (a new episode is processed as `castmill process` would: a few minutes) …")
        for report in poll_due(db, settings, client_slug=client_slug, force=True):
            if report.feed_id == view.id:
                show(report)
        with db.session() as session:
            remove_feed(demo, session, client_slug, str(view.id))
    except CastmillError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        feed.stop()
        db.dispose()
    click.echo("the demo feed is gone, so its subscription was removed; the episode stays "
               f"(`castmill episodes list --client {client_slug}`)")


def show(report) -> None:
    if report.error:
        click.echo(f"poll failed: {report.error}")
        return
    click.echo(f"poll: {report.result}")
    for item in report.picked_up:
        if item.status == "duplicate":
            click.echo(f"  {item.title!r}: same content as episode {item.episode_id}, processed before: "
                       "not processed again")
            continue
        told = {"log": "logged (nobody to tell: no [notify] channel, no reachable staff user)",
                "outbox": "queued in the notification outbox for the staff"}.get(item.notified_via, item.notified_via)
        click.echo(f"  {item.title!r}: {item.status} as episode {item.episode_id}"
                   + (f" ({item.error})" if item.error else "") + f"; the VA's notice: {told}")


if __name__ == "__main__":
    main()
