"""``python -m rag.eval`` as a user runs it: a RAGAS-style CSV, a baseline, the judge, errors."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import make_settings, run_cli, store_env

# RAGAS's column names; `answerable` is ours (RAGAS has no unanswerable rows).
RAGAS_ROWS = [
    {
        "user_input": "Who is Theresa May's French counterpart?",
        "reference": "Bernard Cazeneuve",
        "reference_contexts": "['her French counterpart, Bernard Cazeneuve']",
        "response": "",
        "retrieved_contexts": "[]",
        "answerable": "",
    },
    {
        "user_input": "How much has the UK pledged towards security at the port?",
        "reference": "£22 million",
        "reference_contexts": "['The UK has so far pledged £22 million']",
        "response": "Some other system's answer",
        "retrieved_contexts": "['some other system''s passage']",
        "answerable": "",
    },
    {
        "user_input": "What did David Cameron call the migrants?",
        "reference": "a swarm",
        "reference_contexts": "",
        "response": "",
        "retrieved_contexts": "",
        "answerable": "",
    },
    {
        "user_input": "Who wrote Pride and Prejudice?",
        "reference": "",
        "reference_contexts": "",
        "response": "",
        "retrieved_contexts": "",
        "answerable": "false",
    },
]


def _eval(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """In-process (faster than a subprocess; the exit code and output are the same)."""
    return run_cli(args, env, module="rag.eval")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return store_env(make_settings(tmp_path))


@pytest.fixture
def ragas_csv(tmp_path: Path) -> Path:
    path = tmp_path / "ragas.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(RAGAS_ROWS[0]))
        writer.writeheader()
        writer.writerows(RAGAS_ROWS)
    return path


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gpt4all:x", "Unknown answer provider 'gpt4all:x'"),
        ("openai:gpt-4o", "openai:MODEL needs an API key"),  # no key, no base URL
    ],
)
def test_unusable_llm_fails_fast_with_a_clear_message(tmp_path, env, spec, message):
    out = tmp_path / "out"
    env = {k: v for k, v in env.items() if k != "OPENAI_API_KEY"}
    done = _eval(["eval/qa_calais.jsonl", "--out", str(out), "--llm", spec], env)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_malformed_file_names_the_line(tmp_path, env):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "a", "reference": "b"}\n{"question": "c"}\n', encoding="utf-8")
    done = _eval([str(bad), "--out", str(tmp_path / "out")], env)
    assert done.returncode == 2
    assert "bad.jsonl line 2: no reference answer" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.integration
def test_ragas_csv_into_an_empty_store_then_baseline_and_judge(tmp_path, env, ragas_csv):
    first_out, second_out = tmp_path / "first", tmp_path / "second"
    first = _eval([str(ragas_csv), "--out", str(first_out), "--llm", "extractive"], env)
    assert first.returncode == 0, first.stderr
    assert "Containment" in first.stdout and "latency p50/p95 ms" in first.stdout
    for name in ("report.json", "report.md", "report.html", "rows.csv", "metrics.svg"):
        assert (first_out / name).stat().st_size > 0
    report = json.loads((first_out / "report.json").read_text())
    summary = report["summary"]
    assert (summary["rows"], summary["answerable"], summary["unanswerable"]) == (4, 3, 1)
    assert summary["relevance_basis"] == {"evidence": 2, "reference": 1, "none": 1}
    assert summary["judge"]["ok"] + summary["judge"]["skipped"] == 4
    assert summary["judge"]["failed"] == 0
    assert summary["dataset"]["path"].endswith("ragas.csv")
    assert [row["id"] for row in report["rows"]] == ["line-2", "line-3", "line-4", "line-5"]

    second = _eval(
        [str(ragas_csv), "--out", str(second_out), "--llm", "extractive",
         "--baseline", str(first_out / "report.json"), "--k", "3"],
        env,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    again = json.loads((second_out / "report.json").read_text())
    assert again["summary"]["k"] == 3
    comparison = again["comparison"]
    assert comparison["settings_changed"]["k"] == [4, 3]
    assert {d["key"] for d in comparison["metrics"]} >= {"hit@3", "containment"}
    assert "change" in second.stdout
    assert "Compared with" in (second_out / "report.md").read_text()
