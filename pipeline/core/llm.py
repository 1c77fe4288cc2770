"""A small OpenAI-compatible chat-completions client that answers JSON (optional features only).

Castmill never needs a language model. Highlights (re-ranking, titles) and drafts
(rewriting) may call one when ``[highlights.llm] enabled = true``: ``POST
{base_url}/chat/completions`` with ``response_format: json_object``, timeouts, and
retries with backoff on connection errors, timeouts, 429 and 5xx. Every failure is
one ``LLMError`` line so the caller can fall back to its own result.

The API key is sent only as a bearer header: it is never logged and is redacted from
every error message, including error text echoed back by the server.
"""

from __future__ import annotations

import logging
import re

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from pipeline.core.settings import LLMSettings
from pipeline.core.errors import CastmillError

log = logging.getLogger(__name__)

# Back-off between retries (tests swap in tenacity.wait_none()).
RETRY_WAIT = wait_exponential(multiplier=0.2, max=5)


class LLMError(CastmillError):
    """The LLM endpoint failed or answered something unusable."""


def chat_json(settings: LLMSettings, messages: list[dict], *, purpose: str = "LLM",
              error: type[LLMError] = LLMError, session: requests.Session | None = None) -> str:
    """The model's answer text for ``messages`` (JSON mode, temperature 0), or ``error`` raised.

    ``purpose`` starts every error message ("LLM scorer …", "LLM rewriter …").
    """
    body = {"model": settings.model, "messages": messages, "temperature": 0,
            "response_format": {"type": "json_object"}}
    try:
        if session is not None:
            answer = _call(session, settings, body)
        else:
            with requests.Session() as own:
                answer = _call(own, settings, body)
        return _content(answer, settings)
    except LLMError as exc:
        raise error(str(exc.reason).replace("LLM ", f"{purpose} ", 1), source=exc.source) from None


def strip_fence(content: str) -> str:
    """Some compatible servers ignore response_format and wrap the JSON in a Markdown fence."""
    return re.sub(r"^```(?:json)?\s*|\s*```$", "", content.strip())


class _RetryableStatus(Exception):
    """HTTP 429 or 5xx: worth another try."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"HTTP {status}")
        self.status, self.detail = status, detail


_RETRYABLE = (_RetryableStatus, requests.ConnectionError, requests.Timeout)
_STATUS_HINTS = {401: "check the API key", 403: "check the API key", 404: "check base_url and model"}


def _headers(settings: LLMSettings) -> dict:
    headers = {"Accept": "application/json"}
    key = settings.api_key.strip()
    if key:
        if not key.isprintable() or not key.isascii():
            raise _error(settings, "API key contains characters not allowed in an HTTP header")
        headers["Authorization"] = f"Bearer {key}"
    return headers


def _call(session: requests.Session, settings: LLMSettings, body: dict) -> dict:
    attempts = settings.max_retries + 1
    retrying = Retrying(
        retry=retry_if_exception_type(_RETRYABLE),
        stop=stop_after_attempt(attempts),
        wait=RETRY_WAIT,
        before_sleep=lambda state: log.debug("LLM attempt %d failed, retrying", state.attempt_number),
        reraise=True,
    )
    try:
        return retrying(_post_once, session, settings, body)
    except _RetryableStatus as exc:
        raise _error(settings, f"answered HTTP {exc.status}{exc.detail} after {attempts} attempt(s)") from exc
    except requests.Timeout as exc:
        raise _error(settings, f"timed out after {settings.timeout:g} s ({attempts} attempt(s))") from exc
    except requests.ConnectionError as exc:
        raise _error(settings, f"cannot be reached ({attempts} attempt(s))") from exc
    except requests.RequestException as exc:
        raise _error(settings, f"request failed: {type(exc).__name__}") from exc


def _post_once(session: requests.Session, settings: LLMSettings, body: dict) -> dict:
    url = settings.base_url.rstrip("/") + "/chat/completions"
    response = session.post(url, json=body, headers=_headers(settings), timeout=settings.timeout, allow_redirects=False)
    status = response.status_code
    if status == 429 or status >= 500:
        raise _RetryableStatus(status, _server_detail(response, settings))
    if status >= 300:
        hint = f" ({_STATUS_HINTS[status]})" if status in _STATUS_HINTS else ""
        raise _error(settings, f"answered HTTP {status}{hint}{_server_detail(response, settings)}")
    try:
        return response.json()
    except ValueError:
        raise _error(settings, f"returned a body that is not JSON (HTTP {status})") from None


def _server_detail(response: requests.Response, settings: LLMSettings) -> str:
    """``: <message>`` from an OpenAI error body (``{"error": {"message": ..}}``), else ``""``."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    message = error.get("message") if isinstance(error, dict) else error
    if not isinstance(message, str) or not message.strip():
        return ""
    return ": " + _redact(" ".join(message.split()), settings)[:200]


def _redact(text: str, settings: LLMSettings) -> str:
    key = settings.api_key.strip()
    if key:
        text = text.replace(key, "***")
    # OpenAI echoes a masked key ("sk-abc1****wxyz"): drop that too.
    return re.sub(r"\S*\*{4,}\S*", "***", text)


def _content(answer: dict, settings: LLMSettings) -> str:
    try:
        choice = answer["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise _error(settings, "returned no choices[0].message.content") from None
    if not isinstance(content, str) or not content.strip():
        raise _error(settings, "returned an empty message (no content)")
    if choice.get("finish_reason") == "length":
        raise _error(settings, "returned an answer cut off at the token limit (finish_reason=length)")
    return content


def _error(settings: LLMSettings, what: str) -> LLMError:
    return LLMError(_redact(f"LLM {what}", settings), source=settings.base_url)

