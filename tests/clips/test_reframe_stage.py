"""Reframing through the clips stage: the client's settings, the stored reason, the cache key, speaker colours."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from pipeline.clips.jobs import RenderedFile, RenderJob, RenderOutput
from pipeline.clips.spec import CaptionWord, ClipSpec
from pipeline.clips.stage import EpisodeClips, _key, framing_notes, render_episode, render_highlight
from pipeline.core.settings import ClipSettings
from pipeline.store.models import Client, Clip, Episode, Highlight, Transcript
from tests.helpers.faces import make_scene

TEXTS = [("S1", "Hello and welcome back to the garden show, today we dig deep."),
         ("S2", "Thanks for having me, I love talking about tomatoes and soil.")]


def transcript_segments(words: tuple[CaptionWord, ...]) -> list[dict]:
    """One stored segment per turn, its words carrying the speaker as a diarized transcript does."""
    segments: list[dict] = []
    for word in words:
        if not segments or segments[-1]["speaker"] != word.speaker:
            segments.append({"start": word.start, "end": word.end, "text": "", "words": [], "speaker": word.speaker})
        segment = segments[-1]
        segment["words"].append({"word": f" {word.text}", "start": float(word.start), "end": float(word.end),
                                 "probability": 0.9, "speaker": word.speaker})
        segment["end"], segment["text"] = float(word.end), f"{segment['text']} {word.text}".strip()
    return segments


@pytest.fixture
def video_episode(fresh_db, tmp_path):
    scene = make_scene(tmp_path / "episode.mp4", TEXTS)
    settings = ClipSettings(kinds=["video"], caption_style={"speaker_colours": ["#FF8800", "#00AAFF"]})
    with fresh_db.session() as session:
        client = Client(slug="acme", name="Acme", clip_settings=settings.model_dump())
        episode = Episode(client=client, source_uri=str(scene.path), media_path=str(scene.path), sha256="e" * 64,
                          title="Two voices", duration=scene.seconds, has_video=True)
        session.add(episode)
        session.flush()
        session.add(Transcript(episode_id=episode.id, engine="test", model="test", language="en",
                               duration=scene.seconds, segments=transcript_segments(scene.words), input_key=""))
        session.add(Highlight(episode_id=episode.id, rank=1, start=2.0, end=7.5, score=0.5, features={}, reasons=[],
                              text="", quote="", title="", input_key=""))
        return episode.id


def set_clip_settings(db, **changes):
    with db.session() as session:
        client = session.query(Client).one()
        client.clip_settings = {**client.clip_settings, **changes}


def mp4_row(db) -> Clip:
    with db.session() as session:
        row = session.query(Clip).filter_by(format="mp4").one()
        session.expunge(row)
        return row


@pytest.mark.slow
def test_the_stage_frames_video_clips_as_the_client_asks_and_records_why(fresh_db, settings, video_episode):
    with fresh_db.session() as session:
        result = render_episode(session, settings, video_episode)
    assert (result.rendered, result.notes) == (2, [])
    row = mp4_row(fresh_db)
    framing = row.probe["reframe"]
    assert framing["layout"] == "tracked" and framing["mode"] == "auto" and not framing["fallback"], framing
    assert framing["speakers"] == {"S1": 1, "S2": 1}
    ass = Path(row.probe["captions"]["ass"]).read_text()
    assert "&H000088FF&" in ass and "&H00FFAA00&" in ass, "S1 words orange, S2 words blue"

    with fresh_db.session() as session:
        files = render_highlight(session, settings, 1, kind="video")
    assert not files[0].rendered and files[0].framing == framing["reason"], "unchanged: reused, reason kept"

    set_clip_settings(fresh_db, reframe="centre")
    with fresh_db.session() as session:
        again = render_episode(session, settings, video_episode)
    assert again.rendered == 2, "a new reframe mode renders the clip again"
    assert mp4_row(fresh_db).probe["reframe"]["reason"] == "centre crop (reframe = centre)"


def test_fit_blur_without_reframe_keeps_the_blurred_fit():
    stored = {"kinds": ["video"], "fit": "blur"}  # a [clips] table saved before reframing existed
    clips = SimpleNamespace(wanted=stored)
    assert EpisodeClips.reframe_mode(clips) == "fit"
    assert EpisodeClips.reframe_mode(SimpleNamespace(wanted={"fit": "crop"})) == "auto"
    assert EpisodeClips.reframe_mode(SimpleNamespace(wanted={"fit": "blur", "reframe": "auto"})) == "auto"
    assert EpisodeClips.reframe_mode(SimpleNamespace(wanted={"reframe": "split"}), fit="blur") == "fit"
    assert ClipSettings(fit="blur").reframe == "fit" and ClipSettings().reframe == "auto"
    assert ClipSettings(fit="blur", reframe="split").reframe == "split"


def test_reframe_mode_and_speakers_change_the_clip_key():
    episode = SimpleNamespace(sha256="abc")
    words = (CaptionWord("hi", 0.0, 0.4, "S1"),)
    spec = ClipSpec(source=Path("x.mp4"), start=0.0, end=5.0, kind="video", words=words)
    keys = {_key(episode, spec, "frame", "crop", "ffmpeg", mode) for mode in ("auto", "centre", "fit", "split")}
    assert len(keys) == 4
    other_speaker = ClipSpec(source=Path("x.mp4"), start=0.0, end=5.0, kind="video",
                             words=(CaptionWord("hi", 0.0, 0.4, "S2"),))
    assert _key(episode, spec, "frame", "crop", "ffmpeg", "auto") != _key(episode, other_speaker, "frame", "crop",
                                                                          "ffmpeg", "auto")


def test_a_clip_that_fell_back_is_a_note_of_the_stage():
    job = RenderJob(3, "video", "9:16", ClipSpec(Path("x.mp4"), 0, 1, kind="video"), Path("stem"), "key",
                    label="highlight 3 video 9:16", reframe="auto")
    fell_back = {"reason": "no face found: blurred fit", "fallback": True}
    output = RenderOutput(job, (RenderedFile("video", "mp4", Path("a.mp4"), {"reframe": fell_back}),))
    assert framing_notes(output) == ["highlight 3 video 9:16: no face found: blurred fit"]
    tracked = {"reason": "tracked crop following 2 speakers (2 face tracks, 1 shot)", "fallback": False}
    assert framing_notes(RenderOutput(job, (RenderedFile("video", "mp4", Path("a.mp4"), {"reframe": tracked}),))) == []
