"""CLI polish: ``--k`` bounds, a reader that goes away (``| head -1``), ``remove``.

Argument checks and the broken-pipe handler run in-process over the canned
assistant; the rest runs on a real store (``integration``): in a subprocess where a
real pipe matters, in-process otherwise (``run_cli``, faster).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rag.interfaces.cli
from rag.interfaces.cli import EXIT_BROKEN_PIPE, main
from tests.conftest import ARTICLE, ROOT, make_settings, run_cli, run_module, store_env
from tests.fakes import CannedAssistant, answered


@pytest.mark.parametrize("command", ["ask", "chat"])
@pytest.mark.parametrize("k", ["0", "-1", "51", "two"])
def test_k_outside_the_settings_bounds_is_rejected(command, k, capsys) -> None:
    args = [command, "question"] if command == "ask" else [command]
    with pytest.raises(SystemExit) as stop:
        main([*args, "--k", k])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --k: must be a whole number of passages from 1 to 50, not '{k}'" in err


@pytest.mark.parametrize("k", ["1", "50"])
def test_k_at_the_bounds_is_accepted(k) -> None:
    assert rag.interfaces.cli._parser().parse_args(["ask", "q", "--k", k]).k == int(k)


class ClosedPipe:
    """A stdout whose reader has gone: every write fails as a real pipe would."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def isatty(self) -> bool:
        return False


@pytest.mark.parametrize("args", [["docs"], ["ask", answered().question, "--json"]])
def test_a_broken_pipe_ends_quietly_with_the_sigpipe_code(args, monkeypatch, capsys) -> None:
    CannedAssistant.answers = {answered().question: answered()}
    monkeypatch.setattr(rag.interfaces.cli, "_assistant", lambda llm=None: CannedAssistant())
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(args) == EXIT_BROKEN_PIPE == 141
    assert capsys.readouterr().err == ""


# ----- subprocesses ----------------------------------------------------------------------
@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """A store holding the article, in seeds/ and uploaded, built by the CLI."""
    settings = make_settings(tmp_path)
    settings.store.uploads_dir.mkdir(parents=True)
    shutil.copy(ARTICLE, settings.store.uploads_dir / ARTICLE.name)
    env = store_env(settings)
    ingest = run_cli(["ingest", "--json"], env)
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)["names_added"] == 1
    return env


def _with_stdout_closed(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """``python -m rag ARGS`` writing into a pipe nobody reads any more."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "rag", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=600,
            check=False,
        )
    finally:
        os.close(write)


def _assert_quiet_exit(
    done: subprocess.CompletedProcess, codes: tuple[int, ...] = (EXIT_BROKEN_PIPE,)
) -> None:
    assert done.returncode in codes, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


@pytest.mark.integration
def test_help_into_a_closed_pipe_has_no_traceback() -> None:
    # argparse prints help (ignoring a write error itself) and exits 0
    _assert_quiet_exit(_with_stdout_closed(["--help"], dict(os.environ)), (0, EXIT_BROKEN_PIPE))


@pytest.mark.integration
def test_docs_and_ask_into_a_closed_pipe_have_no_traceback(cli_env) -> None:
    _assert_quiet_exit(_with_stdout_closed(["docs"], cli_env))
    probe = run_module("rag", ["ask", "Who is Khushal?", "--json"], cli_env)
    assert probe.returncode == 0, probe.stderr  # ask must work before its pipe is tested
    _assert_quiet_exit(_with_stdout_closed(["ask", "Who is Khushal?"], cli_env))
    _assert_quiet_exit(_with_stdout_closed(["ask", "Who is Khushal?", "--json"], cli_env))


@pytest.mark.integration
def test_head_reading_one_line_then_leaving_is_quiet(cli_env) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag", "docs", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(1)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=600) in (0, EXIT_BROKEN_PIPE)
    assert "Traceback" not in err


@pytest.mark.integration
def test_docs_shows_display_names_and_remove_json_says_what_went(cli_env) -> None:
    docs = run_cli(["docs"], cli_env)
    assert docs.stdout.startswith("Fortress Calais") and "uploads" not in docs.stdout
    [listed] = json.loads(run_cli(["docs", "--json"], cli_env).stdout)["documents"]
    assert listed["display_name"].startswith("Fortress Calais") and len(listed["names"]) == 2

    unknown = run_cli(["remove", "fortress.txt"], cli_env)
    assert unknown.returncode == 2 and "Close matches" in unknown.stderr
    removed = run_cli(["remove", ARTICLE.name, "--json"], cli_env)
    assert removed.returncode == 0, removed.stderr
    data = json.loads(removed.stdout)
    assert data["source"] == listed["source"] and data["chunks"] == listed["chunks"]
    assert data["upload_deleted"].endswith(f"vectorstore/uploads/{ARTICLE.name}")
    assert not Path(data["upload_deleted"]).exists()
    [seed] = data["still_on_disk"]
    assert Path(seed).exists()
    assert json.loads(run_cli(["docs", "--json"], cli_env).stdout)["documents"] == []

    run_cli(["ingest"], cli_env)  # the seed comes back, as the help says
    human = run_cli(["remove", ARTICLE.name], cli_env)
    assert human.returncode == 0, human.stderr
    assert human.stdout.startswith("removed 'Fortress Calais")
    assert "still on disk, so ingesting it or its folder again adds it back" in human.stdout
    usage = " ".join(run_cli(["remove", "--help"], cli_env).stdout.split())
    assert "stay on disk" in usage and "re-adds a removed seed" in usage
