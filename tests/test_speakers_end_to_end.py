"""A two-face video episode through `castmill process`: real transcription, real diarization, vertical
clips that follow whoever speaks, and the split layout on request.

The episode is made by ``tests.helpers.faces`` (the astronaut photograph as two people, espeak-ng
voices taking turns); its truth (who speaks when, which face is whose) comes from the generator, and
the output is read back from decoded frames of the rendered clips.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers.cli import castmill, castmill_json
from tests.helpers.faces import decode_frames, make_scene, who_is_shown

pytestmark = pytest.mark.slow
TEXTS = [("S1", "Welcome back to the garden show. Today my guest grows tomatoes on a city rooftop, "
                "with nothing but buckets and rain water."),
         ("S2", "Thanks for having me. Honestly, the secret is good soil. Most people skip the soil "
                "and wonder why the plants give up in July."),
         ("S1", "So what is the one thing a beginner should buy first?"),
         ("S2", "A bag of compost. Forget the fancy tools. Compost first, everything else later.")]
SMALL = (180, 320)


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    import os

    folder = tmp_path_factory.mktemp("two-faces")
    scene = make_scene(folder / "garden.mp4", TEXTS, size=(1280, 720))
    home = folder / "home"
    old = os.environ.get("CASTMILL_HOME")
    os.environ["CASTMILL_HOME"] = str(home)
    profile = folder / "garden.toml"
    profile.write_text('slug = "garden"\nname = "Garden Show"\nspeakers = 2\n'
                       '[highlights]\nmin_seconds = 6\nmax_seconds = 40\n'
                       '[clips]\nkinds = ["video"]\naspects = ["9:16"]\n')
    assert castmill("init").exit_code == 0
    assert castmill("client", "import", str(profile)).exit_code == 0
    result, report = castmill_json("process", "--client", "garden", str(scene.path))
    assert result.exit_code == 0, result.stderr
    yield scene, report["episodes"][0]
    if old is None:
        os.environ.pop("CASTMILL_HOME", None)
    else:
        os.environ["CASTMILL_HOME"] = old


def test_the_episode_is_labelled_with_its_two_speakers_in_turn_order(processed):
    scene, episode = processed
    assert episode["status"] == "done", episode
    result, speakers = castmill_json("episodes", "speakers", str(episode["episode_id"]))
    assert sorted(s["label"] for s in speakers) == ["S1", "S2"]
    data = json.loads(castmill("highlights", str(episode["episode_id"]), "--format", "json").stdout)
    assert data["highlights"] and all(h["speakers"] for h in data["highlights"])


def test_caption_sidecars_carry_the_names_the_va_gives(processed):
    import os
    from pathlib import Path

    scene, episode = processed
    folder = Path(os.environ["CASTMILL_HOME"]) / "clips" / "garden" / f"episode-{episode['episode_id']}"
    vtts = sorted(folder.glob("*.vtt"))
    assert vtts and all("<v S" in p.read_text() for p in vtts)
    videos = {p: p.read_bytes() for p in folder.glob("*.mp4")}
    result = castmill("episodes", "speakers", str(episode["episode_id"]), "--name", "S1=Dinda", "--name", "S2=Budi")
    assert result.exit_code == 0, result.stderr
    for vtt in vtts:
        text, srt = vtt.read_text(), vtt.with_suffix(".srt").read_text()
        assert "<v S" not in text and ("<v Dinda>" in text or "<v Budi>" in text)
        assert "Dinda: " in srt or "Budi: " in srt
    assert all(p.read_bytes() == data for p, data in videos.items())  # named without rendering again
    castmill("episodes", "speakers", str(episode["episode_id"]), "--name", "S1=", "--name", "S2=")


def test_the_vertical_clip_shows_whoever_is_speaking(processed):
    scene, episode = processed
    data = json.loads(castmill("highlights", str(episode["episode_id"]), "--format", "json").stdout)
    highlight = max(data["highlights"], key=lambda h: h["end"] - h["start"])
    result = castmill("clips", "render", str(highlight["id"]), "--kind", "video", "--json")
    assert result.exit_code == 0, result.stderr
    video = next(f for f in json.loads(result.stdout) if f["format"] == "mp4")
    assert "tracked" in video["framing"], video["framing"]
    frames = decode_frames(video["path"], SMALL, fps=2)
    checked = agreed = 0
    for k, frame in enumerate(frames):
        t = highlight["start"] + k / 2
        truth = scene.speaker_at(t)
        if not truth or any(abs(t - edge) < 0.6 for _, a, b in scene.turns for edge in (a, b)):
            continue  # between turns the camera may still be moving
        checked += 1
        agreed += who_is_shown(frame[int(0.28 * SMALL[1]):int(0.56 * SMALL[1])]) == truth
    assert checked >= 6 and agreed >= 0.85 * checked, (agreed, checked)


def test_the_split_layout_stacks_both_faces(processed):
    scene, episode = processed
    data = json.loads(castmill("highlights", str(episode["episode_id"]), "--format", "json").stdout)
    highlight = data["highlights"][0]
    result = castmill("clips", "render", str(highlight["id"]), "--kind", "video", "--reframe", "split", "--json")
    assert result.exit_code == 0, result.stderr
    video = next(f for f in json.loads(result.stdout) if f["format"] == "mp4")
    assert "split" in video["framing"], video["framing"]
    frame = decode_frames(video["path"], SMALL, at=1.0)[0]
    top, bottom = frame[: SMALL[1] // 2], frame[SMALL[1] // 2:]
    assert {who_is_shown(top), who_is_shown(bottom)} == {"S1", "S2"}
