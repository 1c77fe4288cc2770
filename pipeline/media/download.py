"""Streamed, resumable HTTP downloads with a size cap and a content-type check.

A URL is user-supplied unless the caller says ``trusted=True`` (the model hub): it is then fetched through
``safe_fetch`` (public addresses only unless ``[network] allow`` admits them, every redirect checked).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import requests
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from pipeline.core.errors import IngestError
from pipeline.core.settings import NetworkSettings
from pipeline.media.safe_fetch import RefusedURL, fetch, safe_session

CHUNK_BYTES = 1 << 20
USER_AGENT = "castmill/0.1 (+podcast to social pipeline)"


# A connection cut mid-body surfaces as ChunkedEncodingError; the retry resumes the .part file.
RETRYABLE_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class RetryableHTTPError(Exception):
    """A 5xx or connection failure worth another try."""


@dataclass(frozen=True)
class Downloaded:
    path: Path
    content_type: str
    size: int


def _check_type(url: str, content_type: str, allowed: tuple[str, ...] | None, error_cls) -> None:
    if allowed is None:
        return
    base = content_type.split(";")[0].strip().lower()
    if not any(base.startswith(prefix) for prefix in allowed):
        raise error_cls(f"server sent {base or 'no content type'}, not audio or video", source=url)


@retry(
    retry=retry_if_exception_type((RetryableHTTPError, *RETRYABLE_ERRORS)),
    stop=stop_after_attempt(3),
    wait=wait_exponential(multiplier=0.5, max=8),
    reraise=True,
)
def _fetch(url, dest, *, max_bytes, timeout, allowed_types, error_cls, get) -> Downloaded:
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    with get(url, headers=headers, stream=True, timeout=timeout) as response:
        if response.status_code >= 500:
            raise RetryableHTTPError(f"HTTP {response.status_code}")
        if response.status_code == 416 and have:  # we already hold the whole file
            os.replace(part, dest)
            return Downloaded(dest, "", dest.stat().st_size)
        if response.status_code >= 400:
            error = error_cls(f"download failed: HTTP {response.status_code}", source=url)
            error.http_status = response.status_code
            raise error
        content_type = response.headers.get("Content-Type", "")
        _check_type(url, content_type, allowed_types, error_cls)
        resumed = response.status_code == 206
        offset = have if resumed else 0
        total = offset + _announced_length(response)
        if total > max_bytes:
            raise error_cls(f"file is {total:,} bytes, over the {max_bytes:,}-byte limit", source=url)
        written = _stream_to(part, response, offset, max_bytes, url, error_cls)
    os.replace(part, dest)
    return Downloaded(dest, content_type, written)


def _announced_length(response) -> int:
    """Content-Length, or 0 when missing or garbled (the streamed count still enforces the cap)."""
    try:
        return max(0, int(response.headers.get("Content-Length") or 0))
    except ValueError:
        return 0


def _stream_to(part: Path, response, offset: int, max_bytes: int, url: str, error_cls) -> int:
    written = offset
    with part.open("ab" if offset else "wb") as handle:
        for chunk in response.iter_content(CHUNK_BYTES):
            written += len(chunk)
            if written > max_bytes:
                handle.close()
                part.unlink(missing_ok=True)
                raise error_cls(f"download passed the {max_bytes:,}-byte limit", source=url)
            handle.write(chunk)
    return written


def download(
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    timeout: float = 30,
    allowed_types: tuple[str, ...] | None = None,
    error_cls: type = IngestError,
    what: str = "URL",
    network: NetworkSettings | None = None,
    trusted: bool = False,
) -> Downloaded:
    """Download ``url`` to ``dest`` atomically, resuming a previous ``.part`` file.

    ``allowed_types`` are Content-Type prefixes; anything else is refused
    before a byte is written (an HTML error page served as an enclosure).

    ``url`` is fetched through ``safe_fetch`` with the ``[network]`` settings ``network`` (default: loaded);
    a refusal is one ``error_cls`` line that calls the URL ``what`` ("enclosure URL"). ``trusted=True`` is
    only for URLs from Castmill's own configuration (the model hub): fetched as they are.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    with requests.Session() if trusted else safe_session(network) as session:
        if trusted:
            def get(target, **kwargs):
                return session.get(target, **kwargs)
        else:
            def get(target, **kwargs):
                return fetch(session, target, what=what, **kwargs)
        try:
            return _fetch(
                url, dest, max_bytes=max_bytes, timeout=timeout, allowed_types=allowed_types, error_cls=error_cls,
                get=get,
            )
        except RefusedURL as exc:
            raise error_cls(exc.reason, source=url) from None
        except (RetryableHTTPError, requests.RequestException) as exc:
            raise error_cls(f"download failed: {_short(exc)}", source=url) from exc


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()
