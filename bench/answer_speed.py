"""Answer latency and ``ask`` cold start with the trained reader, on this machine.

``python -m bench.answer_speed [--store DIR] [--documents FOLDER]`` ingests FOLDER (default
``seeds/``) into a store of its own, asks the eval set's questions (new strings each time,
so no cache hits), and prints one JSON object: full answer p50/p95 and the answer step
alone, ``python -m rag ask`` cold start against a bare sentence-transformers model load
(the floor any pipeline on this model pays), and the machine. Results go into
docs/BENCHMARKS.md by hand, with the machine line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.machine import describe
from bench.run import _env, _timed_process
from rag.config import Settings
from rag.eval.dataset import load_dataset
from rag.eval.stores import open_eval_assistant

ROOT = Path(__file__).resolve().parent.parent
BARE_LOAD = (
    "import sentence_transformers; from rag.embeddings import bundled_model_path;"
    "sentence_transformers.SentenceTransformer(str(bundled_model_path())).encode(['warm'])"
)


def _pct(values: list[float], q: int) -> float:
    return round(statistics.quantiles(values, n=100)[q - 1], 1)


def answer_latency(folder: Path, questions: list[str], cache: Path) -> dict[str, Any]:
    """Full answers (retrieve + reader + decision) after one warm-up."""
    assistant = open_eval_assistant(Settings(_env_file=None, store={"cache_dir": cache}), folder)
    assistant.ask(questions[0])
    total, step = [], []
    for question in questions:
        started = time.perf_counter()
        answer = assistant.ask(question + " ")
        total.append((time.perf_counter() - started) * 1000)
        step.append(answer.timings_ms.get("answer", 0.0))
    return {
        "store": str(assistant.settings.store.store_dir),
        "chunks": assistant.store.count_chunks(),
        "questions": len(questions),
        "answer_total_ms": {"p50": _pct(total, 50), "p95": _pct(total, 95)},
        "answer_step_ms": {"p50": _pct(step, 50), "p95": _pct(step, 95)},
    }


def cold_starts(store: Path, question: str, runs: int) -> dict[str, Any]:
    """``rag ask`` process wall time vs a bare model load, *runs* each."""
    env = _env(RAG_STORE_DIR=str(store))
    ask = [
        _timed_process([sys.executable, "-m", "rag", "ask", question], env)[0] for _ in range(runs)
    ]
    bare = [_timed_process([sys.executable, "-c", BARE_LOAD], _env())[0] for _ in range(runs)]
    return {
        "ask_s": round(statistics.median(ask), 2),
        "bare_sentence_transformers_load_s": round(statistics.median(bare), 2),
        "ratio": round(statistics.median(ask) / statistics.median(bare), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=Path, default=ROOT / "seeds")
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "qa_calais.jsonl")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    questions = [row.question for row in load_dataset(args.questions)][:60]
    with tempfile.TemporaryDirectory() as cache:
        latency = answer_latency(args.documents, questions, Path(cache))
        cold = cold_starts(Path(latency["store"]), questions[0], args.runs)
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps({"machine": describe(), "load": load, **latency, **cold}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
