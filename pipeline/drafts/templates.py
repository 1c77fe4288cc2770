"""Post templates: Jinja2's sandbox, strict undefined, a step budget, errors that name file and line.

Clients may edit templates, so a template is untrusted input:
- ``SandboxedEnvironment`` blocks ``__class__``, ``__globals__`` and every other
  unsafe attribute, and caps ``range()`` at 100,000 items;
- ``StrictUndefined`` turns a misspelt variable into an error instead of an empty string;
- a line-step budget stops templates that loop for too long without producing
  output (nested ranges), and the output is capped in size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from pipeline.core.errors import CastmillError
from pipeline.core.sandbox import BudgetExceeded, error_line, render_with_budget

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "templates" / "posts"
# Template code lines executed per render; real post templates run a few hundred.
STEP_BUDGET = 200_000
# Longest rendered post: LinkedIn's 3,000 and Facebook's 63,206 fit with room to spare.
MAX_OUTPUT_CHARS = 100_000


class TemplateProblem(CastmillError):
    """A template cannot be loaded or rendered; the message names the file (and line)."""


@dataclass(frozen=True)
class Rendered:
    text: str
    path: str  # the file that was rendered


def environment(client_dir: str | Path | None = None) -> SandboxedEnvironment:
    """Client templates first, then the shipped ones (so a client can override a single platform)."""
    search = [str(Path(client_dir) / "posts")] if client_dir else []
    return SandboxedEnvironment(
        loader=FileSystemLoader(search + [str(BUILTIN_DIR)], encoding="utf-8"),
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False,
        trim_blocks=False, lstrip_blocks=False,
    )


def template_name(env: SandboxedEnvironment, platform: str, language: str) -> str:
    """The template for a platform: the client's folder first (its language variant, then its
    generic file), then the shipped ones the same way."""
    names = (f"{platform}.{language}.j2", f"{platform}.j2")
    for folder in env.loader.searchpath:
        for name in names:
            if (Path(folder) / name).is_file():
                return name
    raise TemplateProblem(f"no template for platform {platform!r} (looked for {' and '.join(names)})",
                          source=BUILTIN_DIR)


def render(env: SandboxedEnvironment, name: str, context: dict) -> Rendered:
    try:
        template = env.get_template(name)
    except (TemplateSyntaxError, UnicodeDecodeError) as exc:
        raise _load_problem(env, name, exc) from exc
    path = template.filename or name
    try:
        text = render_with_budget(template, context, path, step_budget=STEP_BUDGET, max_chars=MAX_OUTPUT_CHARS)
    except BudgetExceeded as exc:
        raise TemplateProblem(str(exc), source=path) from exc
    except SecurityError as exc:
        raise TemplateProblem(f"blocked by the sandbox: {exc}", source=path) from exc
    except UndefinedError as exc:
        raise TemplateProblem(f"{exc} (line {error_line(exc, path)})", source=path) from exc
    except OverflowError as exc:
        raise TemplateProblem(f"blocked by the sandbox: {exc}", source=path) from exc
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"line {exc.lineno}: {exc.message}", source=exc.filename or path) from exc
    except (TemplateError, TypeError, ValueError, ZeroDivisionError, RecursionError) as exc:
        raise TemplateProblem(f"{type(exc).__name__}: {exc} (line {error_line(exc, path)})", source=path) from exc
    return Rendered(_tidy(text), path)


def _load_problem(env: SandboxedEnvironment, name: str, exc: Exception) -> TemplateProblem:
    if isinstance(exc, UnicodeDecodeError):
        return TemplateProblem("is not UTF-8 text", source=_find(env, name))
    return TemplateProblem(f"line {exc.lineno}: {exc.message}", source=exc.filename or _find(env, name))


def _find(env: SandboxedEnvironment, name: str) -> str:
    for folder in env.loader.searchpath:
        if (Path(folder) / name).is_file():
            return str(Path(folder) / name)
    return name


def _tidy(text: str) -> str:
    """Strip trailing spaces and collapse runs of blank lines left by optional blocks."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out)


def check_template_file(path: Path, context: dict) -> Rendered:
    """Load and render one template file (with its folder and the shipped ones for imports)."""
    path = Path(path)
    if not path.is_file():
        raise TemplateProblem("no such file", source=path)
    env = SandboxedEnvironment(
        loader=FileSystemLoader([str(path.parent), str(BUILTIN_DIR)], encoding="utf-8"),
        undefined=StrictUndefined, autoescape=False,
    )
    return render(env, path.name, context)
