"""Caption files in the media storage: a speaker rename on a machine that did not render the clip fetches the
clip's captions from the bucket, rewrites the SRT and VTT, and stores them back for the next machine."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.clips.captions import paginate, write_captions
from pipeline.clips.spec import CaptionStyle, CaptionWord
from pipeline.clips.stage import clip_file_key, name_speakers
from pipeline.core.settings import load_settings
from pipeline.media.storage import open_storage
from pipeline.store.models import Clip, Episode, Transcript
from tests.review.conftest import cheap_hashing, world  # noqa: F401  (fixtures)

SIZE = (1080, 1920)
SEGMENTS = [{"start": 0.0, "end": 1.0, "text": "Hi there.", "speaker": "S1", "words": []},
            {"start": 1.0, "end": 2.0, "text": "Hello back.", "speaker": "S2", "words": []}]


def two_speakers() -> tuple[CaptionWord, ...]:
    said = [("Hi", "S1"), ("there.", "S1"), ("Hello", "S2"), ("back.", "S2")]
    return tuple(CaptionWord(t, k * 0.4, k * 0.4 + 0.3, s) for k, (t, s) in enumerate(said))


def test_a_rename_where_the_captions_are_only_in_the_bucket_rewrites_the_stored_srt_and_vtt(
        world, castmill_home, s3, tmp_path):
    castmill_home.mkdir(parents=True, exist_ok=True)
    (castmill_home / "castmill.toml").write_text(
        f'[storage]\nmedia_url = "s3://{s3.name}/media"\ns3_endpoint_url = "{s3.endpoint}"\n')
    settings, renderer = load_settings(), tmp_path / "renderer"
    renderer.mkdir()
    paths = write_captions(paginate(two_speakers(), CaptionStyle(), SIZE), CaptionStyle(), SIZE,
                           renderer / "clip-0.0-2.0")
    storage = open_storage(settings)
    with world.db.session() as session:
        episode = session.get(Episode, world.acme_episode)
        session.add(Transcript(episode_id=episode.id, engine="faster-whisper", model="tiny.en", language="en",
                               duration=2.0, segments=SEGMENTS, input_key="k"))
        stored = {ext: storage.put(path, clip_file_key(episode, path)) for ext, path in paths.items()}
        session.add(Clip(episode_id=episode.id, highlight_key="0.00-2.00", kind="audiogram", aspect="9:16",
                         format="mp4", status="ready", path=str(renderer / "clip-0.0-2.0.mp4"), sha256="", input_key="k",
                         probe={"captions": {ext: str(p) for ext, p in paths.items()}, "captions_stored": stored}))
    shutil.rmtree(renderer)  # this machine never had the files

    with world.db.session() as session:
        assert name_speakers(session, settings, world.va, world.acme_episode, {"S1": "Dinda"}) == {"S1": "Dinda"}

    srt, vtt = (s3.body(stored[ext].split("/", 3)[3]).decode() for ext in ("srt", "vtt"))
    assert "Dinda: Hi there." in srt and "S2: Hello back." in srt
    assert "<v Dinda>Hi there.</v>" in vtt
    assert Path(paths["srt"]).read_text() == srt, "the local copy is the rewritten one"
