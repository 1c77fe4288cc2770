"""The newsletter email: the layout in the sandbox, inlined CSS, the checks for HTML email clients break on,
and the message's parts and headers."""

from __future__ import annotations

import email
import re
from html import unescape
from email import policy
from html.parser import HTMLParser

import pytest

from pipeline.longform.newsletter import (GMAIL_CLIP_BYTES, NewsletterError, build_email, check_email_html,
                                          export_newsletter, message_id_for, render_newsletter)

DRAFT = """Subject: Pricing your work: what a podcast taught us
Preheader: Fixed packages beat hourly rates.

## Stop selling your time

Dinda explains why **fixed packages** win. Read [the pricing guide](https://acme.example/pricing)
or write to [Budi](mailto:budi@acme.example).

![Dinda at the microphone](https://acme.example/dinda.jpg)

- Price the result
- Not the hours
"""

DRAFT_ID = """Subject: Cara menentukan harga — “jasa” yang Anda jual
Preheader: Paket tetap mengalahkan tarif per jam, kata Dinda.

## Berhenti menjual waktu

Menurut Dinda, harga “paket” lebih mudah dipahami klien. Baca [panduannya](https://acme.example/harga).
"""

CLIENT = {"client_name": "Acme Podcast", "language": "en"}


def build(text=DRAFT, **overrides):
    arguments = dict(CLIENT, sender="Acme Podcast <news@acme.example>", recipients=["a@x.example", "b@y.example"],
                     message_id_key="post-17")
    return build_email(text, **{**arguments, **overrides})


def client_layout(tmp_path, source: str):
    (tmp_path / "email").mkdir(exist_ok=True)
    (tmp_path / "email" / "newsletter.html.j2").write_text(source, encoding="utf-8")
    return tmp_path


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.srcs = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "href" in attrs:
            self.hrefs.append(attrs["href"])
        if "src" in attrs:
            self.srcs.append(attrs["src"])


def links_in(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


# --- the layout ----------------------------------------------------------------------------------------

def test_the_shipped_layout_places_the_draft_in_a_responsive_email():
    newsletter = render_newsletter(DRAFT, **CLIENT)
    html = newsletter.html
    assert '<html lang="en">' in html
    assert "<title>Pricing your work: what a podcast taught us</title>" in html
    assert "<h2" in html and "Stop selling your time" in html and "<strong>fixed packages</strong>" in html
    assert "Acme Podcast" in html
    assert "@media only screen and (max-width: 620px)" in html  # the mobile rules stay in <style>
    assert re.search(r'<p style="[^"]*margin: 0 0 16px', html)  # the rest is inlined into each element
    assert check_email_html(html) == []


def test_the_preheader_is_hidden_preview_text_at_the_top_of_the_body():
    html = render_newsletter(DRAFT, **CLIENT).html
    body = html[html.index("<body"):]
    first = re.search(r"<div[^>]*>([^<]*)</div>", body)
    assert first[1] == "Fixed packages beat hourly rates."
    assert "display: none" in first[0]


def test_a_draft_without_a_preheader_has_no_hidden_text():
    html = render_newsletter("Subject: Hello\n\nJust text.\n", **CLIENT).html
    assert "display: none" not in html


def test_a_draft_without_a_subject_is_refused():
    with pytest.raises(NewsletterError, match="no 'Subject:'"):
        render_newsletter("Preheader: only this\n\nText.\n", **CLIENT)


def test_header_values_are_escaped_in_the_html():
    html = render_newsletter('Subject: Tips <b>& "tricks"</b>\n\nText.\n', **CLIENT).html
    title = re.search(r"<title>(.*)</title>", html)[1]
    assert "<b>" not in html and unescape(title) == 'Tips <b>& "tricks"</b>'


def test_a_clients_layout_replaces_the_shipped_one(tmp_path):
    folder = client_layout(tmp_path, "<!DOCTYPE html>\n<html lang=\"{{ language }}\"><head><title>{{ subject }}</title>"
                                     "<style>.c { color: #123456; }</style></head>\n"
                                     "<body><div class=\"c\">{{ client_name }}: {{ content }}</div></body></html>\n")
    newsletter = render_newsletter(DRAFT, templates_dir=folder, **CLIENT)
    assert newsletter.layout == str(folder / "email" / "newsletter.html.j2")
    assert '<div class="c" style="color: #123456;">Acme Podcast: ' in newsletter.html


def test_a_client_folder_without_a_layout_uses_the_shipped_one(tmp_path):
    newsletter = render_newsletter(DRAFT, templates_dir=tmp_path, **CLIENT)
    assert newsletter.layout.endswith("templates/email/newsletter.html.j2")


def test_the_sandbox_blocks_unsafe_attributes(tmp_path):
    folder = client_layout(tmp_path, "<html>\n<body>\n{{ subject.__class__.__mro__ }}\n</body></html>\n")
    with pytest.raises(NewsletterError) as error:
        render_newsletter(DRAFT, templates_dir=folder, **CLIENT)
    message = str(error.value)
    assert "newsletter.html.j2" in message and "unsafe" in message and "line 3" in message
    assert "\n" not in message


def test_a_misspelt_variable_names_its_line(tmp_path):
    folder = client_layout(tmp_path, "<html>\n<body>{{ contnet }}</body></html>\n")
    with pytest.raises(NewsletterError, match=r"newsletter\.html\.j2: .*'contnet' is undefined.*line 2"):
        render_newsletter(DRAFT, templates_dir=folder, **CLIENT)


def test_a_syntax_error_names_its_line(tmp_path):
    folder = client_layout(tmp_path, "<html>\n<body>\n{% if subject %}\n</body></html>\n")
    with pytest.raises(NewsletterError, match=r"newsletter\.html\.j2: line \d: .*endif"):
        render_newsletter(DRAFT, templates_dir=folder, **CLIENT)


def test_a_layout_that_loops_too_long_is_stopped(tmp_path):
    folder = client_layout(tmp_path, "{% for i in range(100000) %}{% for j in range(100000) %}"
                                     "{% endfor %}{% endfor %}\n")
    with pytest.raises(NewsletterError, match="template steps"):
        render_newsletter(DRAFT, templates_dir=folder, **CLIENT)


def test_a_layout_rendering_html_email_clients_break_on_is_refused(tmp_path):
    source = "<!DOCTYPE html>\n<html>\n<head>\n<title>{{ subject }}</title>\n</head>\n<body>\n"
    source += "<div>\n" * 3 + "</div>\n" * 3
    source += "<script>track()</script>\n<iframe src=\"https://x.example\"></iframe>\n{{ content }}\n</body>\n</html>\n"
    folder = client_layout(tmp_path, source)
    with pytest.raises(NewsletterError) as error:
        render_newsletter("Subject: S\n\nOne line.\n", templates_dir=folder, **CLIENT)
    layout = folder / "email" / "newsletter.html.j2"
    assert str(error.value) == (f"{layout} renders HTML email clients break on: line 13: <script> is removed by "
                                "email clients (and 1 more)")


# --- what email clients break on, with the line of each ------------------------------------------------

def lines(*body: str) -> str:
    return "\n".join(["<html>", "<body>", *body, "</body>", "</html>"])


@pytest.mark.parametrize(("markup", "problem"), [
    ("<script>alert(1)</script>", "line 4: <script> is removed by email clients"),
    ('<iframe src="https://video.example"></iframe>', "line 4: <iframe> is removed by email clients"),
    ('<form action="https://x.example"></form>', "line 4: <form> does not work in most email clients"),
    ('<input type="text">', "line 4: <input> does not work in most email clients"),
    ('<link rel="stylesheet" href="https://x.example/a.css">', "line 4: <link rel=stylesheet> (external CSS)"),
    ('<div style="top: 0; position:absolute">x</div>', "line 4: 'position: absolute' is removed"),
    ('<img src="https://x.example/a.png">', "line 4: <img> has no alt text"),
    ("<table>", "line 4: <table> is not closed before </body> on line 5"),
    ("<div><span>x</div>", "line 4: <span> is not closed before </div> on line 4"),
    ("</p>", "line 4: </p> closes nothing"),
])
def test_each_problem_is_reported_with_its_line(markup, problem):
    found = check_email_html(lines("<p>before</p>", markup))
    assert len(found) == 1 and found[0].startswith(problem), found


def test_a_positioned_rule_inside_a_style_block_is_reported_at_its_own_line():
    html = "<html>\n<head>\n<style>\n.a { color: red; }\n.b {\n  position: fixed;\n}\n</style>\n</head>\n</html>"
    assert check_email_html(html) == ["line 6: 'position: fixed' is removed by email clients (Gmail, Outlook)"]


def test_an_image_with_an_empty_alt_is_decorative_and_fine():
    assert check_email_html(lines('<img src="https://x.example/line.png" alt="">')) == []


def test_an_element_left_open_at_the_end_is_reported_at_its_line():
    assert check_email_html("<html>\n<body>\n<div>\n<p>text</p>") == [
        "line 1: <html> is never closed", "line 2: <body> is never closed", "line 3: <div> is never closed"]


def test_void_and_self_closed_elements_need_no_closing_tag():
    assert check_email_html(lines("<p>a<br>b<br/>c</p>", '<hr>', '<meta charset="utf-8">')) == []


def test_html_past_gmails_clipping_size_is_reported_at_the_line_where_it_is_crossed():
    paragraph = "<p>" + "x" * 1000 + "</p>"
    html = lines(*[paragraph] * 110)
    problems = check_email_html(html)
    crossing_line = html.encode()[:GMAIL_CLIP_BYTES].count(b"\n") + 1
    assert len(problems) == 1
    assert problems[0].startswith(f"line {crossing_line}: the HTML passes 102 KB here")
    assert "[Message clipped]" in problems[0]
    assert check_email_html(lines(*[paragraph] * 90)) == []


def test_a_draft_too_long_for_gmail_is_refused_before_sending():
    long_draft = "Subject: Long\n\n" + "\n\n".join(f"Paragraph {i} " + "word " * 200 for i in range(120))
    with pytest.raises(NewsletterError, match="passes 102 KB"):
        build(long_draft)


# --- the email ------------------------------------------------------------------------------------------

def test_the_email_has_a_plain_text_part_first_and_the_html_part_last():
    message = build()
    assert message.get_content_type() == "multipart/alternative"
    plain, html = list(message.iter_parts())
    assert plain.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert "Stop selling your time" in plain.get_content()
    assert "the pricing guide (https://acme.example/pricing)" in plain.get_content()
    assert "<h2" in html.get_content()


def test_the_headers_come_from_the_draft_and_the_arguments():
    message = build(reply_to="dinda@acme.example")
    assert message["Subject"] == "Pricing your work: what a podcast taught us"
    assert message["From"] == "Acme Podcast <news@acme.example>"
    assert message["To"] == "undisclosed-recipients:;"  # subscribers never see each other's addresses
    assert message["Reply-To"] == "dinda@acme.example"
    assert message["Date"]
    assert message["MIME-Version"] == "1.0"
    assert message["List-Unsubscribe"] is None  # never invented


def test_a_single_recipient_is_named_in_the_to_header():
    assert build(recipients=["va@acme.example"])["To"] == "va@acme.example"


def test_list_unsubscribe_only_when_configured():
    message = build(list_unsubscribe="<mailto:leave@acme.example>")
    assert message["List-Unsubscribe"] == "<mailto:leave@acme.example>"


def test_the_message_id_is_stable_per_key_and_uses_the_senders_domain():
    first, again, other = build(), build(), build(message_id_key="post-18")
    assert first["Message-ID"] == again["Message-ID"] == message_id_for("post-17", "news@acme.example")
    assert first["Message-ID"] != other["Message-ID"]
    assert re.fullmatch(r"<castmill\.[0-9a-f]{32}@acme\.example>", first["Message-ID"])


def test_a_sender_without_a_domain_cannot_make_a_message_id():
    with pytest.raises(NewsletterError, match="no domain"):
        message_id_for("post-17", "news")


def test_indonesian_text_is_utf8_in_every_part_and_header():
    message = build(DRAFT_ID, language="id", sender="Podcast Ñusantara <news@acme.example>")
    raw = message.as_bytes()
    raw.decode("ascii")  # everything on the wire is 7-bit: RFC 2047 headers, encoded bodies
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "Cara menentukan harga — “jasa” yang Anda jual"
    assert parsed["From"].addresses[0].display_name == "Podcast Ñusantara"
    plain, html = list(parsed.iter_parts())
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert "harga “paket” lebih mudah" in plain.get_content()
    assert "harga “paket” lebih mudah" in html.get_content()
    assert '<html lang="id">' in html.get_content()


def test_nothing_is_added_to_the_links_or_images():
    html = build().get_body(("html",)).get_content()
    found = links_in(html)
    assert found.hrefs == ["https://acme.example/pricing", "mailto:budi@acme.example"]
    assert found.srcs == ["https://acme.example/dinda.jpg"]


def test_an_email_needs_recipients():
    with pytest.raises(NewsletterError, match="no recipients"):
        build(recipients=[])


def test_export_writes_the_html_and_the_text_for_an_email_platform(tmp_path):
    html_path, text_path = export_newsletter(DRAFT_ID, client_name="Acme", language="id", folder=tmp_path / "out",
                                             name="2026-12-issue")
    assert html_path == tmp_path / "out" / "2026-12-issue.html"
    assert text_path == tmp_path / "out" / "2026-12-issue.txt"
    assert '<html lang="id">' in html_path.read_text(encoding="utf-8")
    assert "“paket”" in text_path.read_text(encoding="utf-8")
