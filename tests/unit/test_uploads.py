"""rag.ingest.uploads: only a sanitised basename is written, and only usable files."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import LimitsSettings
from rag.errors import DocumentError
from rag.ingest.uploads import free_name, is_upload, safe_name, save_upload

LIMITS = LimitsSettings(file_mb=0.0001)  # 100 bytes


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("notes.txt", "notes.txt"),
        ("../../x.txt", "x.txt"),
        ("..\\..\\windows\\x.TXT", "x.txt"),
        ("/etc/passwd.md", "passwd.md"),
        (".hidden.txt", "hidden.txt"),
        ("a<b>|c?.txt", "a_b_c_.txt"),
        ("", "upload"),
        ("..", "upload"),
    ],
)
def test_safe_name(name: str, expected: str) -> None:
    assert safe_name(name, LimitsSettings().upload_name_chars) == expected


def test_traversal_name_lands_inside_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "store" / "uploads"
    saved = save_upload(
        folder, "../../x.txt", b"Quince notes\n\nText.", LimitsSettings(file_mb=0.01)
    )
    assert saved == folder / "x.txt"
    assert saved.read_bytes() == b"Quince notes\n\nText."
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["x.txt"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("tool.exe", b"MZ", "unsupported file type"),
        ("empty.txt", b"  \n", "contains no text"),
        ("blob.txt", b"\x00\x01\x02binary", "binary"),
        ("big.txt", b"x" * 101, "over the"),
        ("bad.pdf", b"%PDF-1.4 not really", "PDF"),
    ],
)
def test_unusable_uploads_are_refused_and_leave_nothing(
    tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    with pytest.raises(DocumentError, match=message):
        save_upload(tmp_path / "uploads", name, data, LIMITS)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_same_name_other_content_is_kept_beside_it_never_replacing_it(tmp_path: Path) -> None:
    """Issue 29 item 3: a second report.txt from another folder used to replace the first."""
    first = save_upload(tmp_path, "a/report.md", b"# One", LIMITS)
    second = save_upload(tmp_path, "b/report.md", b"# Two", LIMITS)
    third = save_upload(tmp_path, "report.md", b"# Three", LIMITS)
    assert (first.name, second.name, third.name) == ("report.md", "report-2.md", "report-3.md")
    assert [p.read_text() for p in (first, second, third)] == ["# One", "# Two", "# Three"]


def test_same_name_same_content_reuses_its_file(tmp_path: Path) -> None:
    save_upload(tmp_path, "report.md", b"# One", LIMITS)
    save_upload(tmp_path, "report.md", b"# Two", LIMITS)
    assert save_upload(tmp_path, "report.md", b"# Two", LIMITS).name == "report-2.md"
    assert save_upload(tmp_path, "report.md", b"# One", LIMITS).name == "report.md"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report-2.md", "report.md"]


def test_is_upload_names_files_inside_the_uploads_folder_even_once_deleted(
    tmp_path: Path,
) -> None:
    uploads = tmp_path / "vectorstore" / "uploads"
    assert is_upload(uploads, str(uploads / "gone.md"))  # deleted: still an upload
    assert not is_upload(uploads, str(tmp_path / "seeds" / "a.txt"))
    assert not is_upload(uploads, str(uploads / ".." / "elsewhere.txt"))


def test_the_name_length_and_the_copies_kept_are_settings(tmp_path: Path) -> None:
    assert safe_name("a" * 200 + ".txt", 20) == "a" * 16 + ".txt"
    assert len(safe_name("a" * 200 + ".txt", LimitsSettings().upload_name_chars)) == 120
    two = LimitsSettings(file_mb=0.0001, upload_copies=2)
    save_upload(tmp_path, "report.md", b"# One", two)
    save_upload(tmp_path, "report.md", b"# Two", two)
    with pytest.raises(DocumentError, match="2 different files of that name"):
        save_upload(tmp_path, "report.md", b"# Three", two)
    assert free_name(tmp_path, "report.md", b"# Two", 2).name == "report-2.md"
