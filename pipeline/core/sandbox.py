"""Rendering an untrusted Jinja2 template with limits: a line-step budget and an output cap.

Jinja2's ``SandboxedEnvironment`` blocks unsafe attributes but not a template that loops for a very
long time or writes without end; ``render_with_budget`` stops both. Post templates
(``drafts.templates``) and newsletter layouts (``longform.newsletter``) render through it and turn
``BudgetExceeded`` into their own one-line errors, with ``error_line`` naming the template's line.
"""

from __future__ import annotations

import sys
from pathlib import Path


class BudgetExceeded(Exception):
    """The template ran too many lines or wrote too much; the message says which."""


def render_with_budget(template, context: dict, path: str, *, step_budget: int, max_chars: int) -> str:
    """Render while counting executed template lines (this file and any it extends, includes or imports)."""
    steps = 0
    folders = tuple(str(Path(folder)) + "/" for folder in template.environment.loader.searchpath)

    def local(frame, event, arg):
        nonlocal steps
        steps += 1
        if steps > step_budget:
            raise BudgetExceeded(f"stopped after {step_budget:,} template steps (a loop that runs too long)")
        return local

    def tracer(frame, event, arg):
        filename = frame.f_code.co_filename
        return local if filename == path or filename.startswith(folders) else None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        out, size = [], 0
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > max_chars:
                raise BudgetExceeded(f"output passed {max_chars:,} characters")
            out.append(chunk)
        return "".join(out)
    finally:
        sys.settrace(previous)


def error_line(exc: BaseException, path: str) -> int | str:
    """The line of template ``path`` where ``exc`` was raised ("?" when the traceback does not pass it)."""
    tb, line = exc.__traceback__, "?"
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
