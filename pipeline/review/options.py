"""Review's options: one frozen object whose defaults the library, the CLI and the dashboard use."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.errors import ConfigError


@dataclass(frozen=True)
class ReviewOptions:
    # Characters per post part an edit may hold: far above every platform's limit, only stops abuse.
    max_text_chars: int = 100_000
    # Characters per comment.
    max_comment_chars: int = 10_000

    def __post_init__(self) -> None:
        if self.max_text_chars < 1 or self.max_comment_chars < 1:
            raise ConfigError("max_text_chars and max_comment_chars must be at least 1")


DEFAULTS = ReviewOptions()
