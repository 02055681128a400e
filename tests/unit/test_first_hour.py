"""First-hour polish that lives in configuration: what `make run` says while it installs,
and a Streamlit that does not watch the whole project (.venv included)."""

from __future__ import annotations

import subprocess
import tomllib

from tests.conftest import ROOT


def test_streamlit_watches_no_files() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"  # no inotify watch on .venv
    assert config["browser"]["gatherUsageStats"] is False


def test_make_run_says_what_it_does_on_a_first_install(tmp_path) -> None:
    # -n prints the recipe without running it; a missing venv forces the first-run steps.
    dry = subprocess.run(
        ["make", "-n", "run", f"VENV={tmp_path / 'venv'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "first run: creating" in dry.stdout and "minutes" in dry.stdout
    assert "installing the pinned packages" in dry.stdout
    assert "starting the chat page on http://127.0.0.1:8501" in dry.stdout
