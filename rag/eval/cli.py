"""``python -m rag.eval QA_FILE [--out DIR] [--k N] [--llm SPEC] [--baseline OLD] [--label T]``.

Checks every input first (the report folder, dataset rows, settings, answer provider,
baseline file) so a mistake fails in a second, not after the run; then opens the
default store (ingesting the seeds if it is empty), asks every question with a
progress bar on stderr, writes the reports into DIR and prints the summary table on
stdout.

``--llm SPEC`` chooses the answerer (``extractive``, ``llamacpp``, ``llamacpp:PATH``,
``ollama:MODEL``, ``openai:MODEL``; see :mod:`rag.llm.registry`) and also runs the judge
(:mod:`rag.eval.judge`): the deterministic one for ``extractive``, otherwise the same
chat model that answers, asked for a JSON verdict. ``--label TEXT`` says what the set
is for (e.g. "never tuned on (dev articles)"): it is recorded as ``label`` in
``report.json``'s summary and shown at the top of ``report.md`` and ``report.html``.
Expected problems (:class:`rag.errors.RagError`) print one line on stderr and exit
with code 2 (``--debug``: the traceback instead).

It holds no metric or report logic of its own.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.errors import OutputError
from rag.llm.registry import spec_forms

log = logging.getLogger(__name__)

DEFAULT_OUT = Path("reports/eval")


def _k(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 50:
        raise argparse.ArgumentTypeError("k must be between 1 and 50")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rag.eval",
        description="Evaluate the assistant offline on question/answer pairs and write a report.",
    )
    parser.add_argument("qa_file", type=Path, help="questions: .jsonl, .csv or SQuAD-style .json")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"report folder ({DEFAULT_OUT})"
    )
    parser.add_argument("--k", type=_k, default=None, help="passages retrieved per question")
    parser.add_argument(
        "--llm",
        default=None,
        metavar="SPEC",
        help=f"answer with this provider ({spec_forms()}) and judge the answers: without a "
        "model for extractive, else with it",
    )
    parser.add_argument("--baseline", type=Path, default=None, help="an earlier report.json")
    parser.add_argument(
        "--documents",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="score against a store of exactly these documents (built once, reused) "
        "instead of the default store",
    )
    parser.add_argument(
        "--label",
        default=None,
        metavar="TEXT",
        help='what this set is for, e.g. "never tuned on (dev articles)"; shown atop the reports',
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error instead of its line"
    )
    return parser


def check_out_dir(out: Path) -> None:
    """Make sure the reports can be written into *out*, before any row runs.

    Nothing is created: a missing *out* is fine when the folder it would go in can be
    written to (the reports create it at the end).

    Raises:
        OutputError: *out* is a file, or a folder that cannot be created or written to.
    """
    if out.exists() and not out.is_dir():
        raise OutputError(
            f"--out {out} is a file; give a folder for the reports (it is created if missing)."
        )
    existing = next(folder for folder in (out, *out.absolute().parents) if folder.exists())
    if not existing.is_dir():
        raise OutputError(f"--out {out} cannot be created: {existing} is a file, not a folder.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(
            f"--out {out} cannot be written to ({existing} is not writable); "
            "give a folder you can write to."
        )


def _progress(total: int) -> tuple[Any, Any]:
    from tqdm import tqdm

    bar = tqdm(total=total, unit="q", desc="eval", file=sys.stderr, disable=None)

    def tick(result: Any) -> None:
        bar.set_postfix_str(f"{result.id}: {result.diagnosis}", refresh=False)
        bar.update(1)

    return bar, tick


def generation_lines(summary: dict[str, Any]) -> str:
    """Time to first token, and what the model did when one answered."""
    first = summary.get("first_token_ms") or {}
    lines = [f"time to first token p50/p95 ms: {_ms(first.get('p50'))}/{_ms(first.get('p95'))}"]
    gen = summary.get("generation")
    if gen:
        lines.append(
            f"model {gen['spec']} ({gen.get('model', '')}): {gen['answered_by_model']} of "
            f"{gen['rows']} answers by the model, {gen['fallbacks']} extractive fallbacks, "
            f"{gen['unsupported_sentences_removed']} unsupported sentences removed"
        )
    return "\n".join(lines)


def judge_line(summary: dict[str, Any]) -> str | None:
    """Which judge ran and what became of its judgements (None when none ran)."""
    info = summary.get("judge")
    if not info:
        return None
    return (
        f"judge {info['provider']}: {info['ok']} ok, {info['failed']} failed, "
        f"{info['skipped']} skipped (refusals), {info['cached']} from the cache"
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def run(args: argparse.Namespace) -> int:
    """Run the evaluation described by *args*; returns the exit code."""
    from rag.eval.compare import load_baseline
    from rag.eval.dataset import load_dataset
    from rag.eval.judge import make_judge
    from rag.eval.markdown import summary_table
    from rag.eval.report import write_reports
    from rag.eval.runner import open_assistant, run_dataset
    from rag.llm.registry import make_chat_model, parse_spec
    from rag.settings_errors import load_settings

    check_out_dir(args.out)
    spec = parse_spec(args.llm) if args.llm else None
    rows = load_dataset(args.qa_file)
    baseline = load_baseline(args.baseline) if args.baseline else None
    overrides: dict[str, dict[str, Any]] = {"retrieval": {"k": args.k}} if args.k else {}
    if spec:
        overrides["llm"] = {"provider": str(spec)}
    settings = load_settings(**overrides)
    make_chat_model(settings)  # a missing package or key fails now, before any ingest
    if spec and spec.generative and settings.llm.temperature:
        log.warning("RAG_LLM_TEMPERATURE is not 0: the judge's verdicts will not be repeatable")
    assistant = open_assistant(settings, documents=args.documents)
    judge = make_judge(
        str(spec) if spec else None,
        assistant.encoder.encode,
        args.out / "judge_cache",
        model=assistant.llm,  # the answering model judges too; None for extractive
    )
    bar, tick = _progress(len(rows))
    try:
        report = run_dataset(
            args.qa_file,
            assistant,
            k=args.k,
            judge=judge,
            baseline=baseline,
            tick=tick,
            rows=rows,
            label=args.label,
        )
    finally:
        bar.close()
    paths = write_reports(report, args.out)
    print(summary_table(report["summary"], report.get("comparison")))
    print(generation_lines(report["summary"]))
    if line := judge_line(report["summary"]):
        print(line)
    print(f"\nReports: {', '.join(str(p) for p in paths)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    from rag.interfaces.cli import guarded

    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return guarded(lambda: run(args), "interrupted; no report written", debug=args.debug)
