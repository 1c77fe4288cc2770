"""Post templates are untrusted: the sandbox, strict variables, budgets and clear errors."""

from __future__ import annotations

import pytest

from pipeline.drafts.templates import (BUILTIN_DIR, STEP_BUDGET, TemplateProblem, check_template_file, environment,
                                       render, template_name)
from pipeline.platforms import get_platform

CONTEXT = {
    "episode": {"title": "Pricing", "number": None, "guest": None, "link": "https://example.com/1",
                "published": None, "duration": "10:00"},
    "highlight": {"quote": "Price the result.", "title": "Price it", "reasons": [], "key_phrases": ["pricing"],
                  "hashtags": [], "start": "1:00", "end": "1:30", "text": "…", "speaker": None, "quote_by": None,
                  "speakers": []},
    "client": {"name": "Acme", "handles": {}, "hashtags": [], "call_to_action": "", "brand_voice": "", "language": "en"},
    "platform": {"name": "x", "label": "X", "text_limit": 280},
    "language": "en",
    # What the long-form templates (show notes, newsletter, blog) see; None for short posts.
    "notes": {"title": "Pricing", "summary": "Pricing the result pays.", "takeaways": ["Price the result"],
              "chapters": [{"start": "0:00", "title": "Pricing", "summary": "Why it matters."},
                           {"start": "4:00", "title": "Packages", "summary": ""}],
              "quotes": [{"start": "1:00", "text": "Price the result.", "by": None, "link": "https://example.com/1#t=60"}],
              "links": [], "names": [],
              "speakers": [], "missing": [], "slug": "pricing", "description": "Pricing the result pays."},
}


def write(folder, name: str, body: str | bytes):
    path = folder / name
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return path


@pytest.mark.parametrize("payload", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ ''.__class__ }}",
    "{{ episode.__class__.__init__.__globals__['os'] }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{% set x = namespace() %}{{ x.__init__.__globals__ }}",
])
def test_ssti_payloads_are_blocked_with_a_clear_error(tmp_path, payload):
    path = write(tmp_path, "x.j2", payload)
    with pytest.raises(TemplateProblem) as caught:
        check_template_file(path, CONTEXT)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and any(w in message for w in ("sandbox", "unsafe", "has no attribute"))


def test_a_payload_that_would_run_a_command_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = write(tmp_path, "x.j2", "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}")
    with pytest.raises(TemplateProblem):
        check_template_file(path, CONTEXT)
    assert not marker.exists()


def test_huge_range_is_refused_by_the_sandbox(tmp_path):
    path = write(tmp_path, "x.j2", "{% for i in range(10**9) %}{{ i }}{% endfor %}")
    with pytest.raises(TemplateProblem, match="blocked by the sandbox: Range too big"):
        check_template_file(path, CONTEXT)


def test_loops_that_run_too_long_hit_the_step_budget(tmp_path):
    path = write(tmp_path, "x.j2", "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}")
    with pytest.raises(TemplateProblem, match=f"stopped after {STEP_BUDGET:,} template steps"):
        check_template_file(path, CONTEXT)


def test_output_is_capped(tmp_path):
    path = write(tmp_path, "x.j2", "{% for i in range(50000) %}{{ 'xxxxx' }}{% endfor %}")
    with pytest.raises(TemplateProblem, match="output passed 100,000 characters"):
        check_template_file(path, CONTEXT)


def test_undefined_variable_names_the_file_and_line(tmp_path):
    path = write(tmp_path, "x.j2", "line one\n{{ episode.guestt }}\n")
    with pytest.raises(TemplateProblem) as caught:
        check_template_file(path, CONTEXT)
    assert str(caught.value) == f"{path}: 'dict object' has no attribute 'guestt' (line 2)"


def test_syntax_error_names_the_file_and_line(tmp_path):
    path = write(tmp_path, "x.j2", "ok\n{% if episode.title %}\nunclosed\n")
    with pytest.raises(TemplateProblem, match=rf"^{path}: line \d+: Unexpected end of template"):
        check_template_file(path, CONTEXT)


def test_non_utf8_template_is_named(tmp_path):
    path = write(tmp_path, "x.j2", "caf\xe9".encode("latin-1"))
    with pytest.raises(TemplateProblem, match=rf"^{path}: is not UTF-8 text$"):
        check_template_file(path, CONTEXT)


def test_client_templates_override_one_platform_and_language_variants_win(tmp_path):
    (tmp_path / "posts").mkdir()
    write(tmp_path / "posts", "x.j2", "client says {{ highlight.quote }}")
    env = environment(tmp_path)
    assert render(env, template_name(env, "x", "en"), CONTEXT).text == "client says Price the result."
    assert template_name(env, "x", "id") == "x.j2"  # the client's own file beats the shipped Indonesian one
    assert template_name(environment(), "x", "id") == "x.id.j2"
    assert render(env, template_name(env, "linkedin", "en"), CONTEXT).path == str(BUILTIN_DIR / "linkedin.j2")


def test_every_shipped_template_renders_for_episode_and_highlight_posts():
    env = environment()
    for path in sorted(BUILTIN_DIR.glob("*.j2")):
        if path.name.startswith("_"):
            continue
        for highlight in (CONTEXT["highlight"], None):
            text = render(env, path.name, {**CONTEXT, "highlight": highlight}).text
            assert "Pricing" in text and "\n\n\n" not in text and text == text.strip()


def test_shipped_templates_credit_a_named_quote_and_never_a_bare_label():
    env = environment()
    named = {**CONTEXT["highlight"], "speaker": "Dinda", "quote_by": "Dinda", "speakers": ["Dinda"]}
    for path in sorted(BUILTIN_DIR.glob("*.j2")):
        if path.name.startswith("_"):
            continue
        if get_platform(path.name.split(".")[0]).episode_only:  # quotes from the show notes: checked below
            notes = {**CONTEXT["notes"], "quotes": [{**CONTEXT["notes"]["quotes"][0], "by": "Dinda"}]}
            assert "Price the result.” — Dinda" in render(env, path.name, {**CONTEXT, "notes": notes}).text
            continue
        credited = render(env, path.name, {**CONTEXT, "highlight": named}).text
        plain = render(env, path.name, CONTEXT).text
        if "Price the result." in credited:
            assert "Price the result.” — Dinda" in credited, path.name
        assert "S1" not in plain and "—  " not in plain


def test_long_form_quotes_link_to_their_moment_in_the_episode():
    env = environment()
    for name in ("wordpress.j2", "shownotes.j2", "newsletter.id.j2"):
        assert "(https://example.com/1#t=60)" in render(env, name, CONTEXT).text, name
    unlinked = {**CONTEXT["notes"], "quotes": [{**CONTEXT["notes"]["quotes"][0], "link": None}]}
    assert "#t=" not in render(env, "shownotes.j2", {**CONTEXT, "notes": unlinked}).text
