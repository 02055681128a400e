"""Bad files built in the tests: damaged, hostile or cut short, each a few kilobytes.

A PDF is written by hand (objects, cross-reference table, trailer) so a test controls
exactly what pypdf meets: arrays nested thousands deep, or a content stream that
inflates past pypdf's decompression limit (75 MB of spaces compress to ~75 KB).
"""

from __future__ import annotations

import zlib

ESCAPES = "\x1b]0;TITLE\x07\x1b[2J"  # retitles the window, then clears the screen
TEXT_OPS = b"BT /F1 12 Tf 20 100 Td (Hello from a small PDF.) Tj ET"


def build_pdf(objects: list[bytes]) -> bytes:
    """A PDF of *objects* (numbered from 1, the first is the catalog), offsets exact."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def one_page_pdf(content: bytes) -> bytes:
    """One page in Helvetica whose content stream is *content*, Flate-compressed."""
    stream = zlib.compress(content, 9)
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def good_pdf() -> bytes:
    """A readable one-page PDF (one sentence)."""
    return one_page_pdf(TEXT_OPS)


def nested_arrays_pdf(depth: int = 5000) -> bytes:
    """A PDF whose page content nests arrays *depth* deep: pypdf recurses until it fails."""
    return one_page_pdf(TEXT_OPS + b" " + b"[" * depth + b"]" * depth)


def decompression_bomb_pdf(megabytes: int = 80) -> bytes:
    """A ~80 KB PDF whose content stream inflates to *megabytes* MB (pypdf stops at 75)."""
    return one_page_pdf(TEXT_OPS + b"\n" + b" " * (megabytes * 1_000_000))


def utf16_cut_short() -> bytes:
    """UTF-16 text with a byte-order mark and an odd number of bytes (its end cut off)."""
    return "Half a sentence in UTF-16.".encode("utf-16")[:-1]


def rejected_html() -> bytes:
    """Markup Python's HTML parser gives up on (bs4 raises ParserRejectedMarkup)."""
    return b"<p>Before.</p> <![&#--> after"
