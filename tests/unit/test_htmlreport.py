"""report.html escapes what documents and datasets put in it: once, everywhere.

Hostile markup goes into every free-text field of a fixed evaluation
(``tests/report_fixture.py``); the page must show it as text (the parsed page holds
exactly the original characters) and never as markup, and nothing may be escaped twice.
"""

from __future__ import annotations

from html.parser import HTMLParser

from rag.eval.htmlreport import render_html
from tests.report_fixture import fixed_report

HOSTILE = (
    "<script>alert(1)</script> \"onmouseover=alert(2) x='y' </td></tr></table>"
    "<img src=x onerror=alert(3)> Q&A"
)
# The elements the report's templates write (and rag.eval.svg's charts).
ELEMENTS = set(
    "html head meta title style body h1 h2 h3 p div b i span a table thead tbody tr th td "
    "details summary ul li pre blockquote svg rect line path text".split()
)


class _Page(HTMLParser):
    """Tags, attributes and decoded text of a page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.ends: list[str] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.ends.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_hostile_text_is_shown_as_text_never_as_markup():
    html = render_html(fixed_report(HOSTILE))
    page = _Page(html)
    assert {tag for tag, _ in page.starts} <= ELEMENTS
    assert not [a for _, attrs in page.starts for a in attrs if a.startswith("on")]
    for tag in ("td", "tr", "table"):  # a "</td>" in the text closed no cell
        assert sum(t == tag for t, _ in page.starts) == page.ends.count(tag)
    text = "".join(page.text)
    for field in (
        "How often does the ferry cross?",  # question
        "The Ashwick ferry crosses the estuary every 40 minutes.",  # answer, quote, evidence
        "Its skipper, Mara Quill, has run the route since 2011.",  # passage text
        "docs/ferry.md",  # citation and passage source
        "The passage held the answer but the assistant refused.",  # diagnosis detail
        "marker [1] has no citation",
        "Since when has Mara Quill run the ferry?",  # standalone question
        "Earlier turn: Who skippers the ferry?",
        "judge extractive: ok supported",
        "Ferry",  # document title
        "the store could not be read",  # error
        "Compared with reports/eval/baseline/report.json",
    ):
        assert field + HOSTILE in text, field


def test_nothing_is_escaped_twice():
    html = render_html(fixed_report(HOSTILE))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "Q&amp;A" in html
    assert "&amp;lt;" not in html and "&amp;amp;" not in html and "&amp;#" not in html
    assert "<script" not in html and "<img" not in html


def test_a_hostile_row_id_stays_inside_its_attributes():
    report = fixed_report()
    report["rows"][1]["id"] = HOSTILE  # a2 fails, so it is linked from the failures table
    page = _Page(render_html(report))
    ids = [attrs.get("id") for tag, attrs in page.starts if tag == "summary"]
    hrefs = [attrs.get("href") for tag, attrs in page.starts if tag == "a"]
    assert f"row-{HOSTILE}" in ids and f"#row-{HOSTILE}" in hrefs
    assert not [a for _, attrs in page.starts for a in attrs if a.startswith("on")]
