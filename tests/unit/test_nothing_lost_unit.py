"""Nothing lost by accident (issue 29 item 3), over fakes: folders, store errors, resets.

The tests run as root here, and root reads a ``chmod 000`` folder anyway; so an
unreadable folder is simulated where the operating system would refuse it: ``os.scandir``
raising ``PermissionError`` (or ``FileNotFoundError``, a folder removed mid-way) for
that folder, exactly what listing it as an ordinary user raises. The real ``chmod 000``
case runs in tests/integration/test_nothing_lost.py when not root.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest

from rag.config import Settings
from rag.documents import iter_files
from rag.errors import DocumentError, StoreCorruptError
from rag.ingest.pipeline import _refusal
from rag.store import make_client


def refuse_listing(monkeypatch: pytest.MonkeyPatch, folder: Path, error: int) -> None:
    """Make listing *folder* fail as the OS would (*error*: EACCES, ENOENT)."""
    real = os.scandir

    def scandir(path=".") -> object:
        if isinstance(path, str | os.PathLike) and Path(path).resolve() == folder.resolve():
            exc = PermissionError if error == errno.EACCES else FileNotFoundError
            raise exc(error, os.strerror(error), str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    (folder / "deep").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    for name in ("b.txt", "a.md", "deep/c.html", ".secret.txt", ".hidden/d.txt", "e.exe"):
        (folder / name).write_text("Text\n\nMore text.")
    return folder


def test_a_folder_lists_its_supported_files_sorted_without_hidden_ones(tmp_path: Path) -> None:
    folder = corpus(tmp_path)
    assert [p.relative_to(folder).as_posix() for p in iter_files([folder])] == [
        "a.md",
        "b.txt",
        "deep/c.html",
    ]


@pytest.mark.parametrize("error", [errno.EACCES, errno.ENOENT], ids=["unreadable", "vanished"])
def test_a_folder_that_cannot_be_listed_is_an_error_not_an_empty_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: int
) -> None:
    folder = corpus(tmp_path)
    refuse_listing(monkeypatch, folder, error)
    with pytest.raises(DocumentError, match=r"notes cannot be read .*nothing was ingested or remo"):
        list(iter_files([folder]))


def test_an_unreadable_folder_inside_a_folder_is_an_error_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = corpus(tmp_path)
    refuse_listing(monkeypatch, folder / "deep", errno.EACCES)
    with pytest.raises(DocumentError, match=r"deep cannot be read \(Permission denied\)"):
        list(iter_files([folder]))


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="does not exist"):
        list(iter_files([tmp_path / "nowhere"]))


def _failing_client(monkeypatch: pytest.MonkeyPatch, exc: Exception) -> None:
    import chromadb

    def fail(*args, **kwargs):
        raise exc

    monkeypatch.setattr(chromadb, "PersistentClient", fail)


@pytest.mark.parametrize(
    "exc",
    [
        sqlite3.OperationalError("attempt to write a readonly database"),
        sqlite3.OperationalError("unable to open database file"),
        PermissionError(errno.EACCES, "Permission denied"),
        OSError(errno.ENOSPC, "No space left on device"),
    ],
    ids=["read-only", "cannot-open", "permission", "disk-full"],
)
def test_a_store_that_is_only_not_readable_or_writable_is_never_offered_a_reset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: Exception
) -> None:
    """The read-only ``chroma.sqlite3`` of the issue: ``--reset`` would have deleted
    every document not in seeds/; the message now says to fix the permissions."""
    _failing_client(monkeypatch, exc)
    with pytest.raises(StoreCorruptError) as raised:
        make_client(Settings(_env_file=None, store={"store_dir": tmp_path / "store"}))
    message = str(raised.value)
    assert "--reset" not in message and "do not reset" in message
    assert "can be read and written" in message


def test_a_damaged_store_is_offered_a_reset_that_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing_client(monkeypatch, sqlite3.DatabaseError("file is not a database"))
    with pytest.raises(StoreCorruptError) as raised:
        make_client(Settings(_env_file=None, store={"store_dir": tmp_path / "store"}))
    message = str(raised.value)
    assert "It is damaged: `python -m rag ingest --reset` rebuilds it" in message
    assert "keeps the old store in" in message


def test_a_refused_reset_names_what_it_would_lose() -> None:
    names = [f"notes/{n}.txt" for n in range(7)]
    message = _refusal(names)
    assert message.startswith("Nothing was reset: a reset would lose 7 document name(s)")
    assert "notes/0.txt" in message and "and 2 more" in message and "notes/6.txt" not in message
    assert "delete them unseen" in _refusal(None)
