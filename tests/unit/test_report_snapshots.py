"""Snapshot tests: report.md and report.html of a small fixed evaluation.

The rows are hand-built in ``tests/report_fixture.py`` (no model, no store, no clock);
the expected files are ``tests/snapshots/report.md`` and ``report.html``. Any change to
what a report shows fails here with a diff. When the change is intended, regenerate the
snapshots and review them like code:

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/unit/test_report_snapshots.py -q
    git diff tests/snapshots/
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from rag.eval.htmlreport import render_html
from rag.eval.markdown import render_markdown
from tests.report_fixture import fixed_report

SNAPSHOTS = Path(__file__).parent.parent / "snapshots"
REGENERATE = "UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/unit/test_report_snapshots.py"


def check_snapshot(name: str, text: str) -> None:
    """*text* equals the snapshot *name* (written instead when UPDATE_SNAPSHOTS is set)."""
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path}; write it with: {REGENERATE}")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = difflib.unified_diff(
            expected.splitlines(), text.splitlines(), "snapshot", "rendered", lineterm=""
        )
        pytest.fail(f"{name} differs from {path} (if intended: {REGENERATE}):\n" + "\n".join(diff))


@pytest.mark.parametrize(
    ("name", "render"), [("report.md", render_markdown), ("report.html", render_html)]
)
def test_report_matches_its_snapshot(name, render):
    check_snapshot(name, render(fixed_report()))


def test_report_without_baseline_has_no_comparison():
    markdown = render_markdown(fixed_report(with_baseline=False))
    assert "## Compared with" not in markdown and "## Follow-ups" in markdown
