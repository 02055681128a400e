"""Plain text as the system keeps it: decoded, its line ends normalised, its title.

Bytes are read as UTF-8 (with or without a byte-order mark) or BOM-marked UTF-16, and
binaries are refused with a message saying what to do; a leading BOM is dropped and
CRLF/CR become ``\\n``, so the text is what every character offset points into. A
document without a title of its own takes its first non-empty line.

This module cleans text only; it does not know file formats (see :mod:`rag.documents`).
"""

from __future__ import annotations

from rag.errors import DocumentError


def normalise_text(text: str) -> str:
    """Drop a BOM and turn CRLF/CR line ends into ``\\n``."""
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def decode_bytes(data: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM), else UTF-16 with BOM; refuse binaries."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:  # an odd byte count, a lone surrogate
            raise DocumentError(
                f"{name} starts like UTF-16 text but is not valid UTF-16 (byte {exc.start}: "
                f"{exc.reason}); it may be cut short. Save it as UTF-8 and ingest it again."
            ) from None
    if b"\x00" in data[:8192]:
        raise DocumentError(f"{name} looks like a binary file, not text; convert it to .txt.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{name} is not UTF-8 text (byte {exc.start} is invalid); "
            "save it as UTF-8 and ingest it again."
        ) from None


def first_line_title(text: str, fallback: str) -> str:
    """The first non-empty line (markdown heading marks removed), cut to 200 chars."""
    for line in text.splitlines():
        if line.strip():
            return line.strip().lstrip("#").strip()[:200]
    return fallback
