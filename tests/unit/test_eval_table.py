"""scripts.eval_table: the README's trust table from report folders."""

from __future__ import annotations

import json

from scripts import eval_table


def test_a_report_becomes_one_row_with_intervals_and_its_label(tmp_path, capsys) -> None:
    summary = {
        "label": "never tuned on (dev articles)",
        "scored": 1200,
        "answerable": 700,
        "unanswerable": 500,
        "metrics": {
            "grounded_precision": {"value": 0.734, "ci95": [0.7, 0.77]},
            "coverage": {"value": 0.5, "ci95": [0.46, 0.54]},
            "unanswerable_answered": {"value": None},
            "short_answer_em": {"value": 0.61, "ci95": [0.5, 0.7]},
        },
    }
    (tmp_path / "squad2-dev").mkdir()
    (tmp_path / "squad2-dev" / "report.json").write_text(json.dumps({"summary": summary}))
    (tmp_path / "unknown-set").mkdir()  # not a set of make eval: not listed
    eval_table.main([str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[2] == (
        "| squad2-dev | never tuned on (dev articles) | 1,200 (700 / 500) | 0.73 [0.70, 0.77] "
        "| 0.50 [0.46, 0.54] | – | 0.61 | – |"
    )
