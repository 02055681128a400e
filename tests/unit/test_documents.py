"""Loading real files: PDF lines re-joined and running headers dropped, HTML page chrome
dropped, plain text and markdown kept as written.

The PDFs are written by fpdf2 inside each test (real PDF files, parsed by pypdf), the
HTML pages are literal files in tmp_path; nothing is mocked.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fpdf import FPDF

from rag.documents import SourceDocument, load_file, parse_bytes
from rag.documents.chunking import split_sentences
from rag.errors import DocumentError

MAX_BYTES = 5_000_000
HEADING = "# "  # a test line starting with this is drawn as a bold heading
GAP = None  # a blank line in the layout: one empty line of vertical space

SWARMING = (
    "Page two: Swarming usually happens in May and June, when the old queen leaves "
    "the hive with about half of the workers to find a new home."
)


def write_pdf(
    path: Path, pages: list[list[str | None]], header: str = "", footer: str = ""
) -> Path:
    """Draw each page's lines top to bottom, 14 pt apart, with a running header/footer.

    ``footer`` may use ``{page}`` and ``{pages}``.
    """
    pdf = FPDF(unit="pt", format=(420, 595))
    pdf.set_auto_page_break(False)
    for number, lines in enumerate(pages, start=1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=9)
        if header:
            pdf.text(40, 40, header)
        if footer:
            pdf.text(180, 565, footer.format(page=number, pages=len(pages)))
        y = 80.0
        for line in lines:
            if line is not GAP:
                heading = line.startswith(HEADING)
                pdf.set_font("Helvetica", style="B" if heading else "", size=13 if heading else 11)
                pdf.text(40, y, line.removeprefix(HEADING))
            y += 14
    pdf.output(str(path))
    return path


def load(path: Path) -> SourceDocument:
    return load_file(path, MAX_BYTES, root=path.parent)


def sentences(text: str) -> list[str]:
    return [span.text for span in split_sentences(text)]


# ---- PDF ---------------------------------------------------------------------------


@pytest.fixture
def notes_pdf(tmp_path: Path) -> Path:
    """Two pages of beekeeping notes: headings, wrapped paragraphs, a hyphenated word."""
    page_one = [
        "# Hive basics",
        GAP,
        "A strong colony needs a dry hive, a laying queen and enough",
        "stored honey to survive the winter. Beekeepers share infor-",
        "mation about pests at their local meetings every month.",
        GAP,
        "Inspect the brood frames once a week in spring.",
    ]
    page_two = [
        "# Swarming",
        GAP,
        "Page two: Swarming usually happens in May and June, when the old",
        "queen leaves the hive with about half of the workers to find a",
        "new home.",
    ]
    return write_pdf(
        tmp_path / "notes.pdf",
        [page_one, page_two],
        header="Beekeeping Notes",
        footer="Page {page} of {pages}",
    )


def test_pdf_wrapped_sentence_is_one_line_and_one_sentence(notes_pdf: Path):
    text = load(notes_pdf).text
    assert SWARMING in text.splitlines()
    assert SWARMING in sentences(text)


def test_pdf_hyphenated_line_end_is_rejoined(notes_pdf: Path):
    text = load(notes_pdf).text
    assert "Beekeepers share information about pests at their local meetings every month." in (
        sentences(text)
    )
    assert "infor-" not in text


def test_pdf_running_header_and_page_footer_are_dropped(notes_pdf: Path):
    doc = load(notes_pdf)
    assert "Beekeeping Notes" not in doc.text
    assert "Page 1 of 2" not in doc.text and "Page 2 of 2" not in doc.text
    assert doc.title == "Beekeeping Notes", "the running header names the document"


def test_pdf_headings_and_gaps_stay_paragraphs(notes_pdf: Path):
    paragraphs = load(notes_pdf).text.split("\n\n")
    assert paragraphs == [
        "Hive basics",
        "A strong colony needs a dry hive, a laying queen and enough stored honey to survive "
        "the winter. Beekeepers share information about pests at their local meetings every "
        "month.",
        "Inspect the brood frames once a week in spring.",
        "Swarming",
        SWARMING,
    ]


def test_pdf_paragraph_cut_by_a_page_break_is_rejoined(tmp_path: Path):
    path = write_pdf(
        tmp_path / "cut.pdf",
        [
            ["Queens are raised in special cells that the workers build along the"],
            ["lower edge of the comb.", GAP, "Drones have no sting."],
        ],
    )
    text = load(path).text
    assert sentences(text)[0] == (
        "Queens are raised in special cells that the workers build along the lower edge of "
        "the comb."
    )
    assert text.endswith("\n\nDrones have no sting.")


def test_pdf_list_items_sentence_ends_and_capitalised_hyphens(tmp_path: Path):
    path = write_pdf(
        tmp_path / "list.pdf",
        [
            [
                "You will need:",
                "- a smoker",
                "- a hive tool",
                GAP,
                "The hive tool is used every time.",
                "Honey bees came to the Anglo-",
                "Saxon kingdoms early.",
            ]
        ],
    )
    assert load(path).text == (
        "You will need:\n- a smoker\n- a hive tool\n\nThe hive tool is used every time.\n"
        "Honey bees came to the Anglo-Saxon kingdoms early."
    )


def test_pdf_header_on_a_single_page_is_kept(tmp_path: Path):
    path = write_pdf(tmp_path / "one.pdf", [["Bees dance to show where food is."]], "Notes")
    assert load(path).text == "Notes\n\nBees dance to show where food is."


def test_pdf_without_text_asks_for_ocr(tmp_path: Path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(DocumentError, match="OCR"):
        parse_bytes(out.getvalue(), "scan.pdf", "scan.pdf")


# ---- HTML --------------------------------------------------------------------------

GARDEN_PAGE = """<!doctype html>
<html lang="en">
<head><title>Growing tomatoes</title><style>body { color: green; }</style></head>
<body>
  <div id="cookie-banner">We use cookies to improve your visit. <button>Accept</button></div>
  <header class="site-header"><h1>Green Fingers Weekly</h1></header>
  <nav class="main-menu"><a href="/">Home</a> | <a href="/garden">Garden</a> |
    <a href="/contact">Contact</a></nav>
  <aside><h3>Popular</h3><p>Ten roses for shady corners</p></aside>
  <article>
    <h2>Tomatoes in pots</h2>
    <p>Tomatoes need at least six hours of sun and
      <a href="/watering">regular, deep watering</a> to set <em>plenty</em> of fruit.
      Feed them weekly once the first flowers open.</p>
    <p>Pinch out the side shoots of cordon varieties.</p>
  </article>
  <footer>Copyright 2024 Green Fingers. All rights reserved.</footer>
  <script>trackVisit();</script>
</body>
</html>
"""
CHROME = ("Home", "Garden", "Contact", "cookies", "Accept", "trackVisit", "color")


def write_html(tmp_path: Path, markup: str, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(markup, encoding="utf-8")
    return path


def test_html_page_chrome_is_dropped(tmp_path: Path):
    doc = load(write_html(tmp_path, GARDEN_PAGE))
    assert doc.title == "Growing tomatoes"
    for chrome in CHROME:
        assert chrome not in doc.text, chrome


def test_html_article_paragraphs_and_inline_link_stay_in_their_sentence(tmp_path: Path):
    text = load(write_html(tmp_path, GARDEN_PAGE)).text
    linked = (
        "Tomatoes need at least six hours of sun and regular, deep watering to set plenty of fruit."
    )
    assert text.split("\n\n")[:3] == [
        "Tomatoes in pots",
        f"{linked} Feed them weekly once the first flowers open.",
        "Pinch out the side shoots of cordon varieties.",
    ]
    assert linked in sentences(text)


def test_html_header_aside_and_footer_are_kept_after_the_article_each_its_own_section(
    tmp_path: Path,
):
    doc = load(write_html(tmp_path, GARDEN_PAGE))
    paragraphs = doc.text.split("\n\n")
    assert paragraphs[3:] == [
        "Green Fingers Weekly",
        "Popular",
        "Ten roses for shady corners",
        "Copyright 2024 Green Fingers. All rights reserved.",
    ]
    parts = [(h.name, doc.text[h.start :].split("\n")[0]) for h in doc.headings if h.level == 0]
    assert parts == [
        ("Page header", "Green Fingers Weekly"),
        ("", "Popular"),  # the header ends; an aside is named by its own heading
        ("", "Popular"),
        ("", "Copyright 2024 Green Fingers. All rights reserved."),
        ("Page footer", "Copyright 2024 Green Fingers. All rights reserved."),
    ]


def test_html_roles_and_menu_class_words_are_dropped_but_not_lookalikes(tmp_path: Path):
    markup = """<html><body class="has-sidebar">
      <div role="navigation">Skip to the shop</div>
      <div class="mainNav">About us</div>
      <ol class="breadcrumb"><li>Guides</li><li>Soil</li></ol>
      <div id="left-sidebar">Archive</div>
      <div role="contentinfo">Small print</div>
      <div class="canvas-panel">Clay soil holds water.</div>
      <div class="menuitem-note">Sandy soil drains fast.</div>
    </body></html>"""
    text = load(write_html(tmp_path, markup)).text
    # A sidebar and the page's footer (role contentinfo) may hold facts: kept.
    assert text == ("Archive\n\nSmall print\n\nClay soil holds water.\n\nSandy soil drains fast.")


def test_html_main_is_preferred_and_an_articles_own_header_is_kept(tmp_path: Path):
    markup = """<html><body>
      <div class="promo">Subscribe for weekly tips</div>
      <main><article>
        <header><h1>Compost</h1><p>By Sam, 3 May</p></header>
        <p>Turn the heap<br>every two weeks.</p>
        <footer>Filed under soil</footer>
      </article></main>
    </body></html>"""
    text = load(write_html(tmp_path, markup)).text
    assert text == "Compost\n\nBy Sam, 3 May\n\nTurn the heap\nevery two weeks.\n\nFiled under soil"


def test_html_without_main_keeps_the_body_text(tmp_path: Path):
    markup = "<p>First <b>bold</b> point.</p><div>Second point.</div>Loose text."
    text = load(write_html(tmp_path, markup, "bare.htm")).text
    assert text == "First bold point.\n\nSecond point.\n\nLoose text."


# ---- text and markdown ------------------------------------------------------------


@pytest.mark.parametrize("name", ["notes.txt", "notes.md"])
def test_text_and_markdown_are_kept_as_written(tmp_path: Path, name: str):
    written = "# Bees\n\nA hard-wrapped line\nthat continues here.\n\n- item one\n- item two\n"
    path = tmp_path / name
    path.write_text(written, encoding="utf-8")
    doc = load(path)
    assert doc.text == written
    assert doc.title == "Bees"


def test_a_pool_page_keeps_its_facts_and_loses_its_menus_and_cookie_bar():
    """tests/newcomer/riverside-pool.html: a consent bar, link menus in the header and the
    footer (no nav tag, no menu class), a price table, opening hours in an aside, the
    address and telephone in the footer."""
    page = Path(__file__).resolve().parents[1] / "newcomer" / "riverside-pool.html"
    doc = load(page)
    for chrome in ("cookies", "Manage", "Swimming\n", "Gym", "Parties", "Privacy", "Terms"):
        assert chrome not in doc.text, chrome
    lines = doc.text.splitlines()
    assert "| Adult swim | £5.80 | £4.60 |" in lines  # one line per table row
    assert "| Ticket | Peak | Off-peak |" in lines
    assert "Saturday and Sunday: 8:00 to 18:00" in lines  # the aside
    assert "Telephone: 01684 555 0192. Email: swim@riverside-pool.example" in lines  # footer
    assert doc.text.count("Riverside Leisure Pool") == 3, "the header's bare logo is left out"
    names = [(h.level, h.name) for h in doc.headings if h.name]
    assert names == [
        (1, "Riverside Leisure Pool"),
        (2, "Prices"),
        (2, "Lessons"),
        (2, "Opening hours"),
        (0, "Page footer"),
    ]
    for heading in doc.headings:
        assert doc.text[heading.start : heading.end] == (heading.name if heading.level else "")
