"""The Bluesky publisher end to end against a real PDS (npm @atproto/dev-env, installed by scripts/install_pds.sh).

The PDS and its PLC directory run offline on free 127.0.0.1 ports, with their data in a temporary
folder; the process is stopped by its PID. Checks what the fake cannot prove: the real server takes
our TID record keys, facets and reply refs, and behaves as publish/find_existing assume.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest
import requests

from pipeline.publish.publishers import Account, AuthError, Post, PublishError, get_publisher
from pipeline.publish.publishers import bluesky
from pipeline.publish.publishers.bluesky import part_key, tid_for

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
PDS_DIR = ROOT / ".pds"
START_TIMEOUT = 90.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _installed() -> bool:
    return (PDS_DIR / "node_modules" / "@atproto" / "dev-env" / "package.json").is_file() and \
        (PDS_DIR / "serve.cjs").is_file()


@pytest.fixture(scope="module")
def pds(tmp_path_factory):
    assert shutil.which("node"), "node is needed for the real-PDS test (apt-get install -y nodejs npm)"
    if not _installed():
        subprocess.run([str(ROOT / "scripts" / "install_pds.sh"), str(PDS_DIR)], check=True, timeout=900)
    scratch = tmp_path_factory.mktemp("pds")
    pds_port, plc_port = _free_port(), _free_port()
    log = open(scratch / "pds.log", "wb")
    process = subprocess.Popen(["node", "serve.cjs", str(pds_port), str(plc_port)], cwd=PDS_DIR,
                               env={**os.environ, "TMPDIR": str(scratch)}, stdout=subprocess.PIPE,
                               stderr=log, text=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
        line = process.stdout.readline() if ready else ""
        assert line, f"the PDS did not start: {(scratch / 'pds.log').read_text()[-2000:]}"
        info = json.loads(line)
        info["url"] = f"http://127.0.0.1:{pds_port}"
        bluesky._SESSIONS.clear()
        yield info
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        bluesky._SESSIONS.clear()


def account(pds, password=None) -> Account:
    return Account(platform="bluesky", base_url=pds["url"], handle=pds["handle"],
                   token=pds["password"] if password is None else password)


def get_record(pds, rkey: str) -> requests.Response:
    return requests.get(f"{pds['url']}/xrpc/com.atproto.repo.getRecord", timeout=10,
                        params={"repo": pds["did"], "collection": "app.bsky.feed.post", "rkey": rkey})


def post_count(pds) -> int:
    answer = requests.get(f"{pds['url']}/xrpc/com.atproto.repo.listRecords", timeout=10,
                          params={"repo": pds["did"], "collection": "app.bsky.feed.post", "limit": 100})
    answer.raise_for_status()
    return len(answer.json()["records"])


def test_thread_with_link_facet_lands_on_a_real_pds(pds):
    first = "Selamat datang 👋🏽 di episode baru — kisah Bébé 🇮🇩: https://example.com/ep/12?x=1 #podcast"
    post = Post(parts=(first, "Bagian dua: obrolan lengkap"), idempotency_key="pds-thread-1")
    publisher = get_publisher(account(pds))
    before = post_count(pds)
    assert publisher.find_existing(post) is None

    published = publisher.publish(post)

    root = get_record(pds, tid_for("pds-thread-1"))
    reply = get_record(pds, tid_for(part_key("pds-thread-1", 1)))
    assert root.status_code == 200 and reply.status_code == 200
    assert published.remote_id == root.json()["uri"]
    record = root.json()["value"]
    assert record["text"] == first
    link = next(f for f in record["facets"] if f["features"][0]["$type"] == "app.bsky.richtext.facet#link")
    start, end = link["index"]["byteStart"], link["index"]["byteEnd"]
    assert first.encode("utf-8")[start:end].decode("utf-8") == "https://example.com/ep/12?x=1"
    strong_root = {"uri": root.json()["uri"], "cid": root.json()["cid"]}
    assert reply.json()["value"]["reply"] == {"root": strong_root, "parent": strong_root}
    assert post_count(pds) == before + 2

    assert publisher.find_existing(post) == published
    assert get_publisher(account(pds)).publish(post) == published  # exactly once: nothing re-created
    assert post_count(pds) == before + 2


def test_real_pds_rejects_what_the_fake_rejects(pds):
    publisher = get_publisher(account(pds))
    with pytest.raises(PublishError, match="grapheme too big") as caught:
        publisher.publish(Post(parts=("é" * 301,), idempotency_key="pds-too-long"))
    assert caught.value.status == 400 and not caught.value.retryable

    with pytest.raises(AuthError):
        get_publisher(account(pds, password="not-the-password")).publish(Post(parts=("x",), idempotency_key="pds-a"))


def test_real_pds_needs_tid_rkeys_and_refuses_reuse(pds):
    publisher = get_publisher(account(pds))
    publisher.publish(Post(parts=("rkey check",), idempotency_key="pds-rkey"))
    session = publisher._session()
    body = {"repo": session.did, "collection": "app.bsky.feed.post",
            "record": {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "2026-01-01T00:00:00.000Z"}}
    headers = {"Authorization": f"Bearer {session.access_jwt}"}
    url = f"{pds['url']}/xrpc/com.atproto.repo.createRecord"
    not_tid = requests.post(url, json={**body, "rkey": "not-a-tid"}, headers=headers, timeout=10)
    assert not_tid.status_code == 400
    reused = requests.post(url, json={**body, "rkey": tid_for("pds-rkey")}, headers=headers, timeout=10)
    assert reused.status_code == 500  # a bare 500: why publish() asks getRecord before creating
    missing = get_record(pds, tid_for("never-published"))
    assert missing.status_code == 400 and missing.json()["error"] == "RecordNotFound"
