"""The weekly report's best-time section: a PNG heatmap in the one-file HTML, a table in both, the same
bytes for the same data."""

from __future__ import annotations

import base64
import hashlib
import io
import re

from PIL import Image

from pipeline.publish.best_time_plot import SIZE, heatmap_png
from pipeline.publish.reports import build_weekly, render_weekly
from pipeline.publish.slot_proposals import propose
from pipeline.store.db import Database
from tests.helpers.calendar import staff_identity
from tests.helpers.engagement import NOW
from tests.publish.best_time.conftest import seed_truth

PNG_URI = re.compile(r'<img class="heatmap" src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def weekly(db, fmt: str) -> str:
    with db.session() as session:
        return render_weekly(build_weekly(session, "acme", now=NOW), fmt)


def test_the_html_report_embeds_the_heatmap_and_the_proposal_table(truth):
    html = weekly(truth, "html")
    [encoded] = PNG_URI.findall(html)  # linkedin has a heatmap; x (no posts) has none
    image = Image.open(io.BytesIO(base64.b64decode(encoded)))
    image.load()
    assert image.format == "PNG" and image.size == SIZE == (800, 360)
    assert "Software" not in image.info  # nothing that changes between machines or versions
    table = html[html.index('<table class="best-time" data-platform="linkedin">'):]
    table = table[:table.index("</table>")]
    assert re.search(r"<td>tue 09:00</td><td>tue 09-12</td><td class=\"num\">12</td>.*<strong>new</strong>, replaces",
                     table)
    assert "<td>thu 17:00</td><td>thu 15-18</td>" in table and table.count("<tr>") == 4  # header + 3 slots
    assert "No proposal: 0 published posts with numbers on x, 30 needed." in html
    assert "src=\"http" not in html and "<script" not in html  # one self-contained file


def test_the_markdown_report_has_the_table_and_points_to_the_html(truth):
    text = weekly(truth, "md")
    section = text[text.index("## Best time to post"):text.index("## All posts")]
    assert re.search(r"\| tue 09:00 \| tue 09-12 \| 12 \| \d\.\d\d% \| \d\.\d\d% – \d\.\d\d% \| new, replaces "
                     r"(mon|wed|fri) 12:00 \|", section)
    assert "| thu 17:00 | thu 15-18 | 12 |" in section
    assert "The heatmap of the estimates is in the HTML version of this report." in section
    assert "To decide on it: `castmill slots propose --client acme --platform linkedin`." in section
    with truth.session() as session:
        va = staff_identity(session, "va@castmill.test", "va")
        proposal_id = {o.analysis.platform: o.proposal_id for o in propose(session, va, "acme", now=NOW)}["linkedin"]
    assert f"`castmill slots accept {proposal_id}`" in weekly(truth, "md")


def test_the_same_data_gives_the_same_report_bytes(truth, castmill_home):
    first = weekly(truth, "html")
    assert weekly(truth, "html") == first
    other = Database(f"sqlite:///{castmill_home / 'other.db'}")
    try:
        seed_truth(other, shuffle=4)  # the same posts written in another order
        assert weekly(other, "html") == first
        with other.session() as session:
            [analysis] = [a for a in build_weekly(session, "acme", now=NOW).best_time if a.platform == "linkedin"]
    finally:
        other.dispose()
    png = heatmap_png(analysis)
    assert hashlib.sha256(png).digest() == hashlib.sha256(heatmap_png(analysis)).digest()
    assert base64.b64encode(png).decode() in first
