"""HTML to document text: the page's visible content, one paragraph per block element.

Navigation, banners, cookie notices, sidebars, forms and footers are dropped (by tag,
ARIA role, or id/class words such as ``nav`` or ``cookie``); ``<main>``, else the only
``<article>``, is preferred when present; each block element becomes a paragraph, a
``<br>`` a line break, and inline elements stay inside their sentence.

Markup the parser rejects is a :class:`~rag.errors.DocumentError` naming the file, so
an ingest skips that one file and goes on.

Nothing from the page is executed or kept as markup. This module only extracts text
and the ``<title>``; decoding the bytes and normalising line ends are
:mod:`rag.documents.text`'s job.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rag.errors import DocumentError

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

# Elements that are never content, and id/class words and ARIA roles that mark
# page furniture. <header>/<footer> are the site's only outside <article>/<main>.
_CHROME_TAGS = frozenset(
    "script style noscript template iframe object nav aside form button svg".split()
)
_SCOPED_CHROME = frozenset(("header", "footer"))
_SCOPING_TAGS = ("article", "main")
_CONTENT_TAGS = ("html", "body", "main", "article")
_CHROME_ROLES = frozenset("navigation banner contentinfo menu menubar".split())
_CHROME_WORDS = frozenset(
    "nav navbar navigation menu menubar breadcrumb breadcrumbs cookie cookies sidebar".split()
)
_NAME_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_BLOCK_TAGS = (
    "address article aside blockquote body caption dd details dialog div dl dt fieldset "
    "figcaption figure footer h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section "
    "summary table tbody td tfoot th thead tr ul"
).split()
# Private-use characters standing for a paragraph break and a <br> while the text is
# collected (removed from the markup first, so a page cannot fake them).
_BLOCK_MARK = "\ue000"
_BREAK_MARK = "\ue001"


def html_to_text(markup: str, name: str = "the page") -> tuple[str, str]:
    """Visible content text and ``<title>`` of an HTML page, one paragraph per block.

    Raises:
        DocumentError: the parser rejects the markup (*name* says which file).
    """
    from bs4 import BeautifulSoup
    from bs4.exceptions import ParserRejectedMarkup

    markup = markup.replace(_BLOCK_MARK, "").replace(_BREAK_MARK, "")
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
    _mark_blocks(root)
    return _marked_paragraphs(root.get_text()), title


def _drop_chrome(soup: BeautifulSoup) -> None:
    """Remove navigation, banners, forms and other page furniture, never the content."""
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
    """Whether *tag* is marked, by name, ARIA role, id or class, as not being content."""
    words = _name_words(tag)
    roles = set(str(tag.get("role") or "").lower().split())
    if tag.name in _CHROME_TAGS or roles & _CHROME_ROLES or words & _CHROME_WORDS:
        return True
    # As in HTML's own roles: an article's <header> holds its title, not the site's.
    scoped = tag.name in _SCOPED_CHROME or bool(words & _SCOPED_CHROME)
    return scoped and tag.find_parent(_SCOPING_TAGS) is None


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


def _marked_paragraphs(text: str) -> str:
    """Collapse whitespace inside each marked block and separate blocks by a blank line."""
    paragraphs = []
    for block in text.split(_BLOCK_MARK):
        lines = (" ".join(line.split()) for line in block.split(_BREAK_MARK))
        paragraph = "\n".join(line for line in lines if line)
        if paragraph:
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)
