"""A newsletter email from a long-form draft: a plain-text part, then the HTML part in an email layout.

The draft is a long-form document (``pipeline.platforms.document``) whose header gives ``Subject`` and, optionally,
``Preheader`` (the preview line inboxes show after the subject). Its Markdown becomes HTML placed in
the layout ``templates/email/newsletter.html.j2``; a client's own ``<templates_dir>/email/newsletter.html.j2``
replaces it. Layouts are client-editable, so they render in Jinja2's sandbox the way post templates do:
unsafe attributes blocked, ``StrictUndefined``, a step budget and an output cap, and autoescaping (this
is HTML). The layout's CSS is then inlined into each element with css-inline; its @media rules stay in
a ``<style>`` block for the clients that honour them.

A list of recipients is not written into the To header (``to_header``): each subscriber would see
everyone's address. Nothing is added that the draft or the account did not ask for: no tracking pixel,
no rewritten link, no invented unsubscribe header. ``check_email_html`` lists what email clients break on, with the line of
the rendered HTML; a layout whose HTML has such a problem is refused before anything is sent.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime, parseaddr
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from pipeline.core.errors import CastmillError
from pipeline.core.sandbox import BudgetExceeded, error_line, render_with_budget
from pipeline.platforms.document import parse, to_html, to_text

LAYOUT = "newsletter.html.j2"
BUILTIN_DIR = Path(__file__).resolve().parents[2] / "templates" / "email"
# Template code lines executed per render (the shipped layout runs a few dozen), and the longest output.
STEP_BUDGET = 200_000
MAX_OUTPUT_CHARS = 1_000_000
# Gmail shows "[Message clipped]" and hides the rest of an HTML body past about 102 KB
# (https://www.spamresource.com/2022/01/what-is-gmail-clipping-and-what-to-do.html).
GMAIL_CLIP_BYTES = 102 * 1024

# Elements email clients remove or disable (https://www.caniemail.com/ lists each client's support).
REMOVED_ELEMENTS = {
    "script": "<script> is removed by email clients",
    "iframe": "<iframe> is removed by email clients",
    "form": "<form> does not work in most email clients (Gmail and Outlook disable it)",
    "input": "<input> does not work in most email clients (Gmail and Outlook disable it)",
}
UNDISCLOSED = "undisclosed-recipients:;"  # an empty address group (RFC 5322 3.4)
VOID_ELEMENTS = frozenset("area base br col embed hr img input link meta source track wbr".split())
POSITIONED = re.compile(r"position\s*:\s*(absolute|fixed)", re.IGNORECASE)


class NewsletterError(CastmillError):
    """A newsletter draft or its layout cannot become an email; the message names the file and line."""


@dataclass(frozen=True)
class Newsletter:
    subject: str
    preheader: str
    html: str  # the finished HTML part: the layout rendered, its CSS inlined
    text: str  # the plain-text part
    layout: str  # the layout file that was rendered


def render_newsletter(text: str, *, client_name: str, language: str, templates_dir: str | Path = "") -> Newsletter:
    """The draft's subject, preheader, HTML and plain text; refuses a layout email clients break on."""
    document = parse(text)
    subject = " ".join(document.get("subject").split())
    if not subject:
        raise NewsletterError("the draft has no 'Subject:' line in its header")
    preheader = " ".join(document.get("preheader").split())
    env = layout_environment(templates_dir)
    context = {"subject": subject, "preheader": preheader, "content": Markup(to_html(document.body)),
               "client_name": client_name, "language": language or "en"}
    rendered, layout = render_layout(env, context)
    refuse_broken_html(rendered, layout)
    html = inline_css(rendered)
    refuse_broken_html(html, layout)  # inlining adds bytes: the finished HTML may pass Gmail's limit
    return Newsletter(subject, preheader, html, to_text(document.body), layout)


def build_email(text: str, *, client_name: str, language: str, templates_dir: str | Path = "", sender: str,
                recipients: list[str] | tuple[str, ...], reply_to: str = "", message_id_key: str,
                list_unsubscribe: str = "", date: datetime | None = None) -> EmailMessage:
    """The newsletter as a multipart/alternative message: plain text first, HTML last (the preferred part)."""
    newsletter = render_newsletter(text, client_name=client_name, language=language, templates_dir=templates_dir)
    return email_message(newsletter, sender=sender, recipients=recipients, reply_to=reply_to,
                         message_id=message_id_for(message_id_key, sender), list_unsubscribe=list_unsubscribe,
                         date=date)


def email_message(newsletter: Newsletter, *, sender: str, recipients, reply_to: str = "", message_id: str,
                  list_unsubscribe: str = "", date: datetime | None = None) -> EmailMessage:
    if not recipients:
        raise NewsletterError("the newsletter has no recipients")
    message = EmailMessage()  # policy.default: non-ASCII headers are RFC 2047-encoded, parts are UTF-8
    message["Subject"] = newsletter.subject
    message["From"] = sender
    message["To"] = to_header(recipients)
    if reply_to:
        message["Reply-To"] = reply_to
    message["Date"] = format_datetime(date or datetime.now().astimezone())
    message["Message-ID"] = message_id
    if list_unsubscribe:
        message["List-Unsubscribe"] = list_unsubscribe
    message["MIME-Version"] = "1.0"
    message.make_alternative()
    message.attach(_part(newsletter.text, "plain"))
    message.attach(_part(newsletter.html, "html"))
    return message


def to_header(recipients) -> str:
    """One recipient is named; a list is not, so subscribers never see each other's addresses (the
    addresses go in the SMTP envelope only, as Bcc would)."""
    return recipients[0] if len(recipients) == 1 else UNDISCLOSED


def _part(content: str, subtype: str) -> MIMEPart:
    part = MIMEPart()
    part.set_content(content, subtype=subtype, charset="utf-8")
    return part


def message_id_for(key: str, sender: str) -> str:
    """The same Message-ID for every attempt at the same post: a hash of its key at the sender's domain."""
    _, at, domain = parseaddr(sender)[1].rpartition("@")
    domain = domain.strip().lower()
    if not at or not domain:
        raise NewsletterError(f"the sender {sender!r} has no domain for the Message-ID")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<castmill.{digest}@{domain}>"


def export_newsletter(text: str, *, client_name: str, language: str, templates_dir: str | Path = "",
                      folder: str | Path, name: str = "newsletter") -> tuple[Path, Path]:
    """``<name>.html`` and ``<name>.txt`` in ``folder``, for a client who sends from their own email platform."""
    newsletter = render_newsletter(text, client_name=client_name, language=language, templates_dir=templates_dir)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    html_path, text_path = folder / f"{name}.html", folder / f"{name}.txt"
    html_path.write_text(newsletter.html, encoding="utf-8")
    text_path.write_text(newsletter.text, encoding="utf-8")
    return html_path, text_path


# --- the layout, in the sandbox -----------------------------------------------------------------------

def layout_environment(templates_dir: str | Path = "") -> SandboxedEnvironment:
    """The client's email folder first, then the shipped layout."""
    search = [str(Path(templates_dir) / "email")] if templates_dir else []
    return SandboxedEnvironment(loader=FileSystemLoader(search + [str(BUILTIN_DIR)], encoding="utf-8"),
                                undefined=StrictUndefined, autoescape=True, keep_trailing_newline=True)


def render_layout(env: SandboxedEnvironment, context: dict, name: str = LAYOUT) -> tuple[str, str]:
    """The rendered HTML and the layout file it came from; every failure is one line naming file and line."""
    try:
        template = env.get_template(name)
    except TemplateSyntaxError as exc:
        raise NewsletterError(f"line {exc.lineno}: {exc.message}", source=exc.filename or name) from exc
    except UnicodeDecodeError as exc:
        raise NewsletterError("is not UTF-8 text", source=name) from exc
    path = template.filename or name
    try:
        return render_with_budget(template, context, path, step_budget=STEP_BUDGET, max_chars=MAX_OUTPUT_CHARS), path
    except BudgetExceeded as exc:
        raise NewsletterError(str(exc), source=path) from exc
    except SecurityError as exc:
        raise NewsletterError(f"blocked by the sandbox: {exc} (line {error_line(exc, path)})", source=path) from exc
    except TemplateSyntaxError as exc:
        raise NewsletterError(f"line {exc.lineno}: {exc.message}", source=exc.filename or path) from exc
    except (UndefinedError, TemplateError, TypeError, ValueError, ZeroDivisionError, OverflowError,
            RecursionError) as exc:
        raise NewsletterError(f"{type(exc).__name__}: {exc} (line {error_line(exc, path)})", source=path) from exc


def inline_css(html: str) -> str:
    """The ``<style>`` rules copied into each element's style attribute (Gmail's app and Outlook.com ignore
    much of ``<style>``); @media rules stay in the head. Nothing is fetched from the network."""
    import css_inline

    return css_inline.CSSInliner(keep_at_rules=True, keep_link_tags=True, load_remote_stylesheets=False).inline(html)


def refuse_broken_html(html: str, layout: str) -> None:
    problems = check_email_html(html)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        error = NewsletterError(f"{layout} renders HTML email clients break on: {problems[0]}{more}")
        error.source = layout
        raise error


# --- what email clients break on --------------------------------------------------------------------------

def check_email_html(html: str) -> list[str]:
    """One line per problem, each starting with the line of ``html`` it is on."""
    checker = _EmailHtmlChecker()
    checker.feed(html)
    checker.close()
    problems = checker.problems + checker.unclosed() + _size_problems(html)
    return sorted(problems, key=lambda problem: int(problem.split(":", 1)[0].removeprefix("line ")))


def _size_problems(html: str) -> list[str]:
    data = html.encode("utf-8")
    if len(data) <= GMAIL_CLIP_BYTES:
        return []
    line = data[:GMAIL_CLIP_BYTES].count(b"\n") + 1
    return [f"line {line}: the HTML passes 102 KB here ({len(data) / 1024:.0f} KB in all); Gmail clips the rest "
            "behind '[Message clipped]'"]


class _EmailHtmlChecker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.open: list[tuple[str, int]] = []  # (tag, line) of each element not closed yet
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        self._check_element(tag, dict(attrs))
        if tag not in VOID_ELEMENTS:
            self.open.append((tag, self.getpos()[0]))
        self.in_style = tag == "style"

    def handle_startendtag(self, tag, attrs):
        self._check_element(tag, dict(attrs))

    def handle_endtag(self, tag):
        line = self.getpos()[0]
        self.in_style = False
        if tag in VOID_ELEMENTS:
            return
        if not any(name == tag for name, _ in self.open):
            self.problems.append(f"line {line}: </{tag}> closes nothing (no <{tag}> is open)")
            return
        name, opened = self.open.pop()
        while name != tag:
            self.problems.append(f"line {opened}: <{name}> is not closed before </{tag}> on line {line}")
            name, opened = self.open.pop()

    def handle_data(self, data):
        if self.in_style:
            first = self.getpos()[0]
            for match in POSITIONED.finditer(data):
                line = first + data.count("\n", 0, match.start())
                self.problems.append(f"line {line}: {_positioned(match)}")

    def _check_element(self, tag, attrs):
        line = self.getpos()[0]
        if tag in REMOVED_ELEMENTS:
            self.problems.append(f"line {line}: {REMOVED_ELEMENTS[tag]}")
        if tag == "link" and "stylesheet" in (attrs.get("rel") or "").lower().split():
            self.problems.append(f"line {line}: <link rel=stylesheet> (external CSS) is not loaded by most email "
                                 "clients; put the styles in the layout's <style>")
        if tag == "img" and attrs.get("alt") is None:
            self.problems.append(f"line {line}: <img> has no alt text (shown when images are blocked)")
        if match := POSITIONED.search(attrs.get("style") or ""):
            self.problems.append(f"line {line}: {_positioned(match)}")

    def unclosed(self) -> list[str]:
        return [f"line {line}: <{tag}> is never closed" for tag, line in self.open]


def _positioned(match: re.Match) -> str:
    return f"'position: {match[1].lower()}' is removed by email clients (Gmail, Outlook)"
