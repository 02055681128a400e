"""Shared fixtures: the real embedding model (loaded once) and stores in temp folders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.loopback import free_port  # noqa: F401 - the tests import it from here

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
ARTICLE = SEEDS / "fortress-calais.txt"


# Tests that ask for these fixtures use the real bundled model (and real Chroma): they
# are integration tests whether or not they say so, and are marked as such.
REAL_FIXTURES = frozenset({"embeddings", "ingested"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the real model ``integration`` (``-m "not integration"``
    then runs only the fast unit tests)."""
    for item in items:
        if REAL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def article_text() -> str:
    """The seed article exactly as the store normalises it."""
    from rag.documents import normalise_text

    return normalise_text(ARTICLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def embeddings():
    """The real bundled all-MiniLM-L6-v2, loaded once per test session."""
    from rag.config import Settings
    from rag.embeddings import load_embeddings

    return load_embeddings(Settings())


def make_settings(tmp: Path, **overrides):
    """Settings pointing at a private store in *tmp* (seeds: the real article)."""
    from rag.config import Settings

    seeds = tmp / "seeds"
    if not seeds.exists():
        shutil.copytree(SEEDS, seeds)
    store = {"store_dir": tmp / "vectorstore", "seeds_dir": seeds}
    return Settings(_env_file=None, store=store).updated(**overrides)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Fresh settings with an empty store under tmp_path (cwd is tmp_path)."""
    monkeypatch.chdir(tmp_path)
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def ingested(tmp_path_factory: pytest.TempPathFactory, embeddings) -> Iterator:
    """A session-wide Assistant with the article ingested into a real Chroma store."""
    from rag.service import Assistant

    tmp = tmp_path_factory.mktemp("ingested")
    old = Path.cwd()
    os.chdir(tmp)
    try:  # source keys are made relative to the working folder at ingest time
        assistant = Assistant(make_settings(tmp), embeddings=embeddings)
        assistant.ingest()
    finally:
        os.chdir(old)
    yield assistant


def store_env(settings) -> dict[str, str]:
    """The process environment with RAG_STORE_DIR / RAG_SEEDS_DIR pointing at *settings*."""
    return {
        **os.environ,
        "RAG_STORE_DIR": str(settings.store.store_dir),
        "RAG_SEEDS_DIR": str(settings.store.seeds_dir),
    }


def run_cli(
    args: list[str], env: dict[str, str], module: str = "rag"
) -> subprocess.CompletedProcess:
    """``python -m rag args`` (or ``rag.eval``) in this process, same result shape.

    *env* replaces the environment for the call (settings are read from it); stdout and
    stderr are captured as a pipe would see them (not a terminal). Use
    :func:`run_module` where a real process matters (signals, pipes, start-up).
    """
    import contextlib
    import importlib
    import io
    from unittest import mock

    main = importlib.import_module(
        "rag.eval.cli" if module == "rag.eval" else "rag.interfaces.cli"
    ).main
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, env, clear=True),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(args)
        except SystemExit as stop:  # argparse: --help, usage errors
            code = stop.code if isinstance(stop.code, int) else 1
    return subprocess.CompletedProcess([module, *args], code, out.getvalue(), err.getvalue())


def run_module(
    module: str,
    args: list[str],
    env: dict[str, str],
    stdin: str | None = None,
    cwd: Path = ROOT,
) -> subprocess.CompletedProcess:
    """Run ``python -m module args`` (from the project root by default), capturing output."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        input=stdin,
        timeout=600,
        check=False,
    )


def stop_process(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """Terminate *proc*, killing it if it does not exit within *timeout* seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def known_reader_failure(reason: str) -> pytest.MarkDecorator:
    """A case the shipped reader gets wrong today (issue 25 carries the numbers): it must
    keep failing until the reader improves, and then this mark must go (strict)."""
    return pytest.mark.xfail(strict=True, reason=f"reader (issue 25): {reason}")
