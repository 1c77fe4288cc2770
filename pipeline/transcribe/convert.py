"""Convert a CTranslate2 Whisper model into an openai-whisper checkpoint.

faster-whisper runs CTranslate2 models; openai-whisper loads a PyTorch dict
``{"dims": ..., "model_state_dict": ...}``. Converting one into the other lets
both engines run the very same weights, so their outputs can be compared fairly.

The ``model.bin`` layout is the one written by ctranslate2's
``ModelSpec._serialize`` (binary version 6, little-endian)::

    u32 version | str spec name | u32 revision | u32 n_vars
    n_vars x (str name | u8 rank | rank x u32 dim | u8 dtype id | u32 n_bytes | bytes)
    u32 n_aliases | n_aliases x (str alias | str target)

where ``str`` is a u16 length (including a trailing NUL) followed by UTF-8 bytes.
"""

from __future__ import annotations

import json
import os
import re
import struct
import tempfile
from pathlib import Path

import numpy as np

from pipeline.core.errors import TranscribeError

_BINARY_VERSION = 6
_SPEC_NAME = "WhisperSpec"
# Order of ctranslate2's DataType enum (include/ctranslate2/types.h).
_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
# Heads per n_state for the published Whisper sizes (tiny … large).
_HEADS_BY_STATE = {384: 6, 512: 8, 768: 12, 1024: 16, 1280: 20}
_ALIGNMENT_KEY = "alignment_heads"


class _Reader:
    """Sequential little-endian reader that turns truncation into TranscribeError."""

    def __init__(self, data: bytes, source: Path):
        self.data, self.pos, self.source = data, 0, source

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise TranscribeError("model.bin is truncated", source=self.source)
        view = memoryview(self.data)[self.pos : self.pos + n]
        self.pos += n
        return view

    def unpack(self, fmt: str) -> int:
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        raw = bytes(self.take(self.unpack("H")))
        if not raw.endswith(b"\0"):
            raise TranscribeError("model.bin has a malformed string", source=self.source)
        try:
            return raw[:-1].decode("utf-8")
        except UnicodeDecodeError:
            raise TranscribeError("model.bin has a malformed string", source=self.source) from None


def _decode(raw: memoryview, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    if dtype == "bfloat16":  # numpy has no bfloat16: it is the top half of a float32
        wide = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return wide.view(np.float32).reshape(shape)
    return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)


def _read_raw(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    if not path.is_file():
        raise TranscribeError("model.bin not found", source=path)
    reader = _Reader(path.read_bytes(), path)
    version = reader.unpack("I")
    if version != _BINARY_VERSION:
        raise TranscribeError(f"not a CTranslate2 model (binary version {version})", source=path)
    spec = reader.string()
    if spec != _SPEC_NAME:
        raise TranscribeError(f"not a Whisper model (spec {spec!r})", source=path)
    reader.unpack("I")  # spec revision: the variable names are what we rely on
    variables: dict[str, np.ndarray] = {}
    for _ in range(reader.unpack("I")):
        name = reader.string()
        shape = tuple(reader.unpack("I") for _ in range(reader.unpack("B")))
        type_id = reader.unpack("B")
        if type_id >= len(_DTYPES):
            raise TranscribeError(f"unknown dtype id {type_id} for {name}", source=path)
        dtype, n_bytes = _DTYPES[type_id], reader.unpack("I")
        expected = int(np.prod(shape)) * (2 if dtype == "bfloat16" else np.dtype(dtype).itemsize)
        if n_bytes != expected:
            raise TranscribeError(f"{name} has {n_bytes} bytes, expected {expected}", source=path)
        variables[name] = _decode(reader.take(n_bytes), dtype, shape)
    aliases = {}
    for _ in range(reader.unpack("I")):
        alias, target = reader.string(), reader.string()
        if target not in variables:
            raise TranscribeError(f"alias {alias} points to missing {target}", source=path)
        aliases[alias] = target
    return variables, aliases


def read_ct2_model(model_dir: Path) -> dict[str, np.ndarray]:
    """Read every variable of a CTranslate2 Whisper ``model.bin`` into numpy.

    Aliases are resolved; quantized weights are divided by their ``*_scale`` (the
    scale entries are then dropped) and float tensors become float32. Integer
    scalars (spec attributes such as ``encoder/num_heads``) keep their dtype.
    """
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise TranscribeError("model directory not found", source=model_dir)
    raw, aliases = _read_raw(model_dir / "model.bin")
    out: dict[str, np.ndarray] = {}
    for name, value in raw.items():
        if name.endswith(("_scale", "_zero")) and name.rsplit("_", 1)[0] in raw:
            continue
        if name + "_zero" in raw:
            raise TranscribeError(f"{name} uses AWQ quantization (unsupported)", source=model_dir)
        scale = raw.get(name + "_scale")
        if scale is not None:  # ctranslate2 stores round(w * scale), one scale per output row
            scale = scale.astype(np.float32).reshape(-1, *([1] * (value.ndim - 1)))
            out[name] = value.astype(np.float32) / scale
        elif value.dtype.kind == "f":
            out[name] = value.astype(np.float32)
        else:
            out[name] = value
    # Resolve aliases only now: an aliased weight has no ``_scale`` of its own, it
    # shares its target's (e.g. decoder/projection/weight -> decoder/embeddings/weight).
    out.update({alias: out[target] for alias, target in aliases.items() if target in out})
    return out


def _n_layers(variables: dict[str, np.ndarray], side: str) -> int:
    found = {int(m.group(1)) for k in variables if (m := re.match(rf"{side}/layer_(\d+)/", k))}
    return len(found)


def _n_heads(variables: dict[str, np.ndarray], side: str, n_state: int, source: Path) -> int:
    if f"{side}/num_heads" in variables:
        return int(variables[f"{side}/num_heads"])
    if n_state not in _HEADS_BY_STATE:
        raise TranscribeError(f"cannot infer {side} heads for width {n_state}", source=source)
    return _HEADS_BY_STATE[n_state]


def _dims(variables: dict[str, np.ndarray], source: Path) -> dict[str, int]:
    try:
        conv1 = variables["encoder/conv1/weight"]
        embeddings = variables["decoder/embeddings/weight"]
        audio_ctx = variables["encoder/position_encodings/encodings"].shape[0]
        text_ctx = variables["decoder/position_encodings/encodings"].shape[0]
    except KeyError as missing:
        raise TranscribeError(f"missing tensor {missing.args[0]}", source=source) from None
    return {
        "n_mels": conv1.shape[1],
        "n_audio_ctx": audio_ctx,
        "n_audio_state": conv1.shape[0],
        "n_audio_head": _n_heads(variables, "encoder", conv1.shape[0], source),
        "n_audio_layer": _n_layers(variables, "encoder"),
        "n_vocab": embeddings.shape[0],
        "n_text_ctx": text_ctx,
        "n_text_state": embeddings.shape[1],
        "n_text_head": _n_heads(variables, "decoder", embeddings.shape[1], source),
        "n_text_layer": _n_layers(variables, "decoder"),
    }


def _state_dict(variables: dict[str, np.ndarray], dims: dict[str, int], source: Path) -> dict:
    pending = {k: v for k, v in variables.items() if v.ndim > 0}  # scalars are spec attributes
    state: dict[str, np.ndarray] = {}

    def take(name: str) -> np.ndarray:
        if name not in pending:
            raise TranscribeError(f"missing tensor {name}", source=source)
        return pending.pop(name)

    def linear(ct2: str, oa: str, bias: bool = True) -> None:
        state[f"{oa}.weight"] = take(f"{ct2}/weight")
        if bias:
            state[f"{oa}.bias"] = take(f"{ct2}/bias")

    def norm(ct2: str, oa: str) -> None:
        state[f"{oa}.weight"], state[f"{oa}.bias"] = take(f"{ct2}/gamma"), take(f"{ct2}/beta")

    def fused(ct2: str, oa: str, parts: tuple[str, ...]) -> None:
        weights = np.split(take(f"{ct2}/weight"), len(parts))
        biases = np.split(take(f"{ct2}/bias"), len(parts))
        for part, weight, bias in zip(parts, weights, biases):
            state[f"{oa}.{part}.weight"] = weight
            # Whisper's key has no bias; ctranslate2 stores zeros there, and any constant
            # key bias would cancel in the softmax anyway.
            if part != "key":
                state[f"{oa}.{part}.bias"] = bias

    def block(ct2: str, oa: str, cross: bool) -> None:
        fused(f"{ct2}/self_attention/linear_0", f"{oa}.attn", ("query", "key", "value"))
        linear(f"{ct2}/self_attention/linear_1", f"{oa}.attn.out")
        norm(f"{ct2}/self_attention/layer_norm", f"{oa}.attn_ln")
        if cross:
            linear(f"{ct2}/attention/linear_0", f"{oa}.cross_attn.query")
            fused(f"{ct2}/attention/linear_1", f"{oa}.cross_attn", ("key", "value"))
            linear(f"{ct2}/attention/linear_2", f"{oa}.cross_attn.out")
            norm(f"{ct2}/attention/layer_norm", f"{oa}.cross_attn_ln")
        linear(f"{ct2}/ffn/linear_0", f"{oa}.mlp.0")
        linear(f"{ct2}/ffn/linear_1", f"{oa}.mlp.2")
        norm(f"{ct2}/ffn/layer_norm", f"{oa}.mlp_ln")

    state["encoder.positional_embedding"] = take("encoder/position_encodings/encodings")
    linear("encoder/conv1", "encoder.conv1")
    linear("encoder/conv2", "encoder.conv2")
    for i in range(dims["n_audio_layer"]):
        block(f"encoder/layer_{i}", f"encoder.blocks.{i}", cross=False)
    norm("encoder/layer_norm", "encoder.ln_post")
    state["decoder.token_embedding.weight"] = take("decoder/embeddings/weight")
    state["decoder.positional_embedding"] = take("decoder/position_encodings/encodings")
    for i in range(dims["n_text_layer"]):
        block(f"decoder/layer_{i}", f"decoder.blocks.{i}", cross=True)
    norm("decoder/layer_norm", "decoder.ln")
    # openai-whisper ties the output projection to the token embedding.
    projection = pending.pop("decoder/projection/weight", None)
    if projection is not None and not np.array_equal(projection, state["decoder.token_embedding.weight"]):
        raise TranscribeError("output projection is not tied to the embedding", source=source)
    if pending:
        raise TranscribeError(f"unexpected tensors: {', '.join(sorted(pending))}", source=source)
    return state


def _compact(array: np.ndarray):
    """A torch tensor, in float16 when that loses nothing (halves the file)."""
    import torch

    half = array.astype(np.float16)
    exact = np.array_equal(half.astype(np.float32), array)
    return torch.tensor(half if exact else np.ascontiguousarray(array, dtype=np.float32))


def _alignment_heads(model_dir: Path) -> list[list[int]] | None:
    config = model_dir / "config.json"
    if not config.is_file():
        return None
    try:
        heads = json.loads(config.read_text()).get(_ALIGNMENT_KEY)
    except (ValueError, AttributeError):
        raise TranscribeError("config.json is not a JSON object", source=config) from None
    return [[int(layer), int(head)] for layer, head in heads] if heads else None


def convert_ct2_to_openai(model_dir: Path, out_path: Path) -> Path:
    """Write an openai-whisper checkpoint holding the weights of a CTranslate2 model.

    The file is written to a temporary name beside ``out_path`` and renamed into
    place, so a crash never leaves a half-written checkpoint. Returns ``out_path``.
    """
    import torch

    model_dir, out_path = Path(model_dir), Path(out_path)
    variables = read_ct2_model(model_dir)
    dims = _dims(variables, model_dir)
    state = {k: _compact(v) for k, v in _state_dict(variables, dims, model_dir).items()}
    checkpoint = {
        "dims": dims,
        "model_state_dict": state,
        _ALIGNMENT_KEY: _alignment_heads(model_dir),
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(checkpoint, handle)
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out_path


def load_openai_model(checkpoint_path: Path, device: str = "cpu"):
    """Load a converted checkpoint with openai-whisper, with its alignment heads set.

    ``whisper.load_model`` only knows the heads of its own named models; for a file
    it falls back to "all heads of the last half of the decoder", which skews word
    timestamps. The heads stored by :func:`convert_ct2_to_openai` replace that.
    """
    import torch
    import whisper

    checkpoint_path = Path(checkpoint_path)
    if not checkpoint_path.is_file():
        raise TranscribeError("checkpoint not found", source=checkpoint_path)
    try:
        model = whisper.load_model(str(checkpoint_path), device=device)
        # mmap: read only the small heads entry, not the weights a second time.
        stored = torch.load(checkpoint_path, map_location="cpu", mmap=True, weights_only=True)
    except (RuntimeError, KeyError, TypeError, ValueError, OSError) as error:
        raise TranscribeError(f"not a whisper checkpoint ({error})", source=checkpoint_path) from None
    heads = stored.get(_ALIGNMENT_KEY)
    if heads:
        shape = (model.dims.n_text_layer, model.dims.n_text_head)
        if not all(0 <= layer < shape[0] and 0 <= head < shape[1] for layer, head in heads):
            raise TranscribeError("alignment heads out of range", source=checkpoint_path)
        mask = torch.zeros(shape, dtype=torch.bool)
        for layer, head in heads:
            mask[layer, head] = True
        model.register_buffer("alignment_heads", mask.to_sparse().to(model.device), persistent=False)
    return model
