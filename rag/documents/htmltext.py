"""HTML to document text: the page's visible content, one paragraph per block element.

Navigation, menus, breadcrumbs, cookie notices, forms and scripts are dropped (by tag,
ARIA role, id/class words such as ``nav`` or ``cookie``, or a block that is nothing but
links); ``<main>``, else the only ``<article>``, is the main content and comes first.
The page's header, footer and asides are kept after it, each as a section of its own:
that is where a page keeps its address, telephone number, opening hours and charity
number. Each block element becomes a paragraph, a table row one ``| a | b |`` line, a
``<br>`` a line break, and inline elements stay inside their sentence;
``<h1>``-``<h6>`` are returned as the document's headings, located in the text.

Markup the parser rejects is a :class:`~rag.errors.DocumentError` naming the file, so
an ingest skips that one file and goes on.

Nothing from the page is executed or kept as markup. This module only extracts text
and the ``<title>``; decoding the bytes and normalising line ends are
:mod:`rag.documents.text`'s job.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rag.documents.structure import Heading
from rag.errors import DocumentError

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

# Elements that are never content, and id/class words and ARIA roles that mark
# page chrome (navigation, menus, cookie notices).
_CHROME_TAGS = frozenset("script style noscript template iframe object nav form button svg".split())
_CONTENT_TAGS = ("html", "body", "main", "article")
_CHROME_ROLES = frozenset("navigation menu menubar dialog alertdialog search".split())
_CHROME_WORDS = frozenset(
    "nav navbar navigation menu menubar breadcrumb breadcrumbs cookie cookies consent gdpr "
    "skip".split()
)
# Page furniture outside the main content: kept, after it, each a section of its own.
_FURNITURE_TAGS = ("header", "footer", "aside", "address")
_FURNITURE_ROLES = frozenset("banner contentinfo complementary".split())
_SCOPING_TAGS = ("article", "main")
# A block of at least this many links whose words are nearly all link words is a menu
# (telephone and email links are facts, not navigation).
_MENU_LINKS = 3
_MENU_LINK_SHARE = 0.8
_MENU_TAGS = ("ul", "ol", "div", "p", "section", "header", "footer", "aside")
_NAME_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_BLOCK_TAGS = (
    "address article aside blockquote body caption dd details dialog div dl dt fieldset "
    "figcaption figure footer h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section "
    "summary table tbody td tfoot th thead tr ul"
).split()
# Private-use characters standing for a paragraph break, a <br>, a heading's start (one
# per level) and end, and a page part's start or end while the text is collected
# (removed from the markup first, so a page cannot fake them).
_BLOCK_MARK = "\ue000"
_BREAK_MARK = "\ue001"
_HEADING_END = "\ue002"
_HEADING_STARTS = {level: chr(0xE002 + level) for level in range(1, 7)}  # \ue003..\ue008
_SECTION_MARK = "\ue009"  # a page part: mark, its name ("" where it ends), mark
_MARKS = (_BLOCK_MARK, _BREAK_MARK, _HEADING_END, *_HEADING_STARTS.values(), _SECTION_MARK)
_SECTION = re.compile(f"{_SECTION_MARK}([^{_SECTION_MARK}]*){_SECTION_MARK}")
_HEADING_MARK = re.compile(f"[{_HEADING_END}{''.join(_HEADING_STARTS.values())}]")
_WORDS = re.compile(r"\w+")
_PART_NAMES = {"header": "Page header", "footer": "Page footer"}  # an aside: its own heading


def html_to_text(markup: str, name: str = "the page") -> tuple[str, str]:
    """Visible content text and ``<title>`` of an HTML page, one paragraph per block.

    Raises:
        DocumentError: the parser rejects the markup (*name* says which file).
    """
    text, title, _ = html_to_document(markup, name)
    return text, title


def html_to_document(markup: str, name: str = "the page") -> tuple[str, str, list[Heading]]:
    """Visible text, ``<title>`` and headings of an HTML page (see the module docstring).

    The page's header, footer and asides are headings of level 0 (a zero-length
    heading named "Page footer" where one starts, an unnamed one where it ends).

    Raises:
        DocumentError: the parser rejects the markup (*name* says which file).
    """
    from bs4 import BeautifulSoup
    from bs4.exceptions import ParserRejectedMarkup

    for mark in (*_MARKS, "\ufeff"):
        markup = markup.replace(mark, "")
    try:
        soup = BeautifulSoup(markup, "html.parser")
    except ParserRejectedMarkup as exc:
        reason = str(exc).strip().splitlines()[-1].strip()  # the parser's own error, last
        raise DocumentError(
            f"{name} is not HTML the parser can read ({reason}); "
            "open it in a browser and save it again, or save its text as .txt."
        ) from None
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    _drop_chrome(soup)
    root = _content_root(soup)
    parts = [part for part in _furniture(soup, root) if not _names_the_page(part, title)]
    texts = []
    for part in [root, *parts]:
        if part is not root:
            _mark_section(part)
        _mark_headings(part)
        _mark_tables(part)
        _mark_blocks(part)
        texts.append(part.get_text())
    text, headings = _assemble(_BLOCK_MARK.join(texts))
    return text, title, headings


def _drop_chrome(soup: BeautifulSoup) -> None:
    """Remove navigation, menus, cookie notices and forms, never the content."""
    content = soup.find_all(_CONTENT_TAGS)
    protected = {id(tag) for found in content for tag in (found, *found.parents)}
    # Tag.decomposed searches the tag's whole subtree: quadratic on deep nesting (20,000
    # nested divs took 92 s). Removed tags are remembered by id instead.
    removed: set[int] = set()
    for tag in soup.find_all(True):
        if id(tag) not in protected and id(tag) not in removed and _is_chrome(tag):
            removed.update(id(t) for t in tag.find_all(True))
            tag.decompose()


def _is_chrome(tag: Tag) -> bool:
    """Whether *tag* is marked, by name, ARIA role, id or class, as not being content,
    or is a block of links and little else (a menu without a name)."""
    words = _name_words(tag)
    roles = set(str(tag.get("role") or "").lower().split())
    if tag.name in _CHROME_TAGS or roles & _CHROME_ROLES or words & _CHROME_WORDS:
        return True
    return tag.name in _MENU_TAGS and _is_link_list(tag)


def _is_link_list(tag: Tag) -> bool:
    """At least three links, and nearly every word of *tag* inside one of them."""
    links = [
        a
        for a in tag.find_all("a")
        if not str(a.get("href") or "").lower().startswith(("tel:", "mailto:"))
    ]
    if len(links) < _MENU_LINKS:
        return False
    words = len(_WORDS.findall(tag.get_text(" ")))
    linked = sum(len(_WORDS.findall(a.get_text(" "))) for a in links)
    return words > 0 and linked >= _MENU_LINK_SHARE * words


def _name_words(tag: Tag) -> set[str]:
    """Lower-case words of a tag's id and classes: ``mainNav site-header`` -> main, nav, ..."""
    names = [str(tag.get("id") or ""), *map(str, tag.get_attribute_list("class"))]
    return {word.lower() for word in _NAME_WORD.findall(" ".join(names))}


def _content_root(soup: BeautifulSoup) -> Tag:
    """``<main>``, else the only ``<article>``, else the body: where the page's text is."""
    from bs4 import Tag

    articles = soup.find_all("article")
    for candidate in (soup.find("main"), articles[0] if len(articles) == 1 else None):
        if isinstance(candidate, Tag) and candidate.get_text(strip=True):
            return candidate
    return soup.body or soup


def _is_furniture(tag: Tag) -> bool:
    """A header, footer or aside of the page (an article's own are its content)."""
    roles = set(str(tag.get("role") or "").lower().split())
    if not (tag.name in _FURNITURE_TAGS or roles & _FURNITURE_ROLES):
        return False
    return tag.find_parent(_SCOPING_TAGS) is None


def _furniture(soup: BeautifulSoup, root: Tag) -> list[Tag]:
    """The page's parts outside *root*, outermost only, in page order.

    A part inside the root (a page without main content of its own) is marked as a
    section where it stands and not returned.
    """
    inside = {id(tag) for tag in root.find_all(True)}
    found: list[Tag] = []
    taken: set[int] = set()
    for tag in soup.find_all(True):
        if not _is_furniture(tag) or any(id(parent) in taken for parent in tag.parents):
            continue
        taken.add(id(tag))
        if id(tag) in inside:
            _mark_section(tag)
        elif root not in tag.parents and tag is not root:
            found.append(tag)
    return found


def _names_the_page(part: Tag, title: str) -> bool:
    """Whether *part* says nothing but the page's title (a site header with its logo)."""
    return " ".join(part.get_text(" ").split()).casefold() == " ".join(title.split()).casefold()


def _mark_section(tag: Tag) -> None:
    """Name the page part where it starts and mark where it ends."""
    name = str(tag.get("aria-label") or "").strip() or _PART_NAMES.get(str(tag.name), "")
    tag.insert(0, f"{_BLOCK_MARK}{_SECTION_MARK}{' '.join(name.split())}{_SECTION_MARK}")
    tag.append(f"{_SECTION_MARK}{_SECTION_MARK}{_BLOCK_MARK}")


def _mark_headings(root: Tag) -> None:
    for level, mark in _HEADING_STARTS.items():
        for heading in root.find_all(f"h{level}"):
            heading.insert(0, mark)
            heading.append(_HEADING_END)


def _mark_tables(root: Tag) -> None:
    """Each table row becomes one ``| cell | cell |`` line of its table's paragraph."""
    for table in root.find_all("table"):
        if table.find_parent("table") is not None:
            continue  # a nested table is read as its cell's text
        rows = []
        for row in table.find_all("tr"):
            cells = [" ".join(c.get_text(" ").split()) for c in row.find_all(("td", "th"))]
            if any(cells):
                rows.append("| " + " | ".join(cells) + " |")
        table.clear()
        table.append(_BREAK_MARK.join(rows))


def _mark_blocks(root: Tag) -> None:
    """Put a paragraph mark around every block element and a line mark at every ``<br>``."""
    for tag in root.find_all(_BLOCK_TAGS):
        tag.insert(0, _BLOCK_MARK)
        tag.append(_BLOCK_MARK)
    for tag in root.find_all("br"):
        tag.replace_with(_BREAK_MARK)
    for pre in root.find_all("pre"):
        for string in pre.find_all(string=True):
            string.replace_with(string.replace("\n", _BREAK_MARK))


def _assemble(marked: str) -> tuple[str, list[Heading]]:
    """Collapse whitespace inside each marked block, separate blocks by a blank line, and
    locate the headings and the page parts (level-0 headings) in the resulting text."""
    paragraphs: list[str] = []
    headings: list[Heading] = []
    pending: list[str] = []  # page parts starting or ending before the next paragraph
    length = 0
    for block in marked.split(_BLOCK_MARK):
        names = _SECTION.findall(block)
        level = next((lv for lv, mark in _HEADING_STARTS.items() if mark in block), 0)
        cleaned = _HEADING_MARK.sub("", _SECTION.sub("", block))
        lines = (" ".join(line.split()) for line in cleaned.split(_BREAK_MARK))
        paragraph = "\n".join(line for line in lines if line)
        if not paragraph:
            pending.extend(names)
            continue
        start = length + (2 if paragraphs else 0)
        headings.extend(Heading(start, start, 0, name) for name in pending)
        pending = [name for name in names if not name]  # a part ending here ends after it
        headings.extend(Heading(start, start, 0, name) for name in names if name)
        end = start + len(paragraph)
        if level:
            headings.append(Heading(start, end, level, " ".join(paragraph.split())))
        paragraphs.append(paragraph)
        length = end
    return "\n\n".join(paragraphs), headings
