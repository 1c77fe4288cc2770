"""An episode through every stage with its media in S3 (moto's real server): ingest stores the episode in the
bucket, the stages read it from there, clips and quote cards are stored next to it, and a draft's media can
still be published after every local copy is gone."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.batch import TranscribeJob, process_batch
from pipeline.core.settings import load_client_profile, load_settings
from pipeline.highlights.stage import energy_or_none
from pipeline.media.storage import local_media
from pipeline.publish.attempts import _media_file
from pipeline.store.clients import upsert_client
from pipeline.store.db import Database
from pipeline.store.models import Clip, Draft, Episode
from tests.helpers import media as mf

pytestmark = pytest.mark.slow
TEXT = ("Welcome back to the show. Today we talk about pricing your podcast sponsorships. "
        "The biggest mistake is charging too little for a loyal audience. "
        "Here is the rule I give every host: double your price and watch who stays. "
        "A small show with listeners who trust you is worth more than a big show nobody hears. "
        "Write down your numbers before every call with a sponsor. That is all for this week.")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def processed(castmill_home, s3, tmp_path):
    castmill_home.mkdir(parents=True)
    (castmill_home / "castmill.toml").write_text(
        f'[storage]\nmedia_url = "s3://{s3.name}/media"\ns3_endpoint_url = "{s3.endpoint}"\n'
        "[transcribe]\nbeam_size = 1\n[highlights]\ntop = 2\nmin_seconds = 5\nmax_seconds = 20\n")
    settings = load_settings()
    profile = tmp_path / "acme.toml"
    profile.write_text('slug = "acme"\nname = "Acme Podcast"\nplatforms = ["tiktok", "x"]\nspeakers = "off"\n'
                       '[clips]\nkinds = ["audiogram", "card"]\naspects = ["9:16"]\n[clips.card]\nsizes = ["1:1"]\n')
    db = Database(settings.database_url)
    with db.session() as session:
        upsert_client(session, load_client_profile(profile))
    episode_file = mf.speech_mp3(tmp_path / "episode.mp3", TEXT)
    report = process_batch(db, settings, "acme", [str(episode_file)],
                           job=TranscribeJob.from_settings(settings.transcribe))
    [outcome] = report.outcomes
    assert outcome.status == "done", outcome.error
    assert set(outcome.stages.values()) == {"done"} and outcome.highlights and outcome.clips
    yield settings, db, outcome.episode_id, episode_file.read_bytes()
    db.dispose()


def test_media_and_clips_live_in_the_bucket_and_publishing_needs_no_local_copy(processed, s3):
    settings, db, episode_id, episode_bytes = processed
    with db.session() as session:
        episode = session.get(Episode, episode_id)
        media_ref, digest = episode.media_path, episode.sha256
        clips = {c.id: (c.kind, c.path, c.sha256, dict(c.probe or {}))
                 for c in session.scalars(select(Clip).where(Clip.episode_id == episode_id, Clip.status == "ready"))}
        drafts = {d.platform: d.latest.media for d in session.scalars(select(Draft).where(
            Draft.episode_id == episode_id, Draft.highlight_id.is_not(None)))}

    # The episode: stored under <client>/episodes/<sha256>.mp3, the same bytes as the file processed.
    assert media_ref == f"s3://{s3.name}/media/acme/episodes/{digest}.mp3"
    assert s3.body(f"media/acme/episodes/{digest}.mp3") == episode_bytes

    # Every clip file and quote card: stored under <client>/clips/episode-<id>/, the same bytes as rendered.
    assert {kind for kind, *_ in clips.values()} >= {"audiogram", "thumbnail", "card"}
    for kind, path, clip_sha, probe in clips.values():
        name = Path(path).name
        assert probe["stored"] == f"s3://{s3.name}/media/acme/clips/episode-{episode_id}/{name}", kind
        stored = s3.body(f"media/acme/clips/episode-{episode_id}/{name}")
        assert sha256(stored) == clip_sha == sha256(Path(path).read_bytes())

    # The caption files of each captioned clip too (SRT, VTT, ASS and the pages the names are written from).
    captioned = [probe for _, _, _, probe in clips.values() if probe.get("captions")]
    assert captioned
    for probe in captioned:
        assert set(probe["captions_stored"]) == set(probe["captions"]) == {"ass", "srt", "vtt", "json"}
        for ext, ref in probe["captions_stored"].items():
            name = Path(probe["captions"][ext]).name
            assert ref == f"s3://{s3.name}/media/acme/clips/episode-{episode_id}/{name}"
            assert s3.body(ref.split("/", 3)[3]) == Path(probe["captions"][ext]).read_bytes()

    # The drafts carry the stored ref next to the local path.
    [video] = drafts["tiktok"]
    [card] = drafts["x"]
    assert video["kind"] == "video" and video["stored"].endswith("-audiogram-9x16.mp4")
    assert card["kind"] == "image" and card["stored"].endswith("-card-1x1.png") and card["bytes"]

    # Every local copy goes: the downloaded media cache and the rendered clips.
    shutil.rmtree(settings.media_cache_dir)
    shutil.rmtree(settings.home / "clips")
    assert not Path(video["path"]).exists() and not Path(card["path"]).exists()

    # Publishing fetches each draft's media from the bucket.
    with db.session() as session:
        for item in (video, card):
            media = _media_file(item, session, settings)
            assert media.path.is_file() and media.path.is_relative_to(settings.media_cache_dir)
            assert media.path.read_bytes() == s3.body(item["stored"].split("/", 3)[3])
            assert media.mime == {"video": "video/mp4", "image": "image/png"}[item["kind"]]
        # A draft made before clips were stored has no ref: the clip row's is used.
        older = {k: v for k, v in video.items() if k != "stored"}
        assert _media_file(older, session, settings).path.read_bytes() == s3.body(video["stored"].split("/", 3)[3])

    # The stages read the episode from the bucket again (into the cache).
    assert local_media(settings, media_ref).read_bytes() == episode_bytes
    shutil.rmtree(settings.media_cache_dir)
    assert energy_or_none(media_ref, settings) is not None


def test_a_rerun_on_a_machine_without_the_clip_files_fetches_them_instead_of_rendering(processed):
    from pipeline.clips.stage import run_stage

    settings, db, episode_id, _ = processed
    with db.session() as session:
        clips = session.scalars(select(Clip).where(Clip.episode_id == episode_id)).all()
        before = {c.path: c.sha256 for c in clips}
        sidecars = {path: Path(path).read_bytes() for c in clips for path in (c.probe or {}).get("captions", {}).values()}
    assert sidecars
    shutil.rmtree(settings.home / "clips")
    shutil.rmtree(settings.media_cache_dir)
    result = run_stage(db, settings, episode_id)
    assert result.rendered == 0 and result.reused == len(before)
    assert {path: sha256(Path(path).read_bytes()) for path in before} == before
    assert {path: Path(path).read_bytes() for path in sidecars} == sidecars, "the caption files came back too"
    assert not settings.media_cache_dir.exists(), "nothing rendered, so the episode itself was not downloaded"
